#!/usr/bin/env python3
"""Do the lock files still answer pyproject.toml's dependencies? (Standard library only: it
runs before anything is installed.)

Each lock file carries a fingerprint of what it was resolved from: requires-python, the
dependencies, every extra, and the build backend. Any change there makes the locks stale.

  scripts/lockcheck.py                   check; one line and exit 1 if stale or missing
  scripts/lockcheck.py --stamp FILE...   write the current fingerprint into FILEs (scripts/lock)
  scripts/lockcheck.py --build-requires  print [build-system] requires, one a line
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements.lock", "requirements-dev.lock", "requirements-build.lock")
MARK = "# pyproject-sha256: "


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def fingerprint() -> str:
    data = pyproject()
    project = data["project"]
    assert isinstance(project, dict)
    inputs = {
        "requires-python": project.get("requires-python"),
        "dependencies": sorted(" ".join(d.split()) for d in project.get("dependencies", [])),
        "optional-dependencies": {
            extra: sorted(" ".join(d.split()) for d in deps)
            for extra, deps in sorted(project.get("optional-dependencies", {}).items())
        },
        "build-system": sorted(data.get("build-system", {}).get("requires", [])),  # type: ignore[union-attr]
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def stamped(path: Path) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(MARK):
            return line[len(MARK) :].strip()
    return None


def stamp(path: Path, value: str) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith(MARK)]
    path.write_text("\n".join([MARK + value, *lines]) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--build-requires"]:
        print("\n".join(pyproject().get("build-system", {}).get("requires", [])))  # type: ignore[union-attr]
        return 0
    current = fingerprint()
    if argv[:1] == ["--stamp"]:
        for name in argv[1:]:
            stamp(Path(name), current)
        return 0
    for name in LOCKS:
        path = ROOT / name
        if not path.is_file():
            print(f"{name} is missing: run scripts/lock and commit the lock files")
            return 1
        if stamped(path) != current:
            print(
                f"{name} does not match pyproject.toml's dependencies (changed since it was "
                "locked): run scripts/lock and commit the lock files"
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
