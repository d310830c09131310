"""Storage operations shared by the JSON API and the pages: cases with optimistic
concurrency, the append-only audit log, users. No clinical logic here."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livermet.web import library
from livermet.web.models import AuditEntry, CaseRow, User, utcnow
from livermet.web.security import hash_password

STATUSES = ("new", "ready", "discussed", "follow_up")


class ServiceError(Exception):
    status_code = 400

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class Invalid(ServiceError):
    status_code = 422


@dataclass
class Actor:
    user_id: int | None
    username: str
    role: str


_AUDIT_INSERT = AuditEntry.__table__.insert()


def audit(db: Session, actor: Actor, action: str, entity: str, entity_id, before=None, after=None) -> None:
    """Append an audit row in the caller's transaction (committed with its change). A plain
    INSERT: the table is append-only (database triggers refuse UPDATE and DELETE)."""
    db.execute(_AUDIT_INSERT, {"at": utcnow(), "user_id": actor.user_id, "username": actor.username,
                               "action": action, "entity": entity, "entity_id": str(entity_id),
                               "before": before, "after": after})


def _search_text(data: dict) -> str:
    p = data.get("patient") or {}
    parts = [data.get("id"), p.get("name"), p.get("mrn"), (data.get("primary") or {}).get("site")]
    return " ".join(str(x) for x in parts if x).lower()


def case_summary(row: CaseRow) -> dict:
    d = row.data or {}
    p = d.get("patient") or {}
    return {"pk": row.id, "case_id": row.case_id, "meeting_date": row.meeting_date,
            "status": row.status, "archived": row.archived, "version": row.version,
            "patient_name": p.get("name"), "site": (d.get("primary") or {}).get("site"),
            "updated_at": row.updated_at.isoformat(timespec="seconds") + "Z"}


def case_state(row: CaseRow) -> dict:
    return {"case_id": row.case_id, "meeting_date": row.meeting_date, "status": row.status,
            "archived": row.archived, "version": row.version, "data": row.data}


def check_case(data: dict) -> list[dict]:
    """Validate with the library; raise ``Invalid`` when there are errors."""
    if not isinstance(data, dict):
        raise Invalid("The case must be a JSON object.", problems=[])
    if not data.get("id") or not isinstance(data.get("id"), str):
        raise Invalid("The case needs an 'id' (text), e.g. \"demo-crc-001\".",
                      problems=[{"path": "id", "value": data.get("id"), "expected": "non-empty text",
                                 "message": "missing case id", "severity": "error", "hint": None}])
    problems = library.validate_case(data)
    errors = [p for p in problems if p.get("severity") == "error"]
    if errors:
        raise Invalid(f"The case has {len(errors)} error(s); see the messages by field.", problems=problems)
    return problems


def list_cases(db: Session, *, q: str | None = None, status: str | None = None,
               meeting_date: str | None = None, archived: bool = False, limit: int = 500) -> list[CaseRow]:
    stmt = select(CaseRow).where(CaseRow.archived.is_(archived))
    if status:
        stmt = stmt.where(CaseRow.status == status)
    if meeting_date:
        stmt = stmt.where(CaseRow.meeting_date == meeting_date)
    if q:
        like = f"%{q.lower().strip()}%"
        stmt = stmt.where(or_(CaseRow.search_text.like(like), func.lower(CaseRow.case_id).like(like)))
    stmt = stmt.order_by(CaseRow.meeting_date.is_(None), CaseRow.meeting_date, CaseRow.case_id).limit(limit)
    return list(db.scalars(stmt))


_SUMMARY_COLUMNS = (CaseRow.id, CaseRow.case_id, CaseRow.meeting_date, CaseRow.status, CaseRow.archived,
                    CaseRow.version, CaseRow.updated_at,
                    CaseRow.data["patient"]["name"].as_string().label("patient_name"),
                    CaseRow.data["primary"]["site"].as_string().label("site"))
_SUMMARY_STMTS: dict = {}


def _summary_stmt(q: bool, status: bool, meeting_date: bool):
    """The worklist query for one combination of filters, built once (values are bound)."""
    key = (q, status, meeting_date)
    stmt = _SUMMARY_STMTS.get(key)
    if stmt is None:
        stmt = select(*_SUMMARY_COLUMNS).where(CaseRow.archived == bindparam("archived"))
        if status:
            stmt = stmt.where(CaseRow.status == bindparam("status"))
        if meeting_date:
            stmt = stmt.where(CaseRow.meeting_date == bindparam("meeting_date"))
        if q:
            stmt = stmt.where(or_(CaseRow.search_text.like(bindparam("like")),
                                  func.lower(CaseRow.case_id).like(bindparam("like"))))
        stmt = _SUMMARY_STMTS[key] = (stmt.order_by(CaseRow.meeting_date.is_(None), CaseRow.meeting_date,
                                                    CaseRow.case_id).limit(bindparam("limit")))
    return stmt


def list_case_summaries(db: Session, *, q: str | None = None, status: str | None = None,
                        meeting_date: str | None = None, archived: bool = False, limit: int = 500) -> list[dict]:
    """``case_summary`` of each case ``list_cases`` finds (same filters, same order), read as
    plain columns: the patient's name and the primary site come out of the stored document
    in SQL, so the documents themselves are not loaded (the worklist runs often)."""
    params = {"archived": bool(archived), "status": status, "meeting_date": meeting_date, "limit": limit,
              "like": f"%{q.lower().strip()}%" if q else None}
    rows = db.connection().execute(_summary_stmt(bool(q), bool(status), bool(meeting_date)), params)
    return [{"pk": r.id, "case_id": r.case_id, "meeting_date": r.meeting_date, "status": r.status,
             "archived": r.archived, "version": r.version, "patient_name": r.patient_name, "site": r.site,
             "updated_at": r.updated_at.isoformat(timespec="seconds") + "Z"} for r in rows]


def get_case(db: Session, pk: int) -> CaseRow:
    row = db.get(CaseRow, pk)
    if row is None:
        raise NotFound(f"No case with number {pk}.")
    return row


_CASE_READ = select(*CaseRow.__table__.columns).where(CaseRow.id == bindparam("pk"))


def read_case(db: Session, pk: int):
    """A case for reading only (API reads): a plain row with the same attributes as a
    ``CaseRow``, fetched by one prepared statement without ORM bookkeeping."""
    row = db.connection().execute(_CASE_READ, {"pk": pk}).first()
    if row is None:
        raise NotFound(f"No case with number {pk}.")
    return row


_CASE_VERSION = select(CaseRow.version).where(CaseRow.id == bindparam("pk"))


def case_version(db: Session, pk: int) -> int:
    """The stored version of a case (one small query; the per-version caches are keyed on it)."""
    version = db.connection().execute(_CASE_VERSION, {"pk": pk}).scalar()
    if version is None:
        raise NotFound(f"No case with number {pk}.")
    return version


def find_case_by_id(db: Session, case_id: str) -> CaseRow | None:
    return db.scalar(select(CaseRow).where(CaseRow.case_id == case_id))


def create_case(db: Session, actor: Actor, data: dict, *, status: str = "new",
                action: str = "create") -> tuple[CaseRow, list[dict]]:
    problems = check_case(data)
    if status not in STATUSES:
        raise Invalid(f"status={status!r}: expected one of {', '.join(STATUSES)}")
    if find_case_by_id(db, data["id"]) is not None:
        raise Conflict(f"A case with id {data['id']!r} exists already; open it, or import with another id.")
    row = CaseRow(case_id=data["id"], meeting_date=data.get("meeting_date"), status=status,
                  archived=False, data=data, search_text=_search_text(data), version=1,
                  created_at=utcnow(), updated_at=utcnow(), created_by=actor.user_id,
                  updated_by=actor.user_id)
    db.add(row)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise Conflict(f"A case with id {data['id']!r} exists already.") from None
    audit(db, actor, action, "case", row.id, None, case_state(row))
    db.commit()
    return row, problems


class StoredCase:
    """A case as stored: the columns of ``CaseRow`` as attributes, without ORM bookkeeping
    (what ``update_case`` returns; ``case_summary`` and ``case_state`` read it like a row)."""

    __slots__ = tuple(c.key for c in CaseRow.__table__.columns)

    def __init__(self, values: dict):
        for name in self.__slots__:
            setattr(self, name, values[name])


_CASES = CaseRow.__table__
# The SET clause comes from each call's parameter names (compiled once per set of columns).
_CASE_UPDATE = _CASES.update().where(_CASES.c.id == bindparam("b_pk"), _CASES.c.version == bindparam("b_version"))


def update_case(db: Session, actor: Actor, pk: int, version: int, *, data: dict | None = None,
                status: str | None = None, archived: bool | None = None,
                action: str = "update") -> tuple[StoredCase, list[dict]]:
    """Change a case only if nobody changed it since ``version`` (else ``Conflict``, 409).

    One guarded UPDATE (``WHERE id = pk AND version = version``) and one audit row, in one
    transaction; the row is read and written as plain SQL (this runs on every edit)."""
    current = read_case(db, pk)
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise Invalid(f"version={version!r}: expected the integer version you loaded") from None
    if current.version != version:
        raise Conflict(_stale_message(current, version), current_version=current.version)
    before = case_state(current)  # a fresh read: nothing else holds these objects
    values: dict = {"version": current.version + 1, "updated_at": utcnow(), "updated_by": actor.user_id}
    problems: list[dict] = []
    if data is not None:
        problems = check_case(data)
        if data["id"] != current.case_id:
            other = find_case_by_id(db, data["id"])
            if other is not None and other.id != current.id:
                raise Conflict(f"Another case already has id {data['id']!r}.")
        # what the database will hold (and a read will return): the document through JSON
        stored = json.loads(json.dumps(data))
        values.update(data=stored, case_id=stored["id"], meeting_date=stored.get("meeting_date"),
                      search_text=_search_text(stored))
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status={status!r}: expected one of {', '.join(STATUSES)}")
        values["status"] = status
    if archived is not None:
        values["archived"] = bool(archived)
    res = db.execute(_CASE_UPDATE, dict(values, b_pk=pk, b_version=version))
    if res.rowcount != 1:  # someone else won the race between our read and this write
        db.rollback()
        current = read_case(db, pk)
        raise Conflict(_stale_message(current, version), current_version=current.version)
    row = StoredCase({**current._mapping, **values})
    audit(db, actor, action, "case", pk, before, case_state(row))
    db.commit()
    held = db.identity_map.get(db.identity_key(CaseRow, pk))
    if held is not None:  # a CaseRow the caller loaded earlier in this session is now out of date
        db.expire(held)
    return row, problems


def _stale_message(row: CaseRow, version: int) -> str:
    return (f"This case was changed by someone else since you opened it (you had version {version}, "
            f"it is now version {row.version}). Your changes were NOT saved: reload the case, "
            "then apply your changes again.")


def create_user(db: Session, actor: Actor, username: str, password: str, role: str) -> User:
    from livermet.web.settings import ROLES

    username = (username or "").strip()
    if not username or len(username) > 80:
        raise Invalid(f"username={username!r}: expected 1-80 characters")
    if role not in ROLES:
        raise Invalid(f"role={role!r}: expected one of {', '.join(ROLES)}")
    if len(password or "") < 8:
        raise Invalid("password: expected at least 8 characters")
    if db.scalar(select(User).where(User.username == username)):
        raise Conflict(f"A user named {username!r} exists already.")
    user = User(username=username, password_hash=hash_password(password), role=role, active=True,
                failed_logins=0, created_at=utcnow())
    db.add(user)
    db.flush()
    audit(db, actor, "create", "user", user.id, None, user_state(user))
    db.commit()
    return user


def user_state(u: User) -> dict:
    return {"id": u.id, "username": u.username, "role": u.role, "active": u.active,
            "locked": bool(u.locked_until and u.locked_until > utcnow())}


def update_user(db: Session, actor: Actor, user_id: int, *, role: str | None = None,
                active: bool | None = None, unlock: bool = False, password: str | None = None) -> User:
    from livermet.web.settings import ROLES

    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with number {user_id}.")
    before = user_state(user)
    if role is not None:
        if role not in ROLES:
            raise Invalid(f"role={role!r}: expected one of {', '.join(ROLES)}")
        user.role = role
    if active is not None:
        user.active = bool(active)
    if unlock:
        user.locked_until = None
        user.failed_logins = 0
    if password is not None:
        if len(password) < 8:
            raise Invalid("password: expected at least 8 characters")
        user.password_hash = hash_password(password)
    after = user_state(user)
    if password is not None:
        after["password"] = "changed"
    audit(db, actor, "update", "user", user.id, before, after)
    db.commit()
    return user


def change_own_password(db: Session, actor: Actor, current: str, new: str, *, attempts: int,
                        lock_minutes: float, keep_session: str | None = None) -> User:
    """A user changes their own password: the current one is checked as at log-in (failures
    count towards the lock-out); the new one needs 8 characters and must differ from the
    current one and the user name. The user's other sessions end (audited, no hashes logged)."""
    from livermet.web.security import authenticate, end_user_sessions

    user = db.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFound("No such user.")
    new = new or ""
    if len(new) < 8:
        raise Invalid("new_password: expected at least 8 characters")
    if new == current:
        raise Invalid("new_password: expected a password different from the current one")
    if new.strip().lower() == user.username.lower():
        raise Invalid("new_password: expected something other than your user name")
    res = authenticate(db, user.username, current or "", attempts=attempts, lock_minutes=lock_minutes)
    if res.user is None:
        raise Invalid("current_password: wrong" + (" (the account is now locked)" if "locked" in res.reason else ""))
    user = res.user
    user.password_hash = hash_password(new)
    audit(db, actor, "change_password", "user", user.id, None, {"password": "changed"})
    db.commit()
    ended = end_user_sessions(db, user.id, keep_token=keep_session)
    if ended:
        audit(db, actor, "end_sessions", "user", user.id, None, {"sessions_ended": ended})
        db.commit()
    return user
