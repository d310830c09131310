"""CDS Hooks endpoints (discovery and services); the cards come from livermet.interop.cdshooks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet.web import library
from livermet.web.deps import Principal, get_db, require
from livermet.web.models import CaseRow

router = APIRouter(tags=["cds-hooks"])


@router.get("/cds-services")
def cds_discovery(p: Principal = Depends(require("read"))):
    """CDS Hooks discovery: the services this server offers."""
    return library.cds_discovery()


@router.post("/cds-services/{service_id}")
async def cds_service(service_id: str, request: Request, p: Principal = Depends(require("read")),
                      db: Session = Depends(get_db)):
    """A CDS Hooks service call (e.g. patient-view); answers from the stored cases."""
    body = await request.json()

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

    return library.cds_response(body, get_case, service_id=service_id)
