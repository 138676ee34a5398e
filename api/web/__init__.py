"""The web app for people who do not write code, served by the gateway itself under ``/web``.

Server-rendered Jinja2 templates with htmx as progressive enhancement: no JS build step, every page
works without JavaScript, and every asset (one CSS file, htmx) is in this package, so it works offline.
Each page calls the ``/v1`` API in-process with the signed-in organisation's credential, so it can do
nothing a caller could not do over the API, under the same rules and problem codes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import desk, session, timeline
from api.web.headers import SecurityHeaders
from api.web.inbox import router as inbox_router
from api.web.pages import router

__all__ = ["install_web"]

STATIC = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    """Mount the web pages, their static assets and the security headers on every ``/web`` response."""
    app.add_exception_handler(session.SignInRequired, session.to_sign_in)
    app.include_router(router)
    app.include_router(timeline.router)
    app.include_router(inbox_router)
    app.include_router(desk.router)
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_middleware(SecurityHeaders)
