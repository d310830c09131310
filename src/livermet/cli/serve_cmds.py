"""`livermet serve` (the MDT web application) and `livermet users` (accounts)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from livermet.cli.common import JSON_OPTION, err, fail, print_json

users_app = typer.Typer(help="Web application accounts: list, add, reset a password, API tokens.",
                        no_args_is_help=True)


def _settings(data_dir: Optional[Path], **kw):
    from livermet.web.settings import Settings, SettingsError

    try:
        return Settings.from_env(data_dir=data_dir, **kw)
    except SettingsError as exc:
        fail(str(exc))


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (127.0.0.1: this machine only)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port (1-65535)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir",
                                            help="Folder for the SQLite database and uploaded images "
                                                 "(default ./livermet-data, or LIVERMET_DATA_DIR)."),
    workers_jobs: bool = typer.Option(True, "--jobs/--no-jobs", help="Run the background job worker."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Server processes (more use more CPU cores; each runs the job worker)."),
    session_idle_minutes: Optional[float] = typer.Option(
        None, "--session-idle-minutes",
        help="Log a session out after this many minutes without a request "
             "(default 30, or LIVERMET_SESSION_IDLE_MINUTES)."),
) -> None:
    """Start the MDT web application (worklist, case editor, CT viewer, results, API).

    The database is SQLite in the data folder unless LIVERMET_DATABASE_URL names PostgreSQL;
    its schema is migrated at start. On the first start an admin account is created and its
    password printed once (or taken from LIVERMET_ADMIN_PASSWORD).
    """
    import logging

    import uvicorn

    from livermet.web.app import create_app
    from livermet.web.settings import SettingsError

    settings = _settings(data_dir, start_worker=workers_jobs, session_idle_minutes=session_idle_minutes)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        app = create_app(settings)
    except SettingsError as exc:
        fail(str(exc))
    except Exception as exc:  # database unreachable, migration failure...
        fail(f"the web application could not start: {type(exc).__name__}: {exc}",
             hint="check LIVERMET_DATABASE_URL and that the data folder is writable")
    err.print(f"livermet: serving on http://{host}:{port}/  (data: {Path(settings.data_dir).resolve()})",
              highlight=False)
    if host not in ("127.0.0.1", "localhost", "::1"):
        # Patient data over plain HTTP on a network: say so, every start.
        err.print(f"[bold yellow]warning:[/] listening on {host} over plain HTTP: patient data and "
                  "passwords cross the network unencrypted. Put livermet behind a TLS reverse "
                  "proxy (nginx, Caddy) and keep --host 127.0.0.1.", highlight=False)
    # Our own access log (route templates only) replaces uvicorn's, which would log query strings.
    if workers == 1:
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="info", proxy_headers=False)
        return
    import os

    app.state.engine.dispose()  # migrated and admin created here; the workers only open the database
    os.environ["LIVERMET_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    os.environ["LIVERMET_SECRET_KEY"] = settings.with_secret().secret_key
    os.environ["LIVERMET_JOBS"] = "1" if workers_jobs else "0"
    os.environ["LIVERMET_SESSION_IDLE_MINUTES"] = str(settings.session_idle_minutes)
    uvicorn.run("livermet.web.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                access_log=False, log_level="info", proxy_headers=False)


@users_app.command("list")
def users_list(data_dir: Optional[Path] = typer.Option(None, "--data-dir"), json_out: bool = JSON_OPTION) -> None:
    """List the accounts."""
    from sqlalchemy import select

    from livermet.web import services
    from livermet.web.models import User

    Session = _open(data_dir)
    with Session() as db:
        users = [services.user_state(u) for u in db.scalars(select(User).order_by(User.id))]
    if json_out:
        print_json(users)
        return
    from rich.table import Table

    from livermet.cli.common import out

    t = Table("id", "user", "role", "active", "locked")
    for u in users:
        t.add_row(str(u["id"]), u["username"], u["role"], "yes" if u["active"] else "no", "yes" if u["locked"] else "")
    out.print(t)


@users_app.command("add")
def users_add(username: str, role: str = typer.Option(..., "--role", help="admin, clinician, coordinator or viewer"),
              password: Optional[str] = typer.Option(None, "--password", help="[default: generated and printed]"),
              data_dir: Optional[Path] = typer.Option(None, "--data-dir")) -> None:
    """Create an account."""
    from livermet.web import services
    from livermet.web.security import new_password

    Session = _open(data_dir)
    pw = password or new_password()
    with Session() as db:
        try:
            services.create_user(db, services.Actor(None, "cli", "admin"), username, pw, role)
        except services.ServiceError as exc:
            fail(exc.message)
    if not password:
        err.print(f"password for {username}: {pw}", highlight=False, markup=False)


@users_app.command("set-password")
def users_set_password(username: str, password: Optional[str] = typer.Option(None, "--password"),
                       data_dir: Optional[Path] = typer.Option(None, "--data-dir")) -> None:
    """Reset a password (and unlock the account)."""
    from sqlalchemy import select

    from livermet.web import services
    from livermet.web.models import User
    from livermet.web.security import new_password

    Session = _open(data_dir)
    pw = password or new_password()
    with Session() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            fail(f"no user named {username!r}", hint="`livermet users list` shows them")
        try:
            services.update_user(db, services.Actor(None, "cli", "admin"), user.id, password=pw, unlock=True)
        except services.ServiceError as exc:
            fail(exc.message)
    if not password:
        err.print(f"new password for {username}: {pw}", highlight=False, markup=False)


@users_app.command("token")
def users_token(username: str, label: str = typer.Option("", "--label"),
                data_dir: Optional[Path] = typer.Option(None, "--data-dir")) -> None:
    """Create an API token (Authorization: Bearer ...) for scripts and CDS Hooks clients."""
    from sqlalchemy import select

    from livermet.web.models import User
    from livermet.web.security import create_api_token

    Session = _open(data_dir)
    with Session() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            fail(f"no user named {username!r}")
        typer.echo(create_api_token(db, user, label))


def _open(data_dir: Optional[Path]):
    from livermet.web import db as dbmod

    settings = _settings(data_dir)
    try:
        engine = dbmod.make_engine(settings.db_url)
        dbmod.upgrade(engine)
    except Exception as exc:
        fail(f"cannot open the database: {type(exc).__name__}: {exc}")
    return dbmod.make_sessionmaker(engine)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
