"""The review queue's web app: server-rendered pages (FastAPI and Jinja2, a
little plain JavaScript, no build step).

Security, because the chart page shows PHI inside the covered entity:
- a signed session cookie (HttpOnly, SameSite=Strict, Secure when served over
  TLS) that holds only the user id and the CSRF token;
- every POST carries the session's CSRF token, compared in constant time;
- every route checks the user and role, and a coder sees only their own
  workgroups' items (``transforms.review.queue``);
- logins are rate-limited per user name (``transforms.review.users``);
- pages are never cached, may not be framed, and run only the app's own script;
- the request log carries the method, route, status and time: no query strings,
  no form fields, no note text.
"""

# No "from __future__ import annotations": FastAPI reads the route signatures at
# runtime, and the signed_in dependency is local to create_app.

import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from pipeline.review.chart import note_segments
from transforms.review import queue
from transforms.review.codesearch import CodeSearch
from transforms.review.queue import QueueFilter, Reviewer, ReviewError
from transforms.review.scorecard import build_scorecard
from transforms.review.users import authenticate, reviewer_by_id

LOGGER = logging.getLogger("deidcode.review")
HERE = Path(__file__).parent
SESSION_HOURS = 8
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
}


@dataclass(frozen=True)
class AppSettings:
    engine: sa.Engine
    session_secret: bytes
    secure_cookies: bool
    codes: CodeSearch


class NeedLogin(Exception):
    """No user in the session: pages redirect to the login, other requests get 401."""


