"""What the service answers to requests it cannot serve, and the OpenAPI document saying so.

Unparsable bodies (400, before the role's 403; 401 without a valid key), media types an
operation does not read (415), methods a path does not take (405 with every method it
does take in `Allow`), and /openapi.json documenting each of these as problem+json.
"""

from __future__ import annotations

from typing import Any

import pytest

PROBLEM = "application/problem+json"


def is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"] == PROBLEM, r.headers["content-type"]
    body: dict[str, Any] = r.json()
    assert body["status"] == status and {"type", "title", "detail"} <= body.keys()
    return body


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("raw", [b"{", b'{"name": ', b"\xff#", b'{"name": "\xff"}'], ids=repr)
def test_unparsable_json_body_is_400_naming_the_body(api: Any, raw: bytes) -> None:
    r = api.post("/api/v1/deputies", content=raw, headers=JSON)
    body = is_problem(r, 400)
    assert [e["field"] for e in body["errors"]] == ["body"]
    assert api.get("/api/v1/deputies").json()["items"] == []


@pytest.mark.parametrize("raw", [b"{", b"\xff#"], ids=repr)
def test_unparsable_body_is_400_before_the_roles_403(api: Any, raw: bytes) -> None:
    # hotline may not create keys: a well-formed body gets 403, an unparsable one 400
    is_problem(api.post("/api/v1/keys", "hotline", json={"role": "admin", "label": "x"}), 403)
    is_problem(api.post("/api/v1/keys", "hotline", content=raw, headers=JSON), 400)


@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer dhk_unknown"}], ids=["none", "bad"])
@pytest.mark.parametrize("raw", [b"{", b"\xff#"], ids=repr)
def test_unparsable_body_without_a_valid_key_is_401(api: Any, raw: bytes, auth: dict[str, str]) -> None:
    r = api.client.post("/api/v1/deputies", content=raw, headers={**JSON, **auth})
    is_problem(r, 401)


@pytest.mark.parametrize("ctype", ["application/json", "application/x-www-form-urlencoded", None])
def test_deputies_import_in_another_media_type_is_415(api: Any, ctype: str | None) -> None:
    csv = b"name,phone,level,district,delegation\n\xe5\xbc\xa0\xe4\xb8\x89,13800000001,city,,\n"
    headers = {"Content-Type": ctype} if ctype else {}
    is_problem(api.post("/api/v1/deputies/import", content=csv, headers=headers), 415)
    assert api.get("/api/v1/deputies").json()["items"] == []
    r = api.post("/api/v1/deputies/import", content=csv, headers={"Content-Type": "text/csv; charset=utf-8"})
    assert r.status_code == 200 and r.json()["created"] == 1, r.text


def test_deputies_import_bad_content_is_422(api: Any) -> None:
    r = api.post("/api/v1/deputies/import", content=b"nom,tel\nx,1\n", headers={"Content-Type": "text/csv"})
    assert is_problem(r, 422)["errors"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/v1/calendar/2025", "DELETE, GET, PUT"),
        ("POST", "/api/v1/calendar/2025", "DELETE, GET, PUT"),
        ("DELETE", "/api/v1/tickets", "GET, POST"),
        ("PUT", "/api/v1/deputies/d-1", "GET, PATCH"),
        ("OPTIONS", "/api/v1/units/water-bureau", "GET, PUT"),
        # /deputies/{deputy_id} also matches this path; it is not a deputy
        ("GET", "/api/v1/deputies/import", "POST"),
        ("PATCH", "/api/v1/deputies/import", "POST"),
        ("OPTIONS", "/api/v1/deputies/import", "POST"),
    ],
)
def test_405_allow_lists_every_method_the_path_takes(api: Any, method: str, path: str, allow: str) -> None:
    r = api.call(method, path)
    is_problem(r, 405)
    assert r.headers["allow"] == allow


