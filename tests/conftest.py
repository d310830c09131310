"""Shared test fixtures: paths to the shared real data and tool availability."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Real data lives beside the project (../shared/data), never inside it.
SHARED_DATA = Path(os.environ.get("LIVERMET_SHARED_DATA", REPO.parent / "shared" / "data"))
TOTALSEG_EXAMPLE = SHARED_DATA / "ct-totalsegmentator-example"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def totalseg_example() -> Path:
    if not (TOTALSEG_EXAMPLE / "example_seg_fast_force_split.nii.gz").exists():
        pytest.skip(f"real CT sample absent ({TOTALSEG_EXAMPLE})")
    return TOTALSEG_EXAMPLE


@pytest.fixture
def chromium_path() -> str:
    if not CHROMIUM:
        pytest.skip("Debian chromium not installed (scripts/setup.sh installs it)")
    return CHROMIUM
