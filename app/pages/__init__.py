"""Pages for the people at a desk (under /ui): signed-in, server-rendered, in Chinese.

One router per area of work; each calls the same service functions as `app.routers`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.pages.web import ROOT, PageHeaders


def install(app: FastAPI) -> None:
    """Mount the pages, their assets and their security headers."""
    from app.pages import (
        accounts,
        calendar,
        cases,
        decisions,
        duty,
        invitation_forms,
        invitations,
        keys,
        liaison,
        messages,
        registry,
        session,
        sso,
        station,
        stations,
        tickets,
        unit,
    )
    from app.pages.names import Names
    from app.services.dashboard import TrendCache

    for module in (
        session,
        sso,
        unit,
        tickets,
        cases,
        decisions,
        liaison,
        duty,
        accounts,
        registry,
        keys,
        calendar,
        messages,
        station,
        stations,
        invitations,
        invitation_forms,  # after invitations: /invitations/{id}/letter before /{what}
    ):
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.add_middleware(PageHeaders)
    app.state.dashboard_trends = TrendCache()
    app.state.names = Names()
