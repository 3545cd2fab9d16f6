"""Interactive API docs (/docs, /redoc) served with no CDN: the assets ship in fastapi-offline."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from app.deps import OneTripRoute
from app.errors import NotFound

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/docs/assets"
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}

router = APIRouter(route_class=OneTripRoute, include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path") or "")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    app = request.app
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
        swagger_js_url=f"{root}{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{root}{PREFIX}/favicon.png",
        swagger_ui_parameters=app.swagger_ui_parameters,
    )


@router.get("/docs/oauth2-redirect")
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    app = request.app
    return get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{root}{PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{PREFIX}/favicon.png",
        with_google_fonts=False,
    )


@router.get(PREFIX + "/{name}")
def asset(name: str) -> FileResponse:
    """Only the files named above; they change only with the package, so cache a day."""
    if name not in FILES:
        raise NotFound(f"no docs asset {name}")
    return FileResponse(
        ASSETS / name, media_type=FILES[name], headers={"Cache-Control": "public, max-age=86400"}
    )