def test_shadowed_path_still_serves_its_own_method_and_the_template_its_own(api: Any) -> None:
    r = api.post("/api/v1/deputies/import", content=b"", headers={"Content-Type": "text/csv"})
    assert r.status_code != 405
    d = api.post("/api/v1/deputies", json={"name": "张三", "phone": "13800000001", "level": "city"})
    assert api.get(f"/api/v1/deputies/{d.json()['id']}").status_code == 200


def _document(api: Any) -> dict[str, Any]:
    r = api.client.get("/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    ]


def test_openapi_documents_the_answers_of_every_operation(api: Any) -> None:
    doc = _document(api)
    missing = []
    for method, path, op in _operations(doc):
        need = {"401", "503"}
        if "requestBody" in op:
            need |= {"413", "422"}
            if "application/json" in op["requestBody"]["content"]:
                need.add("400")
        if op.get("parameters"):
            need.add("422")
        lacking = need - op["responses"].keys()
        if lacking:
            missing.append(f"{method.upper()} {path}: {sorted(lacking)}")
        if "Retry-After" not in op["responses"]["503"].get("headers", {}):
            missing.append(f"{method.upper()} {path}: 503 without Retry-After")
    assert not missing, "\n".join(missing)


def test_openapi_errors_are_problem_json_only(api: Any) -> None:
    doc = _document(api)
    wrong = []
    for method, path, op in _operations(doc):
        for code, response in op["responses"].items():
            if int(code) >= 400 and response.get("content") != {
                PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}
            }:
                wrong.append(f"{method.upper()} {path} {code}: {response.get('content')}")
    assert not wrong, "\n".join(wrong)


def test_openapi_documents_import_media_types_and_415(api: Any) -> None:
    op = _document(api)["paths"]["/api/v1/deputies/import"]["post"]
    assert {"415", "422", "400"} & op["responses"].keys() == {"415", "422"}
    assert set(op["requestBody"]["content"]) == {"text/csv", "text/plain", "application/csv"}


def test_openapi_documents_403_where_roles_are_restricted(api: Any) -> None:
    paths = _document(api)["paths"]
    assert "403" in paths["/api/v1/keys"]["post"]["responses"]
    assert "403" in paths["/api/v1/reports/monthly"]["get"]["responses"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/point-rules/meeting", {"name": "会议", "points": 2, "yearly_cap": False}, "yearly_cap"),
        ("/api/v1/point-rules/meeting", {"name": "会议", "points": True}, "points"),
    ],
)
def test_true_or_false_for_a_number_is_422_naming_the_field(
    api: Any, path: str, body: dict[str, Any], field: str
) -> None:
    # found by schemathesis's negative data: `false` was read as 0
    r = api.put(path, json=body)
    assert [e["field"] for e in is_problem(r, 422)["errors"]] == [field]
    ok = api.put(path, json={**body, field: 3})
    assert ok.status_code == 201, ok.text  # the refused PUT stored nothing: this one creates
    assert ok.json()[field] == 3


def test_a_number_for_a_date_is_422_naming_the_field(api: Any) -> None:
    # found by schemathesis's negative data: 0 was read as 1970-01-01
    term = {"level": "city", "name": "第十七届", "starts_on": 0, "ends_on": "2027-12-31"}
    r = api.put("/api/v1/terms/city-17", json=term)
    assert [e["field"] for e in is_problem(r, 422)["errors"]] == ["starts_on"]
    ok = api.put("/api/v1/terms/city-17", json={**term, "starts_on": "2022-01-01"})
    assert ok.status_code == 201 and ok.json()["starts_on"] == "2022-01-01", ok.text


@pytest.mark.parametrize("query", ["to=0", "from=1700000000", "to=2025-13-01"])
def test_a_query_date_that_is_not_yyyy_mm_dd_is_422(api: Any, query: str) -> None:
    r = api.get(f"/api/v1/stations/s-1/receptions?{query}")
    assert [e["field"] for e in is_problem(r, 422)["errors"]] == [query.split("=")[0]]
