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


def _check_listen(host: str, port: int) -> None:
    """Refuse, before the database is migrated or an admin password printed, an address this
    machine cannot listen on (a port in use, a host that is not one of its addresses, a
    privileged port): uvicorn would say so only after "serving on ..." and exit 3 or 1."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        fail(f"--host {host}: not an address this machine can listen on "
             f"({getattr(exc, 'strerror', None) or exc})",
             hint="127.0.0.1 (this machine only, the default) or one of this machine's addresses "
                  "(behind a TLS reverse proxy)")
    family, socktype, proto, _, address = infos[0]
    with socket.socket(family, socktype, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"--port {port}: already in use on {host} (another livermet or another program "
                     "listens there)",
                     hint=f"choose another port (e.g. --port {port + 1 if port < 65535 else 8000}) or "
                          f"stop the program that listens on it (`ss -ltnp 'sport = :{port}'` shows it)")
            if exc.errno == errno.EACCES:
                fail(f"--port {port}: this account may not listen on it (ports below 1024 need "
                     "administrator rights)",
                     hint="use a port from 1024 up, e.g. --port 8000, behind a reverse proxy")
            if exc.errno == errno.EADDRNOTAVAIL:
                fail(f"--host {host}: not an address of this machine",
                     hint="127.0.0.1 (this machine only, the default) or one of this machine's "
                          "addresses")
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


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

    if session_idle_minutes is not None and not session_idle_minutes > 0:
        # checked here: the settings would name the environment variable, not the option given
        fail(f"--session-idle-minutes {session_idle_minutes:g}: expected a number of minutes > 0 "
             "(e.g. 30)")
    settings = _settings(data_dir, start_worker=workers_jobs, session_idle_minutes=session_idle_minutes)
    _check_listen(host, port)
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


DATA_DIR_OPTION = typer.Option(
    None, "--data-dir",
    help="The web application's data folder, as given to `livermet serve` (default "
         "./livermet-data, or LIVERMET_DATA_DIR; LIVERMET_DATABASE_URL names PostgreSQL).")
USERNAME_ARGUMENT = typer.Argument(..., help="The account's user name.", show_default=False)


@users_app.command("list")
def users_list(data_dir: Optional[Path] = DATA_DIR_OPTION, json_out: bool = JSON_OPTION) -> None:
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
def users_add(username: str = USERNAME_ARGUMENT,
              role: str = typer.Option(..., "--role", help="admin, clinician, coordinator or viewer"),
              password: Optional[str] = typer.Option(
                  None, "--password", show_default=False,
                  help="At least 8 characters. Default: one is generated and printed once (a "
                       "password on the command line is visible to this machine's other users)."),
              data_dir: Optional[Path] = DATA_DIR_OPTION,
              json_out: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout: "
                                            "username, role and the generated password (or null).")) -> None:
    """Create an account (in a new database if the data folder has none yet)."""
    from livermet.web import services
    from livermet.web.security import new_password

    Session = _open(data_dir, create=True)
    pw = password or new_password()
    with Session() as db:
        try:
            services.create_user(db, services.Actor(None, "cli", "admin"), username, pw, role)
        except services.ServiceError as exc:
            fail(exc.message)
        from sqlalchemy import func, select

        from livermet.web.models import User

        if not db.scalar(select(func.count()).select_from(User).where(User.role == "admin")):
            # `livermet serve` creates the first administrator only in a database without users
            err.print("warning: this database has no administrator now, and `livermet serve` will "
                      "not create one: add one with `livermet users add NAME --role admin`",
                      highlight=False, markup=False)
    if json_out:
        print_json({"username": username, "role": role, "password": None if password else pw})
    elif not password:
        err.print(f"password for {username}: {pw}", highlight=False, markup=False)


@users_app.command("set-password")
def users_set_password(username: str = USERNAME_ARGUMENT,
                       password: Optional[str] = typer.Option(
                           None, "--password", show_default=False,
                           help="The new password, at least 8 characters. Default: one is "
                                "generated and printed once."),
                       data_dir: Optional[Path] = DATA_DIR_OPTION,
                       json_out: bool = typer.Option(False, "--json", help="Machine-readable JSON on "
                                                     "stdout: username and the generated password (or null).")) -> None:
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
    if json_out:
        print_json({"username": username, "password": None if password else pw})
    elif not password:
        err.print(f"new password for {username}: {pw}", highlight=False, markup=False)


@users_app.command("token")
def users_token(username: str = USERNAME_ARGUMENT,
                label: str = typer.Option("", "--label", help="What the token is for (e.g. the "
                                          "script or EHR that uses it), kept beside it."),
                data_dir: Optional[Path] = DATA_DIR_OPTION,
                json_out: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout: "
                                              "username, label and token.")) -> None:
    """Create an API token (Authorization: Bearer ...) for scripts and CDS Hooks clients.

    The token is printed once on stdout; livermet keeps only its hash.
    """
    from sqlalchemy import select

    from livermet.web.models import User
    from livermet.web.security import create_api_token

    Session = _open(data_dir)
    with Session() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            fail(f"no user named {username!r}", hint="`livermet users list` shows them")
        token = create_api_token(db, user, label)
    if json_out:
        print_json({"username": username, "label": label, "token": token})
    else:
        typer.echo(token)


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL (None for another database or an in-memory one)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix):] in ("", ":memory:"):
        return None
    return Path(url[len(prefix):])


def _open(data_dir: Optional[Path], create: bool = False):
    """The web application's database. Only ``users add`` may create it: listing, a token or
    a password reset in a folder without one means the wrong folder (a new empty database
    there would list no users and hold tokens the server never sees)."""
    from livermet.web import db as dbmod

    settings = _settings(data_dir)
    url = settings.db_url
    sqlite_file = _sqlite_file(url)
    created = sqlite_file is not None and not sqlite_file.exists()
    if created and not create:
        fail(f"no livermet database in {Path(settings.data_dir).resolve()} "
             f"({sqlite_file.name} is missing)",
             hint="pass the data folder `livermet serve` uses: --data-dir PATH or LIVERMET_DATA_DIR "
                  "(or LIVERMET_DATABASE_URL for PostgreSQL)")
    try:
        engine = dbmod.make_engine(url)
        dbmod.upgrade(engine)
    except Exception as exc:
        fail(f"cannot open the database: {type(exc).__name__}: {exc}")
    if created:
        err.print(f"created a new livermet database in {Path(settings.data_dir).resolve()}",
                  highlight=False, markup=False)
    return dbmod.make_sessionmaker(engine)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
