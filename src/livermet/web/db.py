"""Engine creation and schema migrations (Alembic, configured in code: no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=20, max_overflow=40)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=20, max_overflow=40)
    _ping_after_idle(engine)
    return engine


# A pooled connection unused for this long is checked (SELECT 1) before it is handed out.
PING_AFTER_IDLE_S = 10.0


def _ping_after_idle(engine: Engine, idle_s: float | None = None) -> None:
    """Check a pooled connection before use only when it has been idle (overnight, or while
    the database restarted): a dead one is replaced (SQLAlchemy's pessimistic disconnect
    handling, with a checkout event). ``pool_pre_ping`` did the same on every checkout, which
    is a database round trip on every request. A connection that breaks while in use still
    makes SQLAlchemy discard the whole pool, so only the requests in flight then see the error."""
    import time

    from sqlalchemy import exc

    limit = PING_AFTER_IDLE_S if idle_s is None else idle_s

    @event.listens_for(engine, "connect")
    def _connected(dbapi_conn, record):
        record.info["livermet_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn, record):
        record.info["livermet_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, proxy):
        since = record.info.get("livermet_idle_since")
        if since is not None and time.monotonic() - since < limit:
            return
        try:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT 1")
            finally:
                cur.close()
            if not getattr(dbapi_conn, "autocommit", False):
                dbapi_conn.rollback()  # end the transaction the ping opened
        except Exception as err:  # noqa: BLE001 - any failure: the pool connects again
            raise exc.DisconnectionError(f"pooled connection unusable ({type(err).__name__})") from err


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: Engine) -> sessionmaker:
    """Sessions for requests that only read (GET, HEAD). On PostgreSQL their connections run
    in autocommit: each statement is its own transaction, so a read costs its query's round
    trip and not also a BEGIN and a ROLLBACK. Such a request may still write one statement at
    a time (the session's idle deadline): nothing in a safe-method request needs two writes to
    be atomic, and a handler that did would belong under POST/PUT. SQLite starts no
    transaction for a SELECT anyway: the usual sessions."""
    if engine.dialect.name != "postgresql":
        return make_sessionmaker(engine)
    return sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (run at every start-up; a no-op when current)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
