"""Which methods a path answers: the `Allow` of a 405, and the literal paths a template shadows.

A path is served by the routes of its most specific template, a literal segment beating a
parameter (`/deputies/import` over `/deputies/{deputy_id}`), as the OpenAPI document reads.
Routing matches in order and stops at the first full match, so two things need help:
- a 405's `Allow` lists every method of the path (Starlette names only the first route
  that matched the path: `Allow: GET` for a path that also takes PUT and DELETE);
- a method that only a shadowing template takes (`GET /deputies/import`, read as the
  deputy "import") is answered 405 with the literal path's methods, not by that template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = "/api/"


@dataclass(frozen=True)
class _Template:
    path: str
    regex: re.Pattern[str]
    specificity: tuple[int, ...]  # 1 per literal segment, 0 per parameter
    methods: frozenset[str]


class MethodTable:
    """Every routed template with its methods, built once from the app's routes."""

    def __init__(self, app: FastAPI) -> None:
        by_path: dict[str, set[str]] = {}
        regex: dict[str, re.Pattern[str]] = {}
        for context in iter_route_contexts(app.routes):
            route = context.route
            methods = getattr(route, "methods", None)
            pattern = getattr(route, "path_regex", None)
            path = context.path
            if not methods or pattern is None or path is None:
                continue
            by_path.setdefault(path, set()).update(methods)
            regex[path] = pattern
        self._templates = [
            _Template(path, regex[path], _specificity(path), frozenset(methods))
            for path, methods in by_path.items()
        ]
        # Literal API paths that a template of another route also matches (only a template
        # with a parameter can: a literal one matches its own path alone).
        templated = [t for t in self._templates if "{" in t.path]
        self.shadowed: dict[str, frozenset[str]] = {
            t.path: t.methods
            for t in self._templates
            if t.path.startswith(API_PREFIX)
            and "{" not in t.path
            and any(o.regex.match(t.path) for o in templated)
        }

    def allowed(self, path: str) -> list[str]:
        """The methods of the most specific templates matching `path` (empty: none does)."""
        matching = [t for t in self._templates if t.regex.match(path)]
        if not matching:
            return []
        best = max(t.specificity for t in matching)
        methods: set[str] = set()
        for t in matching:
            if t.specificity == best:
                methods |= t.methods
        return sorted(methods)


def _specificity(path: str) -> tuple[int, ...]:
    return tuple(0 if segment.startswith("{") else 1 for segment in path.strip("/").split("/"))


def method_table(app: FastAPI) -> MethodTable:
    """The app's table, built at its first use (every route is registered by then)."""
    table: MethodTable | None = getattr(app.state, "method_table", None)
    if table is None:
        table = MethodTable(app)
        app.state.method_table = table
    return table


class ShadowedMethods:
    """Answers 405 (with `Allow`) for a method the literal API path does not take, rather
    than letting a template that happens to match the same path serve it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            table = method_table(scope["app"])
            methods = table.shadowed.get(scope["path"])
            if methods is not None and scope["method"] not in methods:
                from app.errors import method_not_allowed

                await method_not_allowed(sorted(methods))(scope, receive, send)
                return
        await self.app(scope, receive, send)
