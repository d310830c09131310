"""Passwords (argon2id, memory-hard), sessions, CSRF tokens, API tokens, lock-out."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from livermet.web.models import ApiToken, SessionRow, User, utcnow

_HASHER = PasswordHasher()  # argon2id, library defaults (64 MiB, t=3)
# Verified against when the user does not exist, so that timing does not reveal usernames.
_DUMMY_HASH = _HASHER.hash("not-a-real-password-" + secrets.token_hex(8))

SESSION_COOKIE = "livermet_session"
LOGIN_CSRF_COOKIE = "livermet_login_csrf"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def tokens_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class LoginResult:
    def __init__(self, user: User | None, reason: str = ""):
        self.user = user
        self.reason = reason


def authenticate(db: Session, username: str, password: str, *, attempts: int,
                 lock_minutes: float) -> LoginResult:
    """Check a password; count failures and lock the account after ``attempts`` in a row."""
    user = db.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return LoginResult(None, "Unknown user or wrong password.")
    if user.locked_until and user.locked_until > now:
        verify_password(_DUMMY_HASH, password)
        return LoginResult(None, "This account is locked after repeated failed log-ins; "
                                 "try again later or ask an administrator to unlock it.")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= attempts:
            user.locked_until = now + dt.timedelta(minutes=lock_minutes)
            user.failed_logins = 0
        db.commit()
        if user.locked_until and user.locked_until > now:
            return LoginResult(None, "This account is locked after repeated failed log-ins; "
                                     "try again later or ask an administrator to unlock it.")
        return LoginResult(None, "Unknown user or wrong password.")
    user.failed_logins = 0
    user.locked_until = None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.commit()
    return LoginResult(user)


def create_session(db: Session, user: User, hours: float, idle_minutes: float | None = None) -> tuple[str, SessionRow]:
    """A new session. ``expires_at`` is the idle deadline (moved forward by activity, see
    ``lookup_session``), never later than ``created_at + hours``."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    life = dt.timedelta(hours=hours)
    if idle_minutes is not None:
        life = min(life, dt.timedelta(minutes=idle_minutes))
    row = SessionRow(id_hash=sha256_hex(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                     created_at=now, expires_at=now + life)
    db.add(row)
    # Expired sessions of anyone are cleaned up on log-in.
    db.execute(delete(SessionRow).where(SessionRow.expires_at < utcnow()))
    db.commit()
    return token, row


_SESSION_COLUMNS = (SessionRow.id_hash, SessionRow.csrf_token, SessionRow.created_at, SessionRow.expires_at,
                    SessionRow.user_id, User.username, User.role, User.active)


# Built once, run as plain SQL (no ORM objects): this runs on every request.
_SESSION_STMT = (select(*_SESSION_COLUMNS).join(User, User.id == SessionRow.user_id)
                 .where(SessionRow.id_hash == bindparam("h")))


class LiveSession:
    """What a request needs to know about its session (read without ORM objects: this runs
    on every request)."""

    __slots__ = ("id_hash", "csrf_token", "created_at", "expires_at", "user_id", "username", "role")

    def __init__(self, r):
        (self.id_hash, self.csrf_token, self.created_at, self.expires_at, self.user_id, self.username,
         self.role) = r[:7]


def lookup_session(db: Session, token: str | None, *, idle_minutes: float | None = None,
                   hours: float | None = None) -> LiveSession | None:
    """The live session of ``token`` with its user, or None (unknown, expired, idle too long,
    user disabled). With ``idle_minutes``, activity moves the idle deadline forward (at most
    to ``created_at + hours``); the row is written at most about once a minute per session."""
    if not token:
        return None
    found = db.connection().execute(_SESSION_STMT, {"h": sha256_hex(token)}).first()
    if found is None:
        return None
    now = utcnow()
    if found.expires_at < now or not found.active:
        return None
    row = LiveSession(found)
    if idle_minutes is not None:
        idle = dt.timedelta(minutes=idle_minutes)
        new = now + idle
        if hours is not None:
            new = min(new, row.created_at + dt.timedelta(hours=hours))
        if new - row.expires_at > min(dt.timedelta(seconds=60), idle / 2):
            db.execute(update(SessionRow).where(SessionRow.id_hash == row.id_hash).values(expires_at=new))
            db.commit()
            row.expires_at = new
    return row


def end_user_sessions(db: Session, user_id: int, keep_token: str | None = None) -> int:
    """End every session of a user (but ``keep_token``'s); the number ended."""
    stmt = delete(SessionRow).where(SessionRow.user_id == user_id)
    if keep_token:
        stmt = stmt.where(SessionRow.id_hash != sha256_hex(keep_token))
    n = db.execute(stmt).rowcount
    db.commit()
    return n or 0


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(SessionRow).where(SessionRow.id_hash == sha256_hex(token)))
        db.commit()


def create_api_token(db: Session, user: User, label: str = "") -> str:
    token = "lmt_" + secrets.token_urlsafe(32)
    db.add(ApiToken(token_hash=sha256_hex(token), user_id=user.id, label=label))
    db.commit()
    return token


def lookup_api_token(db: Session, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(token)))
    if row is None or row.revoked:
        return None
    user = db.get(User, row.user_id)
    return user if user is not None and user.active else None


def new_password() -> str:
    return secrets.token_urlsafe(12)