def create_app(settings: AppSettings) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["fromjson"] = json.loads
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    engine, codes = settings.engine, settings.codes

    @app.middleware("http")
    async def harden(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        route = request.scope.get("route")
        LOGGER.info(
            "%s %s %d %.0f ms",
            request.method,
            getattr(route, "path", "?"),  # the template (/items/{item_id}), never a query
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    # Added after the logging middleware, so it runs first and sessions exist there.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.decode("latin-1"),
        session_cookie="deidcode_review",
        max_age=SESSION_HOURS * 3600,
        same_site="strict",
        https_only=settings.secure_cookies,
    )

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = request.session["csrf"] = secrets.token_urlsafe(32)
        return token

    def check_csrf(request: Request, token: str) -> None:
        expected = request.session.get("csrf", "")
        if not expected or not hmac.compare_digest(expected, token):
            raise HTTPException(status_code=403, detail="missing or wrong CSRF token")

    def form_token_checked(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
        check_csrf(request, csrf_token)

    # Every POST route takes this, so none can forget its CSRF check.
    csrf_ok = Annotated[None, Depends(form_token_checked)]

    def current_reviewer(request: Request) -> Reviewer:
        user_id = request.session.get("user_id")
        if user_id is None:
            raise NeedLogin()
        with engine.connect() as connection:
            reviewer = reviewer_by_id(connection, int(user_id))
        if reviewer is None:
            request.session.clear()
            raise NeedLogin()
        return reviewer

    signed_in = Annotated[Reviewer, Depends(current_reviewer)]

    def lead(reviewer: signed_in) -> Reviewer:
        if reviewer.role not in ("lead", "admin"):
            raise HTTPException(status_code=403, detail="the scorecard is for leads and admins")
        return reviewer

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("reviewer", None)
        return templates.TemplateResponse(
            request, name, {"csrf": csrf_token(request), **context}, status_code=status
        )

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, _: NeedLogin) -> Response:
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/login", status_code=303)
        return JSONResponse({"detail": "log in first"}, status_code=401)

    @app.exception_handler(ReviewError)
    async def refused(request: Request, exc: ReviewError) -> Response:
        return page(request, "error.html", exc.status, message=str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return page(request, "error.html", exc.status_code, message=str(exc.detail))

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return page(request, "login.html")

    @app.post("/login")
    def login(
        request: Request,
        _csrf: csrf_ok,
        username: str = Form(...),
        password: str = Form(...),
    ) -> Response:
        reviewer = authenticate(engine, username, password)
        if reviewer is None:
            return page(request, "login.html", 401, message="wrong user name or password")
        request.session.clear()  # a new session id and token after login
        request.session["user_id"] = reviewer.user_id
        request.session["csrf"] = secrets.token_urlsafe(32)
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    def logout(request: Request, _csrf: csrf_ok) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    def queue_filter(values: Any) -> QueueFilter:
        """The queue filters of a query string or a form (the claim button's)."""
        return QueueFilter(
            workgroup=values.get("workgroup") or None,
            min_hcc_impact=_number(values.get("min_hcc_impact", "")),
            min_confidence=_number(values.get("min_confidence", "")),
            max_confidence=_number(values.get("max_confidence", "")),
        )

    @app.get("/", response_class=HTMLResponse)
    def my_queue(request: Request, reviewer: signed_in) -> Response:
        wanted = queue_filter(request.query_params)
        with engine.connect() as connection:
            held = queue.held_item(connection, reviewer, queue.utcnow())
        return page(
            request,
            "queue.html",
            reviewer=reviewer,
            wanted=wanted,
            rows=queue.list_queue(engine, reviewer, wanted),
            counts=queue.queue_counts(engine, reviewer),
            held=held,
            message=request.query_params.get("message"),
        )

    @app.post("/claim")
    def claim(
        request: Request,
        reviewer: signed_in,
        _csrf: csrf_ok,
        workgroup: str = Form(""),
        min_hcc_impact: str = Form(""),
        min_confidence: str = Form(""),
        max_confidence: str = Form(""),
    ) -> Response:
        wanted = queue_filter(
            {
                "workgroup": workgroup,
                "min_hcc_impact": min_hcc_impact,
                "min_confidence": min_confidence,
                "max_confidence": max_confidence,
            }
        )
        item_id = queue.claim_next(engine, reviewer, wanted)
        if item_id is None:
            return RedirectResponse("/?message=no+chart+is+waiting", status_code=303)
        return RedirectResponse(f"/items/{item_id}", status_code=303)

    @app.get("/items/{item_id}", response_class=HTMLResponse)
    def chart(request: Request, item_id: int, reviewer: signed_in) -> Response:
        shown = queue.open_chart(engine, reviewer, item_id)
        return page(
            request,
            "chart.html",
            reviewer=reviewer,
            chart=shown,
            segments=note_segments(shown.item.note_text or "", shown.suggestions),
            decided={d.suggestion_id: d for d in shown.decisions if d.suggestion_id},
            added=[d for d in shown.decisions if d.suggestion_id is None],
            reasons=queue.REASONS,
            history=[(event, json.loads(event.detail)) for event in shown.history],
            pending=len(shown.suggestions)
            - sum(1 for d in shown.decisions if d.suggestion_id is not None),
        )

    @app.post("/items/{item_id}/decide")
    def decide(
        request: Request,
        reviewer: signed_in,
        _csrf: csrf_ok,
        item_id: int,
        action: str = Form(...),
        suggestion_id: str = Form(""),
        code: str = Form(""),
        reason_code: str = Form(""),
        comment: str = Form(""),
    ) -> Response:
        queue.decide(
            engine,
            reviewer,
            item_id,
            action=action,
            suggestion_id=int(suggestion_id) if suggestion_id.isdigit() else None,
            code=code or None,
            reason_code=reason_code or None,
            comment=comment or None,
            billable=codes.billable,
        )
        return RedirectResponse(f"/items/{item_id}", status_code=303)

    @app.post("/items/{item_id}/withdraw")
    def withdraw(
        request: Request,
        reviewer: signed_in,
        _csrf: csrf_ok,
        item_id: int,
        decision_id: int = Form(...),
    ) -> Response:
        queue.withdraw(engine, reviewer, item_id, decision_id)
        return RedirectResponse(f"/items/{item_id}", status_code=303)

    @app.post("/items/{item_id}/release")
    def release(
        request: Request,
        reviewer: signed_in,
        _csrf: csrf_ok,
        item_id: int,
    ) -> Response:
        queue.release(engine, reviewer, item_id)
        return RedirectResponse("/", status_code=303)

    @app.post("/items/{item_id}/submit")
    def submit(
        request: Request,
        reviewer: signed_in,
        _csrf: csrf_ok,
        item_id: int,
    ) -> Response:
        queue.submit(engine, reviewer, item_id)
        following = queue.claim_next(engine, reviewer)  # the next chart loads on submit
        if following is None:
            return RedirectResponse("/?message=submitted;+no+chart+is+waiting", status_code=303)
        return RedirectResponse(f"/items/{following}", status_code=303)

    @app.get("/codes/search")
    def search_codes(_: signed_in, q: str = "") -> list[dict[str, str]]:
        return [{"code": hit.code, "title": hit.title} for hit in codes.search(q)]

    @app.get("/scorecard", response_class=HTMLResponse)
    def scorecard(request: Request, reviewer: Annotated[Reviewer, Depends(lead)]) -> Response:
        groups = None if reviewer.role == "admin" else reviewer.workgroups
        return page(
            request,
            "scorecard.html",
            reviewer=reviewer,
            card=build_scorecard(engine, workgroups=groups),
        )

    return app


def _number(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        raise HTTPException(status_code=400, detail="a filter is not a number") from None
