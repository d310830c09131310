"""Fixtures for the web application tests: apps on SQLite or a throw-away PostgreSQL
database, logged-in clients per role, and a small CT phantom written as NIfTI."""

from __future__ import annotations

import json
import uuid

import pytest
from web_support import (DEMO, PG_BASE, ROLES, Client, _pg_conninfo, add_users, make_app,
                         postgres_reason)


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for this test (dropped afterwards)."""
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    import psycopg

    name = f"livermet_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_conninfo(PG_BASE), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_BASE.rsplit("/", 1)[0] + "/" + name
    yield url
    with psycopg.connect(_pg_conninfo(PG_BASE), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Storage back-ends: SQLite in the data folder (None) and PostgreSQL."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_url")


@pytest.fixture
def app(tmp_path):
    a = make_app(tmp_path / "data")
    yield a
    a.state.engine.dispose()


@pytest.fixture
def clients(app):
    add_users(app)
    return {role: Client(app, role) for role in ROLES}


@pytest.fixture
def demo_case() -> dict:
    return json.loads(DEMO.read_text())


@pytest.fixture(scope="session")
def phantom_files(tmp_path_factory):
    """A small CT phantom (livermet.imaging.phantom) as NIfTI: CT, Couinaud labels, tumours."""
    try:
        from livermet.imaging.phantom import make_phantom
    except ImportError:
        pytest.skip("livermet.imaging.phantom not available")
    import nibabel as nib
    import numpy as np

    d = tmp_path_factory.mktemp("phantom")
    ph = make_phantom(shape=(88, 64, 40), spacing_mm=(4.0, 4.0, 5.0))
    aff = ph.grid.affine_ras
    nib.save(nib.Nifti1Image(ph.ct.astype(np.int16), aff), d / "ct.nii.gz")
    nib.save(nib.Nifti1Image(ph.segments.astype(np.uint8), aff), d / "segments.nii.gz")
    nib.save(nib.Nifti1Image((ph.tumours > 0).astype(np.uint8), aff), d / "tumours.nii.gz")
    return {"dir": d, "phantom": ph, "ct": d / "ct.nii.gz", "segments": d / "segments.nii.gz",
            "tumours": d / "tumours.nii.gz"}
