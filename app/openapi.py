"""The served OpenAPI document, completed with every answer the service gives.

FastAPI documents what each route declares; the answers that come from the layers around
the routes are added here, in one place, for every API operation:
- 400 (a body that cannot be parsed), 413 (over HOTLINE_MAX_BODY_BYTES) and 422 for an
  operation that takes a body; 422 for one that takes parameters;
- 401 (no valid key) for every operation that needs a key, and 403 when its roles are
  restricted (the `reader`/`writer` dependency names them);
- 503 with `Retry-After` for every operation behind the admission gates and the database
  (saturated, or a bounded wait ran out).
Every error is `application/problem+json` with the `Problem` schema, and nothing else.
A method that a path does not list is answered 405 with `Allow` (app.allow); the
`MethodNotAllowed` response in the components describes it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from app.allow import API_PREFIX
from app.errors import PROBLEM

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "put", "post", "delete", "patch")

_DESCRIPTIONS = {
    400: "the body cannot be parsed (not well-formed JSON, not UTF-8); "
    "answered before a 403, as the body is read first",
    401: "no key, or an unknown or revoked key",
    403: "the key's role may not do this",
    404: "no such thing, or not visible to this key",
    409: "the state forbids it",
    413: "the body is over the size limit",
    415: "the body's media type is not one this operation reads",
    422: "the request is well-formed but invalid; `errors` names each field",
    503: "saturated, or a bounded wait ran out; nothing changed: retry after `Retry-After` seconds",
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before retrying",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


def _problem(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or _DESCRIPTIONS.get(status, "error"),
        "content": {PROBLEM: {"schema": PROBLEM_REF}},
    }
    if status == 503:
        response["headers"] = RETRY_AFTER
    return response


def _restricted(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of the operations whose context admits only some roles."""
    out: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context.route, "dependant", None)
        if dependant is None or context.path is None or not _names_roles(dependant):
            continue
        for method in getattr(context.route, "methods", None) or ():
            out.add((method.lower(), context.path))
    return out


def _names_roles(dependant: Any) -> bool:
    if getattr(dependant.call, "hotline_roles", ()):
        return True
    return any(_names_roles(d) for d in dependant.dependencies)


def complete(document: dict[str, Any], restricted: set[tuple[str, str]]) -> dict[str, Any]:
    """Add the answers every API operation can give, and make every error problem+json."""
    for path, item in document.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            needed: set[int] = {503}
            if operation.get("security"):
                needed.add(401)
            if (method, path) in restricted:
                needed.add(403)
            if operation.get("parameters"):
                needed.add(422)
            if "requestBody" in operation:
                needed |= {413, 422}
                if any(_is_json(media) for media in operation["requestBody"].get("content", {})):
                    needed.add(400)
            for status in needed:
                responses.setdefault(str(status), {})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    described = response.get("description")
                    generic = described in (None, "", "Unprocessable Entity") or described == _http_phrase(
                        code
                    )
                    responses[code] = {
                        **response,
                        **_problem(int(code), None if generic else described),
                    }
    components = document.setdefault("components", {})
    components.setdefault("responses", {})["MethodNotAllowed"] = {
        "description": "the path does not take this method; `Allow` lists those it takes",
        "headers": {"Allow": {"required": True, "schema": {"type": "string"}}},
        "content": {PROBLEM: {"schema": PROBLEM_REF}},
    }
    return document


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _http_phrase(code: str) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return ""


def install(app: FastAPI) -> None:
    """Serve the completed document at the app's openapi_url."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate(), _restricted(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
