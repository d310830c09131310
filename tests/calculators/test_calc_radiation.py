"""BED/EQD2 and SIRT activity (resin BSA method, glass MIRD)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.calculators import CalculatorInputError, bed, run, sirt_bsa, sirt_mird


def test_bed_hand():
    """3 x 15 Gy, alpha/beta 10: 45 x (1 + 1.5) = 112.5 Gy; EQD2 = 112.5 / 1.2 = 93.75 Gy."""
    r = bed(dose_per_fraction_gy=15, fractions=3)
    assert r.value == 112.5
    assert r.details["eqd2_gy"] == pytest.approx(93.75)
    assert r.details["meets_bed10_target"] is True


@pytest.mark.parametrize("d, n, bed10, meets", [
    (10, 5, 100.0, True),  # 50 x 2 = 100 Gy10: calculators.md's ">= 100" is met
    (9.9, 5, 98.51, False),  # 49.5 x 1.99 = 98.505 Gy10
    (10.1, 5, 101.51, True),  # 50.5 x 2.01 = 101.505 Gy10
    (12, 4, 105.6, True),  # 48 x 2.2 = 105.6 Gy10
    (8, 5, 72.0, False),  # 40 x 1.8 = 72 Gy10
])
def test_bed10_target(d, n, bed10, meets):
    """calculators.md (the calculators' named definition): BED10 >= 100 Gy. Ohri (HyTEC), who
    grouped lesions as "exceeding 100 Gy10" vs "<=100 Gy10", is shown beside it: at exactly
    100 Gy10 the note says that their grouping puts the plan in the lower group."""
    r = bed(dose_per_fraction_gy=d, fractions=n)
    assert r.value == pytest.approx(bed10)
    assert r.details["meets_bed10_target"] is meets
    texts = [s.citation for s in r.sources]
    assert any("calculators.md" in t and ">= 100" in t for t in texts)
    assert any("Ohri" in t and "HyTEC" in t for t in texts)
    assert any("Schefter" in t and "700 mL" in t for t in texts)
    assert not any(s.check for s in r.sources)
    assert any(">= 100 Gy10 local-control target (calculators.md)" in n and "lower group" in n for n in r.notes)


def test_bed_normal_liver_constraint_note():
    """Schefter 2005: "At least 700 mL of normal liver had to receive a total dose <15 Gy"."""
    r = bed(dose_per_fraction_gy=20, fractions=3)
    assert "Normal liver: keep at least 700 mL below 15 Gy in 3 fractions (Schefter 2005)." in r.notes


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 40), ab=st.floats(1, 20))
def test_eqd2_of_2_gy_fractions_is_the_physical_dose(n, ab):
    """The LQ identity: 2 Gy fractions have EQD2 equal to the total dose, for any alpha/beta."""
    r = bed(dose_per_fraction_gy=2, fractions=n, alpha_beta=ab)
    assert r.details["eqd2_gy"] == pytest.approx(2.0 * n)


def test_bed_units_cgy():
    """800 cGy = 8 Gy: 5 x 8 x 1.8 = 72 Gy."""
    assert run("bed", {"dose_per_fraction_gy": "800cGy", "fractions": 5}).value == 72.0


def test_bed_rejects_fractional_fractions():
    with pytest.raises(CalculatorInputError) as exc:
        run("bed", {"dose_per_fraction_gy": 8, "fractions": 2.5})
    assert exc.value.parameter == "fractions"


SIRT = {"bsa_m2": 1.8, "tumour_ml": 300, "total_liver_ml": 1500}


@pytest.mark.parametrize("lsf, factor, cat", [
    (0, 1.0, "treat"), (9.99, 1.0, "treat"),
    (10, 0.8, "treat"), (15, 0.8, "treat"),
    (15.01, 0.6, "treat"), (20, 0.6, "treat"),
    (20.01, 0.0, "do_not_treat"),
])
def test_sirt_bsa_lung_shunt_bands(lsf, factor, cat):
    """(1.8 - 0.2) + 300/1500 = 1.8 GBq, then x 1 / 0.8 / 0.6 / do not treat (check)."""
    r = sirt_bsa(**SIRT, lung_shunt_percent=lsf)
    assert r.details["activity_before_reduction_gbq"] == pytest.approx(1.8)
    assert r.value == pytest.approx(round(1.8 * factor, 2))
    assert r.category == cat


def test_sirt_bsa_over_20_percent_cites_the_manufacturer_contraindication():
    """Sirtex (US): "greater than 20% lung shunting" is a contraindication; 20% itself is not."""
    over = sirt_bsa(**SIRT, lung_shunt_percent=20.01)
    assert any("greater than 20% lung shunting" in s.citation for s in over.sources)
    at = sirt_bsa(**SIRT, lung_shunt_percent=20)
    assert at.category == "treat"
    assert not any("greater than 20% lung shunting" in s.citation for s in at.sources)
    # The 20% / 40% reductions are still unconfirmed: the result stays flagged.
    assert any(s.check for s in at.sources)


def test_sirt_bsa_from_height_weight_dubois():
    """170 cm, 70 kg: DuBois BSA 1.80972 -> 1.60972 + 0.2 = 1.80972 GBq -> 1.81."""
    r = run("sirt_bsa", {"height_cm": 170, "weight_kg": 70, "tumour_ml": 300, "total_liver_ml": 1500,
                         "lung_shunt_percent": 5})
    assert r.details["bsa_m2"] == pytest.approx(1.80972, abs=5e-5)
    assert r.value == 1.81


def test_sirt_bsa_tumour_larger_than_liver_is_an_error():
    with pytest.raises(CalculatorInputError) as exc:
        run("sirt_bsa", {**SIRT, "tumour_ml": 1600, "lung_shunt_percent": 5})
    assert exc.value.parameter == "tumour_ml"


def test_sirt_mird_hand():
    """120 Gy x 1.2 kg / (50 x 0.9) = 3.2 GBq; lung 50 x 3.2 x 0.1 = 16 Gy."""
    r = sirt_mird(target_dose_gy=120, target_mass_kg=1.2, lung_shunt_percent=10)
    assert r.value == 3.2
    assert r.details["lung_dose_gy"] == pytest.approx(16.0)
    assert r.category == "within_lung_limit"


def test_sirt_mird_lung_limits():
    """LSF 20%: A = D x 1 / 40; lung = 50 x A x 0.2 = D / 4. D = 120 -> 30 Gy (at the limit);
    D = 124 -> 31 Gy (over). Prior 25 Gy + 30 = 55 > 50 cumulative."""
    at = sirt_mird(target_dose_gy=120, target_mass_kg=1.0, lung_shunt_percent=20)
    assert at.details["lung_dose_gy"] == pytest.approx(30.0) and at.category == "within_lung_limit"
    over = sirt_mird(target_dose_gy=124, target_mass_kg=1.0, lung_shunt_percent=20)
    assert over.category == "lung_limit_exceeded"
    cum = sirt_mird(target_dose_gy=120, target_mass_kg=1.0, lung_shunt_percent=20, prior_lung_dose_gy=25)
    assert cum.category == "lung_limit_exceeded"
    # D = 40 -> lung 10 Gy; prior 40 + 10 = 50 Gy is at the cumulative limit (not over it)
    at_cum = sirt_mird(target_dose_gy=40, target_mass_kg=1.0, lung_shunt_percent=20, prior_lung_dose_gy=40)
    assert at_cum.details["cumulative_lung_dose_gy"] == pytest.approx(50.0)
    assert at_cum.category == "within_lung_limit"


def test_sirt_mird_sources_confirmed():
    """The MIRD formula and the 30/50 Gy lung limits are no longer flagged (secondary sources)."""
    r = sirt_mird(target_dose_gy=120, target_mass_kg=1.2, lung_shunt_percent=10)
    assert not any(s.check for s in r.sources)
    texts = " ".join(s.citation for s in r.sources)
    assert "50 x A (GBq) x (1 - F) / M (kg)" in texts and "30 Gy per treatment" in texts


def test_sirt_mird_units():
    """1200 g = 1.2 kg; 12000 cGy = 120 Gy."""
    r = run("sirt_mird", {"target_dose_gy": "12000cGy", "target_mass_kg": "1200g", "lung_shunt_percent": 10})
    assert r.value == 3.2
