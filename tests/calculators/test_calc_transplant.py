"""Transplant eligibility (Milan-NET, TRANSMET) and the Oslo score, criterion by criterion."""

from __future__ import annotations

import pytest

from livermet.calculators import milan_net, missing_inputs, oslo, run, transmet

MILAN_OK = {"ki67_percent": 3, "liver_involvement_percent": 30, "age": 48, "primary_resected": True,
            "portal_drainage": True, "stable_months": 8, "extrahepatic": False}


def test_milan_all_met():
    r = milan_net(**MILAN_OK)
    assert r.value == r.category == "eligible"
    assert r.details["failed"] == [] and r.details["not_assessable"] == []


@pytest.mark.parametrize("change, failed", [
    ({"ki67_percent": 10}, "ki67"), ({"ki67_percent": 9.9}, None),
    ({"liver_involvement_percent": 50}, "liver_involvement"), ({"liver_involvement_percent": 49}, None),
    ({"age": 55}, "age"), ({"age": 54}, None),
    ({"primary_resected": False}, "primary_resected"),
    ({"portal_drainage": False}, "portal_drainage"),
    ({"stable_months": 5.9}, "stable_disease"), ({"stable_months": 6}, None),
    ({"extrahepatic": True}, "no_extrahepatic_disease"),
    ({"differentiation": "poor"}, "well_differentiated"), ({"differentiation": "well"}, None),
])
def test_milan_each_criterion(change, failed):
    """Mazzaferro 2007: Ki-67 < 10%, involvement < 50%, age < 55, stable >= 6 months ..."""
    r = milan_net(**{**MILAN_OK, **change})
    if failed is None:
        assert r.category == "eligible"
    else:
        assert r.category == "not_eligible"
        assert r.details["failed"] == [failed]
        assert r.details["criteria"][failed]["status"] == "failed"


def test_milan_relative_age_limit():
    """Age 57 fails the 2007 limit (55) but passes the later 60."""
    r = milan_net(**{**MILAN_OK, "age": 57})
    assert r.category == "not_eligible" and r.details["failed"] == ["age"]
    assert any("relative" in n for n in r.notes)
    assert milan_net(**{**MILAN_OK, "age": 57, "age_limit": 60}).category == "eligible"


def test_milan_missing_inputs_are_not_assessable():
    r = run("milan_net", {"ki67_percent": 3, "age": 40})
    assert r.category == "indeterminate"
    assert set(r.details["not_assessable"]) == {"liver_involvement", "primary_resected",
                                                "portal_drainage", "stable_disease",
                                                "no_extrahepatic_disease"}
    # One failure decides, even with gaps:
    r2 = run("milan_net", {"ki67_percent": 15})
    assert r2.category == "not_eligible" and r2.details["failed"] == ["ki67"]
    assert missing_inputs("milan_net", {}) == []


TRANSMET_OK = {"age": 52, "ecog": 0, "primary_resected": True, "braf_v600e": False,
               "extrahepatic": False, "chemotherapy_months": 4, "chemotherapy_lines": 1,
               "response_to_chemotherapy": "responding"}


@pytest.mark.parametrize("change, failed", [
    ({"age": 65}, None), ({"age": 66}, "age"), ({"age": 18}, None), ({"age": 17}, "age"),
    ({"ecog": 1}, None), ({"ecog": 2}, "ecog"),
    ({"primary_resected": False}, "primary_resected"),
    ({"braf_v600e": True}, "braf_wild_type"),
    ({"extrahepatic": True}, "liver_only"),
    ({"chemotherapy_months": 3}, None), ({"chemotherapy_months": 2.9}, "chemotherapy_duration"),
    ({"chemotherapy_lines": 3}, None), ({"chemotherapy_lines": 4}, "chemotherapy_lines"),
    ({"response_to_chemotherapy": "stable"}, None),
    ({"response_to_chemotherapy": "progressive"}, "response"),
])
def test_transmet_each_criterion(change, failed):
    """Adam 2024: age 18-65, ECOG 0-1, resected BRAF-wild-type primary, liver-only disease,
    >= 3 months of chemotherapy with response or stability, <= 3 lines."""
    r = transmet(**{**TRANSMET_OK, **change})
    if failed is None:
        assert r.category == "eligible"
    else:
        assert r.category == "not_eligible" and r.details["failed"] == [failed]


def test_transmet_notes_unresectability_not_assessed():
    r = transmet(**TRANSMET_OK)
    assert any("unresectable" in n for n in r.notes)


def test_transmet_units_and_strings():
    """'0.5 years' = 6 months; 'stable' is a valid response; ECOG as text."""
    r = run("transmet", {**TRANSMET_OK, "chemotherapy_months": "0.5years", "ecog": "1",
                         "braf_v600e": "no"})
    assert r.category == "eligible"
    assert r.inputs["chemotherapy_months"] == 6


OSLO_ZERO = {"largest_diameter_mm": 40, "cea": 10, "progressive_on_chemotherapy": False,
             "months_since_resection": 36}


@pytest.mark.parametrize("change, points", [
    ({"largest_diameter_mm": 55}, 0), ({"largest_diameter_mm": 56}, 1),
    ({"cea": 80}, 0), ({"cea": 81}, 1),
    ({"progressive_on_chemotherapy": True}, 1),
    ({"months_since_resection": 24}, 0), ({"months_since_resection": 23.9}, 1),
    ({"largest_diameter_mm": 60, "cea": 100, "progressive_on_chemotherapy": True,
      "months_since_resection": 12}, 4),
])
def test_oslo_each_criterion(change, points):
    """Oslo score (calculators.md, check): > 5.5 cm, CEA > 80, progression, < 2 years."""
    r = oslo(**{**OSLO_ZERO, **change})
    assert r.value == points
    assert all(s.check for s in r.sources)
    assert any("not confirmed" in n for n in r.notes)
