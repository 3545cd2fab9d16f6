"""A deputy's public code (一人一码): random, rotatable, disable-able, and its QR image."""

from __future__ import annotations

import io
import re

from sqlalchemy import create_engine, select

from app.models import DeputyCode
from tests.builders import problem
from tests.part2 import deputy, key_for, zhang


def test_the_qr_image_encodes_the_deputys_page_at_the_public_base_url(api):
    api.city()
    z = zhang(api)
    png = api.get(f"/api/v1/deputies/{z}/qr", "liaison")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    svg = api.get(f"/api/v1/deputies/{z}/qr?format=svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    # The same code each time until it is rotated: the rotation names the url it encodes.
    rotated = api.post(f"/api/v1/deputies/{z}/code/rotate", "liaison").json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{12,}", rotated["public_code"])
    assert rotated["url"] == f"http://testserver/d/{rotated['public_code']}"
    assert "13800000001" not in rotated["public_code"] and z not in rotated["public_code"]
    problem(api.get(f"/api/v1/deputies/{z}/qr?format=gif"), 422)


def test_a_decoded_qr_reads_the_page_url(api):
    import segno

    api.city()
    z = zhang(api)
    url = api.post(f"/api/v1/deputies/{z}/code/rotate").json()["url"]
    # Built the same way, the image is byte-for-byte what the service serves.
    expected = io.BytesIO()
    segno.make(url, error="m", micro=False).save(expected, kind="png", scale=8, border=4)
    assert api.get(f"/api/v1/deputies/{z}/qr").content == expected.getvalue()


def test_rotating_and_disabling_a_code(api):
    api.city()
    z = zhang(api)
    first = api.post(f"/api/v1/deputies/{z}/code/rotate").json()["public_code"]
    second = api.post(f"/api/v1/deputies/{z}/code/rotate", "liaison").json()["public_code"]
    assert first != second
    r = api.post(f"/api/v1/deputies/{z}/code/disable", "liaison")
    assert r.status_code == 204
    assert api.post(f"/api/v1/deputies/{z}/code/disable").status_code == 204  # idempotent
    problem(api.get(f"/api/v1/deputies/{z}/qr"), 409)  # no code is issued behind its back
    third = api.post(f"/api/v1/deputies/{z}/code/rotate").json()["public_code"]
    assert third not in (first, second)
    assert api.get(f"/api/v1/deputies/{z}/qr").status_code == 200
    problem(api.post("/api/v1/deputies/nobody/code/rotate"), 404)


def test_a_deputy_sees_its_own_qr_and_no_one_elses(api):
    api.city()
    z, li = zhang(api), deputy(api)
    mine = key_for(api, "deputy", deputy_id=z)
    assert api.client.get(f"/api/v1/deputies/{z}/qr", headers=mine).status_code == 200
    problem(api.client.get(f"/api/v1/deputies/{li}/qr", headers=mine), 404)
    problem(api.client.post(f"/api/v1/deputies/{z}/code/rotate", headers=mine), 403)
    problem(api.get(f"/api/v1/deputies/{z}/qr", "hotline"), 403)


def test_first_codes_issued_at_once_are_one_code(api):
    api.city()
    z = zhang(api)
    import asyncio

    import httpx

    headers = api.h("liaison")

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            rs = await asyncio.gather(
                *(client.get(f"/api/v1/deputies/{z}/qr?format=svg", headers=headers) for _ in range(40))
            )
            return [r.status_code for r in rs]

    codes = asyncio.run(burst())
    assert set(codes) <= {200, 503}, codes
    engine = create_engine(api.app.state.hotline.settings.database_url)
    with engine.connect() as conn:
        issued = list(conn.execute(select(DeputyCode.state).where(DeputyCode.deputy_id == z)))
    engine.dispose()
    assert [r.state for r in issued] == ["active"]
