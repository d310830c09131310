"""Request dependencies: database session, who is asking, what they may do, CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from livermet.web.security import SESSION_COOKIE, lookup_api_token, lookup_session, tokens_equal
from livermet.web.services import Actor

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# What each role may do. Every route names one of these permissions.
PERMISSIONS = {
    "admin": {"read", "edit", "images", "admin"},
    "clinician": {"read", "edit", "images"},
    "coordinator": {"read", "edit"},
    "viewer": {"read"},
}


class NotAuthenticated(Exception):
    pass


@dataclass
class Principal:
    user_id: int
    username: str
    role: str
    csrf_token: str | None  # None when authenticated by API token (no ambient credential)
    via: str

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.username, self.role)

    def can(self, perm: str) -> bool:
        return perm in PERMISSIONS.get(self.role, set())


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A database session for the request. An async dependency on purpose: creating and
    closing a session does no slow I/O, and a sync generator would cost two thread-pool
    hops on every request (measured with bench/service.py). Requests with a safe method get
    a read session (``db.make_read_sessionmaker``: autocommit on PostgreSQL)."""
    state = request.app.state
    db = (state.read_sessionmaker if request.method in SAFE_METHODS else state.sessionmaker)()
    try:
        yield db
    finally:
        db.close()


def current_principal(request: Request, db: Session) -> Principal | None:
    cached = getattr(request.state, "principal", "unset")
    if cached != "unset":
        return cached
    principal = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = lookup_api_token(db, auth[7:].strip())
        if user is not None:
            principal = Principal(user.id, user.username, user.role, None, "token")
    else:
        s = request.app.state.settings
        found = lookup_session(db, request.cookies.get(SESSION_COOKIE), idle_minutes=s.session_idle_minutes,
                               hours=s.session_hours)
        if found is not None:
            principal = Principal(found.user_id, found.username, found.role, found.csrf_token, "session")
    request.state.principal = principal
    return principal


async def _check_csrf(request: Request, principal: Principal) -> None:
    if request.method in SAFE_METHODS or principal.via == "token":
        return
    sent = request.headers.get("x-csrf-token")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            sent = form.get("csrf_token")
    if not tokens_equal(sent, principal.csrf_token):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again "
                                 "(API clients send the X-CSRF-Token header from /api/me).")


def require(perm: str):
    """Dependency: the caller is logged in, may ``perm``, and (for changes) sent the CSRF token."""

    async def dep(request: Request, db: Session = Depends(get_db)) -> Principal:
        principal = current_principal(request, db)
        if principal is None:
            raise NotAuthenticated()
        if not principal.can(perm):
            raise HTTPException(403, f"Your role ({principal.role}) may not do this "
                                     f"(needs permission '{perm}').")
        await _check_csrf(request, principal)
        return principal

    dep.permission = perm  # used by the route-enumeration security test
    return dep


def is_api_path(path: str) -> bool:
    return path.startswith(("/api/", "/cds-services", "/openapi.json"))
