"""Liver function: ICG, ICGK-F, Makuuchi, Child-Pugh, MELD, MELD-Na, MELD 3.0, ALBI.

Independent values: the R package transplantr (J. Asher, tests/testthat/test_liver.R) checks
MELD(INR 2.0, bilirubin 54 umol/L, creatinine 170 umol/L) = 24.798 (unrounded 10 x MELD(i)) and
its MELD-Na, which uses the Kim 2008 form, = 26.257 for INR 1.8, bilirubin 2, creatinine 2,
Na 131. Other expected values are computed by hand in the docstrings.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.calculators import (
    CalculatorInputError,
    albi,
    child_pugh,
    icg,
    icgk_f,
    makuuchi,
    meld,
    meld_3,
    meld_na,
    missing_inputs,
    run,
)


# --- ICG --------------------------------------------------------------------------------------
def test_icg_from_k():
    """k = 0.2/min: R15 = 100 exp(-3) = 4.9787%; PDR 20%/min; half-life ln2/0.2 = 3.4657 min."""
    r = icg(icg_k=0.2)
    assert r.value == 4.98 and r.category == "normal"
    assert r.details["icg_pdr_percent_per_min"] == pytest.approx(20.0)
    assert r.details["half_life_min"] == pytest.approx(3.4657, abs=1e-4)


def test_icg_from_r15_round_trip():
    """R15 10%: k = -ln(0.10)/15 = 0.153506/min; PDR 15.35%/min; back to R15 = 10%."""
    r = icg(icg_r15=10)
    assert r.details["icg_k_per_min"] == pytest.approx(0.153506, abs=1e-6)
    assert icg(icg_k=r.details["icg_k_per_min"]).details["icg_r15_percent"] == pytest.approx(10.0)
    assert icg(icg_pdr=r.details["icg_pdr_percent_per_min"]).value == 10.0


@pytest.mark.parametrize("r15, expected", [(9.99, "normal"), (10.0, "impaired"), (10.01, "impaired")])
def test_icg_normal_below_10_percent(r15, expected):
    assert icg(icg_r15=r15).category == expected


def test_icg_needs_one_value():
    assert missing_inputs("icg", {}) == ["icg_r15 | icg_k | icg_pdr"]
    with pytest.raises(CalculatorInputError) as exc:
        run("icg", {})
    assert "icg_r15 | icg_k | icg_pdr" in str(exc.value)


def test_icgk_f_hand():
    """Yokoyama 2010: ICG-K 0.15 x remnant 40% = 0.060 -> adequate (>= 0.05)."""
    r = icgk_f(icg_k=0.15, remnant_percent=40)
    assert r.value == pytest.approx(0.06) and r.category == "adequate"


@pytest.mark.parametrize("remnant, expected", [(49.9, "inadequate"), (50.0, "adequate"), (50.1, "adequate")])
def test_icgk_f_cutoff(remnant, expected):
    """0.1/min x 0.499 = 0.0499 < 0.05 = 0.1 x 0.50 < 0.0501."""
    assert icgk_f(icg_k=0.1, remnant_percent=remnant).category == expected


def test_icgk_f_from_r15():
    """R15 10% -> k 0.153506; x 0.30 = 0.046052 -> inadequate."""
    r = run("icgk_f", {"icg_r15": "10%", "remnant_percent": 30})
    assert r.details["icgk_f_unrounded"] == pytest.approx(0.046052, abs=1e-6)
    assert r.category == "inadequate"


# --- Makuuchi ---------------------------------------------------------------------------------
@pytest.mark.parametrize("ascites, bili, r15, expected", [
    ("refractory", 0.5, 5, "no_resection"),
    ("none", 2.0, None, "no_resection"),
    ("none", 1.99, None, "enucleation"),
    ("none", 1.6, None, "enucleation"),
    ("none", 1.5, None, "limited_resection"),
    ("none", 1.1, None, "limited_resection"),
    ("none", 1.0, 9.9, "hemihepatectomy"),
    ("none", 1.0, 10.0, "sectionectomy"),
    ("none", 0.8, 19.9, "sectionectomy"),
    ("none", 0.8, 20.0, "segmentectomy"),
    ("none", 0.8, 29.9, "segmentectomy"),
    ("none", 0.8, 30.0, "limited_resection"),
    ("controlled", 0.8, 39.9, "limited_resection"),
    ("none", 0.8, 40.0, "enucleation"),
])
def test_makuuchi_branches(ascites, bili, r15, expected):
    """Makuuchi 1993 / Imamura 2003 tree as given in calculators.md (marked check)."""
    kwargs = {"ascites": ascites, "bilirubin": bili}
    if r15 is not None:
        kwargs["icg_r15"] = r15
    r = makuuchi(**kwargs)
    assert r.category == expected == r.value
    assert any(s.check for s in r.sources)
    assert any("not confirmed" in n for n in r.notes)


def test_makuuchi_needs_icg_only_with_normal_bilirubin():
    assert missing_inputs("makuuchi", {"ascites": "none", "bilirubin": 0.7}) == ["icg_r15"]
    assert missing_inputs("makuuchi", {"ascites": "none", "bilirubin": 1.4}) == []
    with pytest.raises(CalculatorInputError) as exc:
        run("makuuchi", {"ascites": "none", "bilirubin": 0.7})
    assert exc.value.parameter == "icg_r15"


# --- Child-Pugh -------------------------------------------------------------------------------
BASE = {"bilirubin": 1.0, "albumin": 4.0, "inr": 1.0, "ascites": "none", "encephalopathy": "none"}


@pytest.mark.parametrize("item, value, points", [
    ("bilirubin", 1.99, 1), ("bilirubin", 2.0, 2), ("bilirubin", 3.0, 2), ("bilirubin", 3.01, 3),
    ("albumin", 3.51, 1), ("albumin", 3.5, 2), ("albumin", 2.8, 2), ("albumin", 2.79, 3),
    ("inr", 1.69, 1), ("inr", 1.7, 2), ("inr", 2.3, 2), ("inr", 2.31, 3),
    ("ascites", "controlled", 2), ("ascites", "refractory", 3),
    ("encephalopathy", "grade_1_2", 2), ("encephalopathy", "grade_3_4", 3),
])
def test_child_pugh_bands_inclusive_in_the_middle(item, value, points):
    """Pugh 1973: bilirubin exactly 2.0 and 3.0 score 2; albumin 3.5 and 2.8 score 2."""
    r = child_pugh(**{**BASE, item: value})
    assert r.details["points"][item] == points
    assert r.value == 4 + points


@pytest.mark.parametrize("raw, item, points", [
    ({"bilirubin": "34.2umol/L"}, "bilirubin", 2),   # 34.2 / 17.1 = 2.0 mg/dL
    ({"bilirubin": "51.3umol/L"}, "bilirubin", 2),   # 51.3 / 17.1 = 3.0 mg/dL (not 3.0000000001)
    ({"bilirubin": "51.4umol/L"}, "bilirubin", 3),   # 3.006 mg/dL
    ({"albumin": "35g/L"}, "albumin", 2),            # 3.5 g/dL (not 3.5000000000000004)
    ({"albumin": "28g/L"}, "albumin", 2),            # 2.8 g/dL
    ({"albumin": "36g/L"}, "albumin", 1),
])
def test_child_pugh_si_units_at_boundaries(raw, item, points):
    r = run("child_pugh", {**BASE, **raw})
    assert r.details["points"][item] == points


@pytest.mark.parametrize("items, total, cls", [
    ({}, 5, "A"),
    ({"bilirubin": 2.5}, 6, "A"),
    ({"bilirubin": 2.5, "albumin": 3.0}, 7, "B"),
    ({"bilirubin": 3.5, "albumin": 3.0, "ascites": "controlled"}, 9, "B"),  # 3+2+1+2+1
    ({"bilirubin": 3.5, "albumin": 3.0, "inr": 2.0, "ascites": "controlled"}, 10, "C"),  # 3+2+2+2+1
    ({"bilirubin": 4, "albumin": 2.5, "inr": 2.5, "ascites": "refractory",
      "encephalopathy": "grade_3_4"}, 15, "C"),
])
def test_child_pugh_classes(items, total, cls):
    """A 5-6, B 7-9, C 10-15 (Pugh 1973)."""
    r = child_pugh(**{**BASE, **items})
    assert (r.value, r.category) == (total, cls)


@settings(max_examples=80, deadline=None)
@given(b1=st.floats(0.1, 20), b2=st.floats(0.1, 20), a1=st.floats(1.5, 5.5), a2=st.floats(1.5, 5.5),
       i1=st.floats(0.8, 5), i2=st.floats(0.8, 5))
def test_child_pugh_monotone(b1, b2, a1, a2, i1, i2):
    """More bilirubin, higher INR and lower albumin never lower the score."""
    lo = child_pugh(bilirubin=min(b1, b2), albumin=max(a1, a2), inr=min(i1, i2),
                    ascites="none", encephalopathy="none").value
    hi = child_pugh(bilirubin=max(b1, b2), albumin=min(a1, a2), inr=max(i1, i2),
                    ascites="none", encephalopathy="none").value
    assert hi >= lo


# --- MELD ---------------------------------------------------------------------------------
def test_meld_against_transplantr():
    """transplantr: 10 x MELD(i) for INR 2.0, bili 54 umol/L, Cr 170 umol/L = 24.798.

    OPTN rounds MELD(i) = 2.4798 to the tenth (2.5) and multiplies by 10: 25.
    """
    r = run("meld", {"inr": 2.0, "bilirubin": "54umol/L", "creatinine": "170umol/L"})
    assert 10 * r.details["meld_i"] == pytest.approx(24.798, abs=5e-4)
    assert r.value == 25


def test_meld_hand_and_rounding_pitfall():
    """0.957 ln1.2 + 0.378 ln2 + 1.120 ln1.5 + 0.643 = 0.17448 + 0.26201 + 0.45412 + 0.643
    = 1.53361 -> 1.5 -> 15. Rounding MELD(i) to an integer first (a known fault) would give 20."""
    r = meld(bilirubin=2.0, inr=1.5, creatinine=1.2)
    assert r.details["meld_i"] == pytest.approx(1.53361, abs=1e-5)
    assert r.value == 15


def test_meld_floors_caps_and_dialysis():
    """Labs < 1 set to 1 -> 0.643 -> 6; Cr 6 capped at 4; dialysis sets Cr to 4."""
    assert meld(bilirubin=0.3, inr=0.9, creatinine=0.5).value == 6
    capped = meld(bilirubin=1, inr=1, creatinine=6)
    assert capped.details["labs_used"]["creatinine"] == 4.0
    # 0.957 ln4 + 0.643 = 1.32668 + 0.643 = 1.96968 -> 2.0 -> 20
    assert capped.value == 20
    assert meld(bilirubin=1, inr=1, creatinine=0.8, dialysis=True).value == 20
    assert run("meld", {"bilirubin": 1, "inr": 1, "creatinine": 0.8, "dialysis": "yes"}).value == 20


def test_meld_creatinine_cap_just_above_4():
    """Cr 4.5 is capped at 4.0: 0.957 ln 4 + 0.643 = 1.96968 -> 20. Uncapped it would be
    0.957 ln 4.5 + 0.643 = 1.43940 + 0.643 = 2.08240 -> 21."""
    r = meld(bilirubin=1, inr=1, creatinine=4.5)
    assert r.details["labs_used"]["creatinine"] == 4.0
    assert r.value == 20


def test_meld_maximum_40():
    """bili 40, INR 6, Cr 4: 1.32668 + 1.39439 + 2.00679 + 0.643 = 5.37 -> 53.7 -> bounded 40."""
    assert meld(bilirubin=40, inr=6, creatinine=4).value == 40


def test_meld_si_units():
    """34.2 umol/L = 2.0 mg/dL; 106.08 umol/L = 1.2 mg/dL: same as the hand example (15)."""
    assert run("meld", {"bilirubin": "34.2umol/L", "inr": 1.5, "creatinine": "106.08umol/L"}).value == 15


@settings(max_examples=80, deadline=None)
@given(b1=st.floats(0.2, 60), b2=st.floats(0.2, 60), inr=st.floats(0.8, 6), cr=st.floats(0.3, 8),
       na=st.floats(115, 150))
def test_meld_family_non_decreasing_in_bilirubin(b1, b2, inr, cr, na):
    lo, hi = sorted((b1, b2))
    assert meld(bilirubin=hi, inr=inr, creatinine=cr).value >= meld(bilirubin=lo, inr=inr, creatinine=cr).value
    assert (meld_na(bilirubin=hi, inr=inr, creatinine=cr, sodium=na).value
            >= meld_na(bilirubin=lo, inr=inr, creatinine=cr, sodium=na).value)
    for sex in ("female", "male"):
        assert (meld_3(sex=sex, bilirubin=hi, inr=inr, creatinine=cr, sodium=na, albumin=3).value
                >= meld_3(sex=sex, bilirubin=lo, inr=inr, creatinine=cr, sodium=na, albumin=3).value)


# --- MELD-Na ------------------------------------------------------------------------------
def test_meld_na_optn_and_kim_against_transplantr():
    """INR 1.8, bili 2, Cr 2, Na 131.

    MELD(i) = 0.957 ln2 + 0.378 ln2 + 1.120 ln1.8 + 0.643 = 0.66334 + 0.26201 + 0.65832 + 0.643
    = 2.22667 -> 22. OPTN 2016: 22 + 1.32 x 6 - 0.033 x 22 x 6 = 22 + 7.92 - 4.356 = 25.564 -> 26.
    Kim 2008 (transplantr): 22.2667 - 131 - 0.025 x 22.2667 x 9 + 140 = 26.257.
    """
    r = meld_na(bilirubin=2, inr=1.8, creatinine=2, sodium=131)
    assert r.details["meld"] == 22
    assert r.details["meld_na_unrounded"] == pytest.approx(25.564, abs=1e-9)
    assert r.value == 26
    assert r.details["kim_2008_form"] == pytest.approx(26.257, abs=5e-4)
    assert any("Kim 2008" in n for n in r.notes)


def test_meld_na_hand():
    """MELD 15, Na 130: 15 + 1.32 x 7 - 0.033 x 15 x 7 = 15 + 9.24 - 3.465 = 20.775 -> 21."""
    assert meld_na(bilirubin=2.0, inr=1.5, creatinine=1.2, sodium=130).value == 21


@pytest.mark.parametrize("bili, sodium, expected", [
    # MELD 11 (bili 3: 0.378 ln3 + 0.643 = 1.05828 -> 11): not > 11, sodium ignored.
    (3.0, 125, 11),
    # MELD 12 (bili 4.4: 0.378 x 1.48160 + 0.643 = 1.20305 -> 12): 12 + 9.24 - 2.772 = 18.468 -> 18
    (4.4, 130, 18),
])
def test_meld_na_applies_only_above_11(bili, sodium, expected):
    r = meld_na(bilirubin=bili, inr=1.0, creatinine=1.0, sodium=sodium)
    assert r.value == expected


@pytest.mark.parametrize("low, high", [(120, 125), (140, 137), (150, 137)])
def test_meld_na_sodium_bounds(low, high):
    """Sodium is bounded to 125-137 mmol/L (OPTN 2016)."""
    a = meld_na(bilirubin=4.4, inr=1.2, creatinine=1.3, sodium=low)
    b = meld_na(bilirubin=4.4, inr=1.2, creatinine=1.3, sodium=high)
    assert a.value == b.value and a.details["sodium_used"] == high


# --- MELD 3.0 -----------------------------------------------------------------------------
def test_meld_3_hand():
    """Kim 2021, male, bili 2.0, INR 1.5, Cr 1.2, Na 130, albumin 3.0:
    4.56 ln2 = 3.16076; 0.82 x 7 = 5.74; -0.24 x 7 x ln2 = -1.16449; 9.09 ln1.5 = 3.68568;
    11.14 ln1.2 = 2.03107; 1.85 x 0.5 = 0.925; -1.83 x 0.5 x ln1.2 = -0.16682; + 6 = 20.2112 -> 20.
    Female adds 1.33: 21.5412 -> 22.
    """
    male = meld_3(sex="male", bilirubin=2.0, inr=1.5, creatinine=1.2, sodium=130, albumin=3.0)
    assert male.details["meld_3_unrounded"] == pytest.approx(20.2112, abs=1e-4)
    assert male.value == 20
    female = meld_3(sex="female", bilirubin=2.0, inr=1.5, creatinine=1.2, sodium=130, albumin=3.0)
    assert female.value == 22


def test_meld_3_bounds():
    """Floors/ceilings: everything normal -> 6 (+1.33 female -> 7.33 -> 7).
    Cr capped at 3.0 (not 4.0); dialysis sets 3.0; albumin bounded to 1.5-3.5."""
    assert meld_3(sex="male", bilirubin=0.5, inr=0.9, creatinine=0.6, sodium=140, albumin=4.5).value == 6
    assert meld_3(sex="female", bilirubin=0.5, inr=0.9, creatinine=0.6, sodium=140, albumin=4.5).value == 7
    a = meld_3(sex="male", bilirubin=1, inr=1, creatinine=5, sodium=137, albumin=3.5)
    b = meld_3(sex="male", bilirubin=1, inr=1, creatinine=0.7, sodium=137, albumin=3.5, dialysis=True)
    # 11.14 ln3 + 6 = 12.23844 + 6 = 18.238 -> 18
    assert a.value == b.value == 18
    c = meld_3(sex="male", bilirubin=1, inr=1, creatinine=1, sodium=137, albumin=1.0)
    # albumin 1.0 -> 1.5: 1.85 x 2 + 6 = 9.7 -> 10
    assert c.value == 10


# --- ALBI ---------------------------------------------------------------------------------
def test_albi_hand():
    """Johnson 2015: 0.66 log10(17.1) - 0.085 x 40 = 0.66 x 1.233 - 3.4 = -2.5862 -> grade 2."""
    r = run("albi", {"bilirubin": "17.1umol/L", "albumin": "40g/L"})
    assert r.details["albi_unrounded"] == pytest.approx(0.66 * math.log10(17.1) - 3.4)
    assert r.value == -2.59 and r.category == "2"


@pytest.mark.parametrize("albumin_gl, grade", [
    # bilirubin 10 umol/L (log10 = 1): score = 0.66 - 0.085 x albumin
    ("38.36g/L", "1"),   # -2.6006
    ("38.34g/L", "2"),   # -2.5989
    ("24.12g/L", "2"),   # -1.3902
    ("24.11g/L", "3"),   # -1.38935
])
def test_albi_grade_cutoffs(albumin_gl, grade):
    r = run("albi", {"bilirubin": "10umol/L", "albumin": albumin_gl})
    assert r.category == grade


def test_albi_canonical_units_equal_si():
    """1 mg/dL = 17.1 umol/L, 4 g/dL = 40 g/L."""
    assert albi(bilirubin=1.0, albumin=4.0).details["albi_unrounded"] == pytest.approx(
        run("albi", {"bilirubin": "17.1umol/L", "albumin": "40g/L"}).details["albi_unrounded"])


def test_unknown_unit_is_an_error():
    with pytest.raises(CalculatorInputError) as exc:
        run("albi", {"bilirubin": "17.1 furlong", "albumin": 4})
    assert exc.value.parameter == "bilirubin" and "furlong" in str(exc.value)
    with pytest.raises(CalculatorInputError) as exc:
        run("albi", {"bilirubin": 1, "albumin": "40 mmol/L"})
    assert exc.value.parameter == "albumin"


def test_icg_uses_the_measured_r15_not_its_round_trip_through_k():
    """R15 = 10.0 % entered is exactly on the cut-off ("normal" only below 10 %): impaired,
    decided on 10.0 itself, not on 100*exp(-15*k) recomputed from it (10.000000000000002);
    9.99 % is normal. The value reported is the value entered."""
    on = run("icg", {"icg_r15": 10.0})
    assert on.category == "impaired" and on.value == 10.0
    assert on.details["icg_r15_percent"] == 10.0
    below = run("icg", {"icg_r15": 9.99})
    assert below.category == "normal" and below.value == 9.99
