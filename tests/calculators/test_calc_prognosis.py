"""Prognosis scores: Fong, tumour burden score, GAME, Nordlinger.

The papers give criteria tables, not worked examples: each expected total below is counted by
hand from the criteria in calculators.md section 3.
"""

from __future__ import annotations

import math

import pytest

from livermet.calculators import fong, game, nordlinger, run, tumour_burden_score
from livermet.calculators.prognosis import _tbs_zone

FONG_ZERO = {"node_positive": False, "disease_free_interval_months": 24, "lesion_count": 1,
             "largest_diameter_mm": 30, "cea": 10}


@pytest.mark.parametrize("change, points", [
    ({"node_positive": True}, 1),
    ({"disease_free_interval_months": 12}, 0), ({"disease_free_interval_months": 11.9}, 1),
    ({"disease_free_interval_months": 0}, 1),  # synchronous
    ({"lesion_count": 1}, 0), ({"lesion_count": 2}, 1),
    ({"largest_diameter_mm": 50}, 0), ({"largest_diameter_mm": 50.1}, 1),
    ({"cea": 200}, 0), ({"cea": 200.1}, 1),
])
def test_fong_each_criterion_at_cutoff(change, points):
    """Fong 1999: DFI < 12 months, > 1 tumour, largest > 5 cm, CEA > 200 ng/mL."""
    assert fong(**{**FONG_ZERO, **change}).value == points


@pytest.mark.parametrize("change, total, risk", [
    ({"node_positive": True, "lesion_count": 3}, 2, "low"),
    ({"node_positive": True, "lesion_count": 3, "cea": 250}, 3, "high"),
    ({"node_positive": True, "lesion_count": 3, "cea": 250, "largest_diameter_mm": 60,
      "disease_free_interval_months": 3}, 5, "high"),
])
def test_fong_risk_groups(change, total, risk):
    """0-2 low, 3-5 high."""
    r = fong(**{**FONG_ZERO, **change})
    assert (r.value, r.category) == (total, risk)


def test_fong_units():
    """6 cm = 60 mm > 50 mm; 1 year = 12 months (not < 12); 250 ug/L = 250 ng/mL."""
    r = run("fong", {**FONG_ZERO, "largest_diameter_mm": "6cm", "disease_free_interval_months": "1years",
                     "cea": "250ug/L"})
    assert r.details["points"]["largest_diameter"]["points"] == 1
    assert r.details["points"]["disease_free_interval"]["points"] == 0
    assert r.details["points"]["cea"]["points"] == 1


def test_tbs_hand():
    """Sasaki 2018: sqrt(4.0^2 + 3^2) = 5.0 (zone 2); sqrt(1.2^2 + 1^2) = 1.562 (zone 1)."""
    assert tumour_burden_score(lesion_count=3, largest_diameter_mm=40).value == 5.0
    r = tumour_burden_score(lesion_count=1, largest_diameter_mm=12)
    assert r.details["tbs_unrounded"] == pytest.approx(math.sqrt(2.44))
    assert r.category == "zone_1"


@pytest.mark.parametrize("tbs, zone", [(2.999, "zone_1"), (3.0, "zone_2"), (8.999, "zone_2"),
                                       (9.0, "zone_3"), (12, "zone_3")])
def test_tbs_zone_cutoffs(tbs, zone):
    """Zones: < 3, 3 to < 9, >= 9."""
    assert _tbs_zone(tbs) == zone


def test_tbs_zone_3_from_real_inputs():
    """9 lesions, largest 1 mm: sqrt(0.01 + 81) = 9.0006 -> zone 3; 8 lesions, 40 mm: 8.944 -> zone 2."""
    assert tumour_burden_score(lesion_count=9, largest_diameter_mm=1).category == "zone_3"
    assert tumour_burden_score(lesion_count=8, largest_diameter_mm=40).category == "zone_2"


GAME_ZERO = {"kras_mutant": False, "cea": 5, "node_positive": False, "lesion_count": 1,
             "largest_diameter_mm": 20, "extrahepatic": False}  # TBS sqrt(4 + 1) = 2.24


@pytest.mark.parametrize("change, total, group", [
    ({}, 0, "low"),
    ({"cea": 19.9}, 0, "low"), ({"cea": 20}, 1, "low"),
    ({"kras_mutant": True, "node_positive": True}, 2, "medium"),
    # TBS sqrt(3^2 + 1) = 3.16 -> 1 point
    ({"largest_diameter_mm": 30}, 1, "low"),
    # TBS sqrt(8^2 + 5^2) = 9.43 -> 2 points; + EHD 2 -> 4
    ({"largest_diameter_mm": 80, "lesion_count": 5, "extrahepatic": True}, 4, "high"),
    ({"kras_mutant": True, "cea": 20, "node_positive": True}, 3, "medium"),
])
def test_game(change, total, group):
    """Margonis 2018: KRAS 1, CEA >= 20 1, N+ 1, TBS 3-8 1 / >= 9 2, EHD 2; 0-1, 2-3, >= 4."""
    r = game(**{**GAME_ZERO, **change})
    assert (r.value, r.category) == (total, group)


@pytest.mark.parametrize("count, largest_mm, tbs_points", [
    (2, 22, 0),  # sqrt(2.2^2 + 2^2) = 2.973 < 3
    (1, 28.3, 1),  # sqrt(2.83^2 + 1) = 3.0015 >= 3
    (8, 40, 1),  # sqrt(4^2 + 8^2) = 8.944: between 8 and 9, read as the 3-8 band
    (9, 1, 2),  # sqrt(0.1^2 + 9^2) = 9.0006 >= 9
])
def test_game_tbs_bands_at_the_abstract_cut_offs(count, largest_mm, tbs_points):
    """Margonis 2018 abstract: "Tumour Burden Score between 3 and 8 (1 point) or 9 and over
    (2 points)"; TBS in (8, 9) is livermet's reading of "3-8" as 3 <= TBS < 9."""
    r = game(**{**GAME_ZERO, "lesion_count": count, "largest_diameter_mm": largest_mm})
    assert r.value == tbs_points
    assert r.sources[0].doi == "10.1002/bjs.10838"


NORD_ZERO = {"age": 50, "serosal_invasion": False, "node_positive": False,
             "disease_free_interval_months": 30, "lesion_count": 1, "largest_diameter_mm": 20}


@pytest.mark.parametrize("change, points", [
    ({"age": 60}, 0), ({"age": 61}, 1),
    ({"serosal_invasion": True}, 1), ({"node_positive": True}, 1),
    ({"disease_free_interval_months": 24}, 0), ({"disease_free_interval_months": 23}, 1),
    ({"lesion_count": 3}, 0), ({"lesion_count": 4}, 1),
    ({"largest_diameter_mm": 50}, 0), ({"largest_diameter_mm": 51}, 1),
])
def test_nordlinger_each_criterion_at_cutoff(change, points):
    assert nordlinger(**{**NORD_ZERO, **change}).value == points


@pytest.mark.parametrize("n, group", [(2, "low"), (3, "intermediate"), (4, "intermediate"),
                                      (5, "high"), (6, "high")])
def test_nordlinger_groups(n, group):
    """0-2 low, 3-4 intermediate, 5-6 high: switch on the first n criteria."""
    on = [{"age": 70}, {"serosal_invasion": True}, {"node_positive": True},
          {"disease_free_interval_months": 6}, {"lesion_count": 5}, {"largest_diameter_mm": 60}]
    kwargs = dict(NORD_ZERO)
    for c in on[:n]:
        kwargs.update(c)
    r = nordlinger(**kwargs)
    assert (r.value, r.category) == (n, group)
