"""Body size and liver volume: BSA, standardised liver volume, sFLR, KGR.

No printed worked example exists in the primary papers for these formulas; expected values are
computed by hand in each test (arithmetic shown) from the formulas as printed.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.calculators import (
    CalculatorInputError,
    bsa,
    kgr,
    missing_inputs,
    run,
    sflr,
    standard_liver_volume,
)


# --- BSA ---------------------------------------------------------------------------------
def test_bsa_mosteller_hand():
    """Mosteller 1987: sqrt(180 x 81 / 3600) = sqrt(4.05) = 2.01246."""
    r = bsa(height_cm=180, weight_kg=81)
    assert r.value == 2.01
    assert r.details["bsa_m2_unrounded"] == pytest.approx(2.012461, abs=1e-6)
    assert r.unit == "m^2"


def test_bsa_dubois_hand():
    """Du Bois 1916: 0.007184 x 70^0.425 x 170^0.725.

    70^0.425 = exp(0.425 x 4.248495) = exp(1.805610) = 6.08368;
    170^0.725 = exp(0.725 x 5.135798) = exp(3.723454) = 41.40716;
    0.007184 x 6.08368 x 41.40716 = 1.80972.
    """
    r = bsa(height_cm=170, weight_kg=70, formula="dubois")
    assert r.details["bsa_m2_unrounded"] == pytest.approx(1.80972, abs=5e-5)
    assert r.value == 1.81


def test_bsa_formulas_agree_within_one_percent_for_an_average_adult():
    """calculators.md: the two differ by < 1% in adults (170 cm, 70 kg: 1.8181 vs 1.8097)."""
    m = bsa(height_cm=170, weight_kg=70).details["bsa_m2_unrounded"]
    d = bsa(height_cm=170, weight_kg=70, formula="dubois").details["bsa_m2_unrounded"]
    assert m == pytest.approx(math.sqrt(170 * 70 / 3600))
    assert abs(m - d) / m < 0.01


def test_bsa_units_converted():
    """1.8 m = 180 cm; 81000 g = 81 kg; 70.866 in = 180 cm; 178.574 lb = 81 kg."""
    assert run("bsa", {"height_cm": "1.8m", "weight_kg": "81000g"}).value == 2.01
    r = run("bsa", {"height_cm": "70.8661in", "weight_kg": "178.574lb"})
    assert r.inputs["height_cm"] == pytest.approx(180.0, abs=1e-3)
    assert r.inputs["weight_kg"] == pytest.approx(81.0, abs=1e-3)


@settings(max_examples=60, deadline=None)
@given(h=st.floats(100, 220), w=st.floats(30, 200), dh=st.floats(0.5, 20),
       f=st.sampled_from(["mosteller", "dubois"]))
def test_bsa_increases_with_height_and_weight(h, w, dh, f):
    base = bsa(height_cm=h, weight_kg=w, formula=f).details["bsa_m2_unrounded"]
    assert bsa(height_cm=h + dh, weight_kg=w, formula=f).details["bsa_m2_unrounded"] > base
    assert bsa(height_cm=h, weight_kg=w + dh, formula=f).details["bsa_m2_unrounded"] > base


# --- Standardised liver volume -------------------------------------------------------------
@pytest.mark.parametrize("formula, expected", [
    ("vauthey", -794.41 + 1267.28 * 1.9),   # 1613.422 mL
    ("urata", 706.2 * 1.9 + 2.4),           # 1344.18 mL
    ("heinemann", 1072.8 * 1.9 - 345.7),    # 1692.62 mL
    ("johnson", 722 * 1.9 ** 1.176),        # 722 x 2.12723 = 1535.86 mL
])
def test_standard_liver_volume_formulas(formula, expected):
    r = standard_liver_volume(bsa_m2=1.9, formula=formula)
    assert r.value == pytest.approx(expected, abs=0.006)
    assert r.unit == "mL"


def test_standard_liver_volume_hand_numbers():
    """Vauthey 2002: -794.41 + 1267.28 x 1.9 = 1613.42 mL.

    Johnson 2005: 1.9^1.176 = exp(1.176 x 0.641854) = exp(0.754820) = 2.12723; x 722 = 1535.86 mL.
    """
    assert standard_liver_volume(bsa_m2=1.9).value == pytest.approx(1613.42, abs=0.01)
    assert standard_liver_volume(bsa_m2=1.9, formula="johnson").value == pytest.approx(1535.86, abs=0.01)


def test_standard_liver_volume_from_height_weight_uses_mosteller():
    """175 cm, 75 kg: BSA sqrt(175 x 75 / 3600) = 1.90941; sTLV = -794.41 + 1267.28 x 1.90941."""
    r = run("standard_liver_volume", {"height_cm": 175, "weight_kg": 75})
    assert r.value == pytest.approx(-794.41 + 1267.28 * math.sqrt(175 * 75 / 3600), abs=0.006)
    assert r.details["bsa_m2"] == pytest.approx(1.90941, abs=1e-5)


def test_standard_liver_volume_needs_bsa_or_height_and_weight():
    assert missing_inputs("standard_liver_volume", {}) == ["bsa_m2 | height_cm+weight_kg"]
    with pytest.raises(CalculatorInputError) as exc:
        run("standard_liver_volume", {"height_cm": 170})
    assert exc.value.parameter == "weight_kg"
    assert "weight_kg" in str(exc.value)


# --- sFLR -----------------------------------------------------------------------------------
def test_sflr_measured_demo_case():
    """Review (Surgical Resection): FLR / (TLV - tumour): 620 / (1650 - 45) x 100 = 38.629%."""
    r = sflr(remnant_ml=620, total_liver_ml=1650, tumour_ml=45)
    assert r.value == 38.6
    assert r.details["sflr_percent_unrounded"] == pytest.approx(38.6293, abs=1e-4)
    assert r.category == "adequate"
    assert r.details["method"] == "measured"


def test_sflr_standardised_vauthey():
    """Vauthey 2000/2002: BSA 1.90941 -> sTLV 1625.35 mL; 300 / 1625.35 x 100 = 18.458%."""
    r = run("sflr", {"remnant_ml": 300, "height_cm": 175, "weight_kg": 75})
    assert r.details["standard_liver_volume_ml"] == pytest.approx(1625.35, abs=0.01)
    assert r.value == 18.5
    assert r.category == "inadequate"


def test_sflr_units():
    """0.3 L = 300 mL and 1.6 L = 1600 mL: 300 / (1600 - 100) = 20%."""
    r = run("sflr", {"remnant_ml": "0.3 L", "total_liver_ml": "1.6L", "tumour_ml": "100cc"})
    assert r.value == 20.0


@pytest.mark.parametrize("condition, minimum", [("normal", 20), ("chemotherapy", 30), ("cirrhosis", 40)])
@pytest.mark.parametrize("delta, expected", [(-1, "inadequate"), (0, "adequate"), (1, "adequate")])
def test_sflr_cutoffs_by_liver_condition(condition, minimum, delta, expected):
    """Kishi 2009 (20%), Shindoh 2013 (30%), Kubota 1997 (40%): adequate at or above.

    Functional volume 1500 mL, so remnant = 15 x percent mL (e.g. 300 mL = 20%; 285 = 19%).
    """
    remnant = 15 * minimum + 15 * delta
    r = sflr(remnant_ml=remnant, total_liver_ml=1600, tumour_ml=100, liver_condition=condition)
    assert r.details["sflr_percent_unrounded"] == pytest.approx(minimum + delta)
    assert r.category == expected
    assert r.details["threshold_percent"] == minimum


def test_sflr_just_below_minimum_is_inadequate_even_if_rounding_shows_20():
    """299.9 / 1500 = 19.993%, shown as 20.0 but below the minimum; a note says so."""
    r = sflr(remnant_ml=299.9, total_liver_ml=1600, tumour_ml=100)
    assert r.value == 20.0 and r.category == "inadequate"
    assert any("within 0.05" in n for n in r.notes)


@pytest.mark.parametrize("condition, percent, caution_figure", [
    ("normal", 22, "25%"),        # review: about 25% is insufficient
    ("chemotherapy", 35, "40%"),  # review: 40% with chemotherapy-induced hepatotoxicity
    ("cirrhosis", 45, "50%"),     # review: can be 50% in severely decompensated livers
])
def test_sflr_review_cautions_between_thresholds(condition, percent, caution_figure):
    r = sflr(remnant_ml=15 * percent, total_liver_ml=1600, tumour_ml=100, liver_condition=condition)
    assert r.category == "adequate"
    assert len(r.details["cautions"]) == 1 and caution_figure in r.details["cautions"][0]
    assert any(n.startswith("Caution") and caution_figure in n for n in r.notes)
    assert any(s.review_section == "Surgical Resection" for s in r.sources)


@pytest.mark.parametrize("condition, percent", [
    ("normal", 26), ("normal", 19), ("chemotherapy", 41), ("chemotherapy", 29), ("cirrhosis", 51),
])
def test_sflr_no_caution_outside_the_band(condition, percent):
    r = sflr(remnant_ml=15 * percent, total_liver_ml=1600, tumour_ml=100, liver_condition=condition)
    assert r.details["cautions"] == []


def test_sflr_threshold_override():
    """22% is adequate for a normal liver (>= 20) but not against a user minimum of 25%."""
    r = run("sflr", {"remnant_ml": 330, "total_liver_ml": 1600, "tumour_ml": 100,
                     "threshold_percent": "25%"})
    assert r.category == "inadequate"
    assert r.details["threshold_percent"] == 25


def test_sflr_measured_preferred_and_standardised_shown():
    r = run("sflr", {"remnant_ml": 620, "total_liver_ml": 1650, "tumour_ml": 45,
                     "height_cm": 175, "weight_kg": 75})
    assert r.details["method"] == "measured"
    assert r.details["sflr_standardised_percent"] == pytest.approx(620 / 1625.35 * 100, abs=0.01)
    r2 = run("sflr", {"remnant_ml": 620, "total_liver_ml": 1650, "tumour_ml": 45,
                      "height_cm": 175, "weight_kg": 75, "method": "standardised"})
    assert r2.value == pytest.approx(38.1, abs=0.05)


@pytest.mark.parametrize("raw, field", [
    ({"remnant_ml": 900, "total_liver_ml": 1000, "tumour_ml": 200}, "remnant_ml"),
    ({"remnant_ml": 100, "total_liver_ml": 1000, "tumour_ml": 1000}, "tumour_ml"),
    ({"remnant_ml": 0, "total_liver_ml": 1000, "tumour_ml": 10}, "remnant_ml"),
    ({"remnant_ml": 100, "total_liver_ml": 1000, "tumour_ml": 10, "liver_condition": "fatty"},
     "liver_condition"),
    ({"remnant_ml": 100, "method": "measured", "bsa_m2": 1.8}, "total_liver_ml+tumour_ml"),
])
def test_sflr_bad_inputs_name_the_field(raw, field):
    with pytest.raises(CalculatorInputError) as exc:
        run("sflr", raw)
    assert exc.value.parameter == field
    assert field in str(exc.value)


def test_sflr_missing_inputs_lists_alternatives():
    assert missing_inputs("sflr", {"remnant_ml": 500}) == [
        "total_liver_ml+tumour_ml | height_cm+weight_kg | bsa_m2"]
    assert missing_inputs("sflr", {"remnant_ml": 500, "bsa_m2": 1.9}) == []
    assert missing_inputs("sflr", {"total_liver_ml": 1600, "tumour_ml": 10}) == ["remnant_ml"]


@settings(max_examples=60, deadline=None)
@given(r1=st.floats(50, 1400), r2=st.floats(50, 1400),
       cond=st.sampled_from(["normal", "chemotherapy", "cirrhosis"]))
def test_sflr_adequacy_monotone_in_remnant(r1, r2, cond):
    """A larger remnant never has a smaller ratio, and never turns adequate into inadequate."""
    lo, hi = sorted((r1, r2))
    a = sflr(remnant_ml=lo, total_liver_ml=1600, tumour_ml=100, liver_condition=cond)
    b = sflr(remnant_ml=hi, total_liver_ml=1600, tumour_ml=100, liver_condition=cond)
    assert b.details["sflr_percent_unrounded"] >= a.details["sflr_percent_unrounded"]
    if a.category == "adequate":
        assert b.category == "adequate"


# --- KGR ------------------------------------------------------------------------------------
def test_kgr_hand():
    """Shindoh 2013: (28 - 18) / 4 weeks = 2.5 %/week -> adequate."""
    r = kgr(sflr_before=18, sflr_after=28, weeks=4)
    assert r.value == 2.5 and r.category == "adequate"
    assert r.details["degree_of_hypertrophy_points"] == 10


@pytest.mark.parametrize("after, expected", [(17.9, "inadequate"), (18.0, "adequate"), (18.1, "adequate")])
def test_kgr_cutoff_2_percent_per_week(after, expected):
    """(after - 10) / 4: 1.975 < 2.0 <= 2.0 < 2.025."""
    assert kgr(sflr_before=10, sflr_after=after, weeks=4).category == expected


def test_kgr_weeks_in_days():
    """28 days = 4 weeks: (18 - 10) / 4 = 2.0."""
    r = run("kgr", {"sflr_before": 10, "sflr_after": 18, "weeks": "28days"})
    assert r.inputs["weeks"] == pytest.approx(4.0)
    assert r.value == 2.0


def test_kgr_zero_weeks_rejected():
    with pytest.raises(CalculatorInputError) as exc:
        run("kgr", {"sflr_before": 10, "sflr_after": 18, "weeks": 0})
    assert exc.value.parameter == "weeks"
