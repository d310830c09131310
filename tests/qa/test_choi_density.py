"""Choi response from a case: lesion measurements carry their density (HU).

Expected categories are worked by hand from Choi H, et al. J Clin Oncol 2007;25:1753 (as
summarised in calculators.md section 5): PR = size -10% or more, or density -15% or more,
without new lesions; PD = size +10% or more without PR by density, or new lesions; else SD.
Size is the change in the sum of the target diameters (as for RECIST); density is the change
in the targets' mean attenuation.
"""

from __future__ import annotations

import copy

import pytest

from livermet.assess import assess_case
from livermet.case.validate import validate_case

BASE, NOW = "2026-01-10", "2026-04-10"


def gist_case(l1: tuple, l2: tuple, site: str = "gist") -> dict:
    """Two lesions, each ((baseline mm, HU), (now mm, HU))."""
    def les(lid, seg, pts):
        (d0, h0), (d1, h1) = pts
        return {"id": lid, "segments": [seg], "diameter_mm": d1,
                "measurements": [{"date": BASE, "diameter_mm": d0, "density_hu": h0},
                                 {"date": NOW, "diameter_mm": d1, "density_hu": h1}]}

    return {
        "id": "qa-gist-choi",
        "patient": {"age": 58, "sex": "female", "height_cm": 165, "weight_kg": 62, "ecog": 0},
        "primary": {"site": site, "resected": True},
        "metastases": {"new_lesions": False,
                       "lesions": [les("L1", 7, l1), les("L2", 3, l2)]},
    }


def test_density_response_without_shrinkage_is_choi_pr_and_recist_sd():
    # Sum 50+30 = 80 -> 48+30 = 78 mm: -2.5% (RECIST SD; not a Choi size response).
    # Mean density (80+60)/2 = 70 -> (50+40)/2 = 45 HU: (45-70)/70 = -35.7% <= -15% -> Choi PR.
    a = assess_case(gist_case(((50, 80), (48, 50)), ((30, 60), (30, 40))), decision=False)
    choi = a.scores["choi"]
    assert choi.inputs["size_change_percent"] == pytest.approx(-2.5)
    assert choi.inputs["density_change_percent"] == pytest.approx(100 * (45 - 70) / 70)
    assert choi.category == "PR"
    assert a.scores["recist"].category == "SD"


@pytest.mark.parametrize("hu_now, expected", [
    # Sum 80 -> 90 mm: +12.5% (size PD unless density falls by >= 15%).
    (86, "PD"),  # (86-100)/100 = -14%: not a density response -> PD by size
    (85, "PR"),  # exactly -15%: PR by density (the cut-off is inclusive)
])
def test_density_cut_off_decides_between_pd_and_pr(hu_now, expected):
    a = assess_case(gist_case(((50, 100), (56, hu_now)), ((30, 100), (34, hu_now))),
                    decision=False)
    choi = a.scores["choi"]
    assert choi.inputs["size_change_percent"] == pytest.approx(12.5)
    assert choi.inputs["density_change_percent"] == pytest.approx(hu_now - 100)
    assert choi.category == expected


def test_missing_density_names_the_field():
    doc = gist_case(((50, 80), (48, 50)), ((30, 60), (30, 40)))
    del doc["metastases"]["lesions"][1]["measurements"][1]["density_hu"]
    a = assess_case(doc, decision=False)
    assert "choi" not in a.scores
    assert "density_change_percent" in a.missing["choi"]
    assert "metastases.lesions[].measurements[].density_hu" in a.missing_fields["choi"]


def test_choi_stays_gist_only():
    a = assess_case(gist_case(((50, 80), (48, 50)), ((30, 60), (30, 40)), site="colorectal"),
                    decision=False)
    assert "choi" not in a.scores and "choi" in a.not_applicable
    assert a.scores["recist"].category == "SD"


def test_impossible_density_is_a_validation_error_at_its_path():
    doc = gist_case(((50, 80), (48, 50)), ((30, 60), (30, 40)))
    bad = copy.deepcopy(doc)
    bad["metastases"]["lesions"][0]["measurements"][1]["density_hu"] = -5000
    report = validate_case(bad)
    assert [p.path for p in report.errors] == ["metastases.lesions[0].measurements[1].density_hu"]
    assert validate_case(doc).ok
