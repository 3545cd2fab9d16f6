"""scripts/lockcheck.py: the lock files must answer pyproject.toml's dependencies."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ("requirements.lock", "requirements-dev.lock", "requirements-build.lock")


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(folder / "scripts" / "lockcheck.py")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def copy_project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lockcheck.py", tmp_path / "scripts")
    for name in ("pyproject.toml", *LOCKS):
        shutil.copy(ROOT / name, tmp_path / name)
    subprocess.run(
        [
            sys.executable,
            str(tmp_path / "scripts" / "lockcheck.py"),
            "--stamp",
            *(str(tmp_path / n) for n in LOCKS),
        ],
        check=True,
        timeout=30,
    )
    return tmp_path


def test_a_dependency_added_without_relocking_fails_with_one_line(tmp_path):
    project = copy_project(tmp_path)
    assert check(project).returncode == 0
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("dependencies = [\n", 'dependencies = [\n  "jinja2>=3.1",\n', 1), encoding="utf-8"
    )
    stale = check(project)
    assert stale.returncode == 1
    assert stale.stdout.count("\n") == 1 and "run scripts/lock" in stale.stdout


def test_a_dev_extra_or_build_backend_change_also_needs_a_relock(tmp_path):
    project = copy_project(tmp_path)
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(original.replace('"pytest>=8",', '"pytest>=8.1",'), encoding="utf-8")
    assert check(project).returncode == 1
    pyproject.write_text(original.replace('"setuptools>=69"', '"setuptools>=70"'), encoding="utf-8")
    assert check(project).returncode == 1
    # what the resolver does not read (tool settings, the version) needs none
    pyproject.write_text(original.replace("line-length = 110", "line-length = 100"), encoding="utf-8")
    assert check(project).returncode == 0


def test_a_missing_lock_file_is_named(tmp_path):
    project = copy_project(tmp_path)
    (project / "requirements.lock").unlink()
    missing = check(project)
    assert missing.returncode == 1 and "requirements.lock is missing" in missing.stdout
