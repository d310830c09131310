"""`livermet volumetry` and the case hook used by `livermet assess`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from _h3_shapes import ellipsoid, make_grid, save_nifti, world
from typer.testing import CliRunner

from livermet.cli.main import app

C0 = np.array([0.0, 0.0, 0.0])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    grid = make_grid((70, 60, 50), (1.5, 1.5, 1.5), centre=C0)
    x, y, z = world(grid)
    liver = ellipsoid(grid, C0, (45, 38, 32))
    seg = np.zeros(grid.shape, np.uint8)
    seg[liver & (x < 0) & (z < 0)] = 6
    seg[liver & (x < 0) & (z >= 0)] = 7
    seg[liver & (x >= 0) & (z < 0)] = 3
    seg[liver & (x >= 0) & (z >= 0)] = 2
    tum = ellipsoid(grid, C0 + [-18, 0, 8], (6, 6, 6)).astype(np.uint8)
    return {
        "segments": save_nifti(d / "segments.nii.gz", seg, grid),
        "tumour": save_nifti(d / "tumour.nii.gz", tum, grid),
        "liver": save_nifti(d / "liver.nii.gz", liver.astype(np.uint8), grid),
        "dir": d,
    }


def _invoke(args):
    return CliRunner().invoke(app, args)


def test_json_has_the_public_keys(files):
    r = _invoke([
        "volumetry", "--labels", str(files["segments"]), "--labelset", "liver_segments",
        "--mask", f"tumour={files['tumour']}", "--resection", "right_hepatectomy",
        "--height-cm", "175", "--weight-kg", "80", "--json",
    ])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    for key in ("liver_ml", "tumour_ml", "functional_liver_ml", "segments_ml", "lesions", "resection",
                "segments_method", "warnings"):
        assert key in d
    assert set(d["segments_ml"]) == {str(n) for n in range(1, 9)}
    les = d["lesions"][0]
    for key in ("id", "volume_ml", "longest_axial_diameter_mm", "segments", "centroid_mm"):
        assert key in les
    assert les["segments"] == [7]
    res = d["resection"]
    for key in ("name", "resected_ml", "remnant_ml", "sflr_measured_percent", "sflr_standardised_percent",
                "adequate", "lesions_removed"):
        assert key in res
    # right hepatectomy removes 6 and 7 (the x < 0 half) here: half the liver, and the tumour
    assert res["resected_ml"] == pytest.approx(d["liver_ml"] / 2, rel=0.03)
    assert res["lesions_removed"][0]["removed"] is True
    assert les["volume_ml"] == pytest.approx(4 / 3 * math.pi * 6**3 / 1000, rel=0.06)


def test_table_output_and_errors_exit_2(files):
    r = _invoke(["volumetry", "--labels", str(files["segments"]), "--labelset", "liver_segments",
                 "--resection", "left_lateral_sectionectomy"])
    assert r.exit_code == 0, r.output
    assert "Volumes" in r.stdout and "sFLR measured" in r.stdout
    r = _invoke(["volumetry", "--labels", str(files["segments"]), "--labelset", "nonsense"])
    assert r.exit_code == 2
    assert "labelset=nonsense" in r.output and "Traceback" not in r.output
    r = _invoke(["volumetry", "--mask", "liver"])
    assert r.exit_code == 2 and "ROLE=PATH" in r.output


def test_case_hook_fills_volumetry_and_lesions(files):
    from livermet.case.model import Case
    from livermet.imaging.pipeline import volumetry_for_case

    case = Case.model_validate({
        "id": "c1",
        "patient": {"height_cm": 170, "weight_kg": 70},
        "volumetry": {"planned_resection": "right_hepatectomy"},
        "imaging": {"labels": "segments.nii.gz", "labelset": "liver_segments",
                    "masks": {"tumour": ["tumour.nii.gz"]}},
    })
    d = volumetry_for_case(case, base_dir=files["dir"])  # paths relative to the case file
    assert case.volumetry.source == "imaging"
    assert case.volumetry.total_liver_ml == d["liver_ml"]
    assert case.volumetry.tumour_ml == d["tumour_ml"] > 0
    assert case.volumetry.remnant_ml == d["resection"]["remnant_ml"]
    assert case.volumetry.segments_ml == d["segments_ml"]
    [les] = case.metastases.lesions
    assert les.id == "L1" and les.segments == [7]
    assert les.diameter_mm == pytest.approx(12.0, abs=1.5)
