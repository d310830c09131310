"""Settings of the web application, validated before anything starts.

Nothing here runs at import time: ``Settings.from_env()`` reads the environment when the
``livermet serve`` command (or a test) asks for it, and ``create_app(settings)`` builds the
application from the result.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "placeholder"}
ROLES = ("admin", "clinician", "coordinator", "viewer")


class SettingsError(ValueError):
    """A setting is wrong; the message names it, its value and what is expected."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./livermet-data")
    database_url: str | None = None  # None: SQLite file in data_dir
    secret_key: str = ""  # empty: generated and kept in data_dir/secret_key (development)
    production: bool = False
    admin_username: str = "admin"
    admin_password: str | None = None
    max_upload_mb: float = 1024.0
    max_unzipped_mb: float = 4096.0
    max_zip_ratio: float = 200.0
    max_zip_members: int = 5000
    lockout_attempts: int = 5
    lockout_minutes: float = 15.0
    session_hours: float = 12.0  # absolute lifetime of a session
    session_idle_minutes: float = 30.0  # a session without a request for this long ends
    start_worker: bool = True
    job_processes: int = 1  # volumetry in a separate process (0: in the worker thread)
    cookie_secure: bool | None = None  # None: secure in production
    # CDS Hooks "Trusting CDS Clients": a JSON file of the EHRs (issuers) whose signed JWTs
    # /cds-services accepts, with their public JWK Sets (docs/cds-hooks.md). None: only
    # livermet's own API tokens and sessions are accepted there.
    cds_trusted_issuers: Path | None = None
    # The public base URL of this livermet as the EHR calls it (e.g. https://livermet.hospital.example):
    # a JWT's aud must be this + /cds-services[/{id}]. None: taken from each request's URL.
    cds_base_url: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Read ``LIVERMET_*`` variables; keyword overrides win (used by the CLI options)."""
        env = os.environ
        kw: dict = {}
        if env.get("LIVERMET_DATA_DIR"):
            kw["data_dir"] = Path(env["LIVERMET_DATA_DIR"])
        if env.get("LIVERMET_DATABASE_URL"):
            kw["database_url"] = env["LIVERMET_DATABASE_URL"]
        if "LIVERMET_SECRET_KEY" in env:
            kw["secret_key"] = env["LIVERMET_SECRET_KEY"]
        if env.get("LIVERMET_PRODUCTION"):
            kw["production"] = _parse_bool("LIVERMET_PRODUCTION", env["LIVERMET_PRODUCTION"])
        if env.get("LIVERMET_ADMIN_PASSWORD"):
            kw["admin_password"] = env["LIVERMET_ADMIN_PASSWORD"]
        if env.get("LIVERMET_CDS_TRUSTED_ISSUERS"):
            kw["cds_trusted_issuers"] = Path(env["LIVERMET_CDS_TRUSTED_ISSUERS"]).resolve()
        if env.get("LIVERMET_CDS_BASE_URL"):
            kw["cds_base_url"] = env["LIVERMET_CDS_BASE_URL"]
        for name, conv in (("max_upload_mb", float), ("lockout_attempts", int),
                           ("lockout_minutes", float), ("session_hours", float),
                           ("session_idle_minutes", float), ("max_unzipped_mb", float)):
            key = "LIVERMET_" + name.upper()
            if env.get(key):
                try:
                    kw[name] = conv(env[key])
                except ValueError:
                    raise SettingsError(f"{key}={env[key]!r}: expected a number") from None
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kw).validated()

    def validated(self) -> "Settings":
        s = self
        if s.production and s.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise SettingsError(
                "LIVERMET_SECRET_KEY is missing or a placeholder while LIVERMET_PRODUCTION is on: "
                "set it to a long random value, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
        if s.production and len(s.secret_key) < 32:
            raise SettingsError(f"LIVERMET_SECRET_KEY has {len(s.secret_key)} characters: "
                                "expected at least 32 in production mode")
        if s.lockout_attempts < 1:
            raise SettingsError(f"lockout_attempts={s.lockout_attempts}: expected >= 1")
        if not s.session_idle_minutes > 0:
            raise SettingsError(f"LIVERMET_SESSION_IDLE_MINUTES={s.session_idle_minutes}: expected a number of "
                                "minutes > 0 (e.g. 30)")
        if not s.session_hours > 0:
            raise SettingsError(f"LIVERMET_SESSION_HOURS={s.session_hours}: expected a number of hours > 0")
        if s.max_upload_mb <= 0:
            raise SettingsError(f"max_upload_mb={s.max_upload_mb}: expected > 0")
        if s.database_url and not s.database_url.startswith(("sqlite", "postgresql")):
            raise SettingsError(f"LIVERMET_DATABASE_URL={_redact_url(s.database_url)!r}: expected "
                                "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB")
        if s.admin_password is not None and len(s.admin_password) < 8:
            raise SettingsError("LIVERMET_ADMIN_PASSWORD: expected at least 8 characters")
        s._validate_cds()
        return s

    def _validate_cds(self) -> None:
        url = self.cds_base_url
        if url is not None and (not url.startswith(("https://", "http://")) or "?" in url or "#" in url
                                or url.rstrip("/").endswith("/cds-services")):
            raise SettingsError(f"LIVERMET_CDS_BASE_URL={url!r}: expected the public base URL of livermet, "
                                "e.g. https://livermet.hospital.example (without /cds-services, query or fragment)")
        if self.cds_trusted_issuers is None:
            return
        from livermet.web.cds_auth import TrustConfigError, load_trusted_issuers

        try:
            load_trusted_issuers(self.cds_trusted_issuers)
        except TrustConfigError as exc:
            raise SettingsError(str(exc)) from None
        if self.production and url is None:
            raise SettingsError("LIVERMET_CDS_BASE_URL is missing while LIVERMET_CDS_TRUSTED_ISSUERS is set in "
                                "production: set it to the URL the EHR calls (e.g. https://livermet.hospital.example); "
                                "a JWT's aud is checked against it, never against the request's Host header")

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(Path(self.data_dir) / 'livermet.sqlite3').resolve()}"

    @property
    def secure_cookies(self) -> bool:
        return self.production if self.cookie_secure is None else self.cookie_secure

    def with_secret(self) -> "Settings":
        """Fill an empty development secret from (or into) ``data_dir/secret_key``."""
        if self.secret_key:
            return self
        path = Path(self.data_dir) / "secret_key"
        if path.exists():
            key = path.read_text().strip()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            path.write_text(key)
            path.chmod(0o600)
        return replace(self, secret_key=key)


def _parse_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name}={value!r}: expected true or false")


def _redact_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
