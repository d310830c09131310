"""CDS Hooks endpoints (discovery and services); the cards come from livermet.interop.cdshooks.

Who may call: an EHR presenting its signed JWT ("Trusting CDS Clients", checked by
:mod:`livermet.web.cds_auth` against the issuers in ``LIVERMET_CDS_TRUSTED_ISSUERS``), or, as
before, a livermet API token (``Authorization: Bearer lmt_...``) or a logged-in session.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet.web import library
from livermet.web.cds_auth import (EMPTY_TRUST, ENV_TRUSTED_ISSUERS, CdsAuthError, ReplayStore,
                                   TrustConfigError, TrustStore, looks_like_jwt, verify_cds_jwt)
from livermet.web.deps import Principal, get_db, require
from livermet.web.models import CaseRow

router = APIRouter(tags=["cds-hooks"])
log = logging.getLogger("livermet.web.cds")
REPLAY_FILE = "cds_jti.sqlite3"  # in the data folder: the jti values already used
_init_lock = threading.Lock()


def _trust(app) -> tuple[TrustStore, ReplayStore]:
    """The trusted issuers (read once per application; the settings checked the file at start)."""
    state = app.state
    found = getattr(state, "cds_trust", None)
    if found is None:
        with _init_lock:
            found = getattr(state, "cds_trust", None)
            if found is None:
                from livermet.web.cds_auth import load_trusted_issuers

                s = state.settings
                trust = load_trusted_issuers(s.cds_trusted_issuers) if s.cds_trusted_issuers else EMPTY_TRUST
                found = (trust, ReplayStore(Path(s.data_dir) / REPLAY_FILE))
                state.cds_trust = found
    return found


def _audience(request: Request) -> str:
    """The URL the EHR is calling: what CDS Hooks requires the JWT's ``aud`` to be."""
    base = request.app.state.settings.cds_base_url or str(request.base_url)
    service_id = request.path_params.get("service_id")
    return base.rstrip("/") + "/cds-services" + (f"/{service_id}" if service_id is not None else "")


def _refuse(reason: str) -> HTTPException:
    return HTTPException(401, f"CDS Hooks JWT refused: {reason}",
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def cds_caller(perm: str = "read"):
    """Dependency: an EHR's valid CDS Hooks JWT, else livermet's own credentials (``require``)."""
    livermet_credentials = require(perm)

    async def dep(request: Request, db: Session = Depends(get_db)) -> Principal:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not (token and looks_like_jwt(token)):
            return await livermet_credentials(request, db)
        try:
            trust, replay = _trust(request.app)
        except TrustConfigError as exc:  # the file changed since the start and is now wrong
            log.error("CDS Hooks trusted issuers unusable: %s", exc)
            raise HTTPException(503, "CDS Hooks JWTs cannot be checked: the trusted-issuers file is not valid "
                                     "(an administrator finds why in the server log).") from None
        if not trust.issuers:
            raise _refuse(f"this livermet trusts no CDS client yet: an administrator lists the EHR and its "
                          f"public keys in the file named by {ENV_TRUSTED_ISSUERS} (docs/cds-hooks.md)")
        try:
            client = verify_cds_jwt(token, trust=trust, audience=_audience(request), replay=replay)
        except CdsAuthError as exc:
            # The token itself is never logged (CDS Hooks best practice); iss and kid are safe to log.
            log.warning("CDS Hooks JWT refused (iss=%r kid=%r): %s", exc.iss, exc.kid, exc.reason)
            raise _refuse(exc.reason) from None
        principal = Principal(None, f"cds-client:{client.name}", client.role, None, "cds-jwt")
        if not principal.can(perm):
            raise HTTPException(403, f"The CDS client's role ({client.role}) may not do this "
                                     f"(needs permission '{perm}').")
        request.state.principal = principal
        request.state.cds_client = client
        return principal

    dep.permission = perm  # used by the route-enumeration security test
    return dep


@router.get("/cds-services")
def cds_discovery(p: Principal = Depends(cds_caller("read"))):
    """CDS Hooks discovery: the services this server offers."""
    return library.cds_discovery()


@router.post("/cds-services/{service_id}")
async def cds_service(service_id: str, request: Request, p: Principal = Depends(cds_caller("read")),
                      db: Session = Depends(get_db)):
    """A CDS Hooks service call (e.g. patient-view); answers from the stored cases."""
    from livermet.interop.cdshooks import CdsRequestError, UnknownServiceError

    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "The CDS Hooks request body is not JSON: expected a JSON object with hook, "
                                 "hookInstance and context.") from None

    def get_case(key: str):
        """The stored case whose id, or patient MRN, is ``key`` (None if unknown)."""
        row = db.scalar(select(CaseRow).where(CaseRow.case_id == key, CaseRow.archived.is_(False)))
        if row is None:
            for r in db.scalars(select(CaseRow).where(CaseRow.archived.is_(False),
                                                      CaseRow.search_text.like(f"%{str(key).lower()}%"))):
                if str((r.data.get("patient") or {}).get("mrn")) == str(key):
                    row = r
                    break
        return library.parse_case(row.data) if row is not None else None

    try:
        return library.cds_response(body, get_case, service_id=service_id)
    except UnknownServiceError as exc:
        raise HTTPException(404, str(exc)) from None
    except CdsRequestError as exc:
        raise HTTPException(400, f"The CDS Hooks request is not valid: {exc}") from None
