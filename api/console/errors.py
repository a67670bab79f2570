"""Business errors on console pages: a login redirect when signed out, else an error page."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from api.auth.dependencies import Unauthorized
from api.console.rendering import render
from core.errors import MonetaError

LOGIN_PATH = "/console/login"


def console_error(request: Request, exc: MonetaError) -> Response:
    if isinstance(exc, Unauthorized):
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": LOGIN_PATH})
        return RedirectResponse(LOGIN_PATH, status_code=303)
    identity = getattr(request.state, "identity", None)
    came_from = urlsplit(request.headers.get("referer") or "").path
    back = came_from if came_from.startswith("/console") else "/console"
    return render(
        request,
        "error.html",
        identity,
        status_code=exc.status_code,
        error=exc,
        back=back,
    )
