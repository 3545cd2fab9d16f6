"""Builders for SPEC Part II tests: deputies' and stations' keys, a station, messages."""

from __future__ import annotations

from typing import Any

from tests.builders import Api


def key_for(api: Api, role: str, **binding: str) -> dict[str, str]:
    """Headers of a new `deputy` or `station` key."""
    r = api.post("/api/v1/keys", json={"role": role, "label": f"test {role}", **binding})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


def zhang(api: Api) -> str:
    """The id of 张三, the sample city's deputy (13800000001)."""
    return str(api.get("/api/v1/deputies?phone=13800000001").json()["items"][0]["id"])


def deputy(api: Api, name: str = "李四", phone: str = "13900000002", district: str = "heshan") -> str:
    r = api.post(
        "/api/v1/deputies",
        "liaison",
        json={"name": name, "phone": phone, "level": "county", "district": district},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def message(
    api: Api, deputy_id: str, headers: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    """A message recorded by the liaison committee (or the station whose `headers` are given)."""
    body: dict[str, Any] = {
        "deputy_id": deputy_id,
        "channel": "paper",
        "content": "小区路灯坏了一个月",
        "district": "heshan",
        "voter": {"name": "王五", "phone": "13700000007"},
    }
    body.update(overrides)
    if headers is None:
        r = api.post("/api/v1/messages", "liaison", json=body)
    else:
        r = api.client.post("/api/v1/messages", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
