"""The runner: loose input (strings, units, booleans) in, validated canonical values out."""

from __future__ import annotations

import pytest

from livermet.calculators import CalculatorInputError, get_calculator, missing_inputs, prepare, run


def test_mapping_value_unit_form():
    """The case format {"value": 34.2, "unit": "umol/L"} works like '34.2umol/L' (2.0 mg/dL)."""
    a = run("meld", {"bilirubin": {"value": 34.2, "unit": "umol/L"}, "inr": 1.5, "creatinine": 1.2})
    b = run("meld", {"bilirubin": "34.2 umol/L", "inr": "1.5", "creatinine": "1.2mg/dL"})
    assert a.value == b.value == 15
    assert a.inputs["bilirubin"] == pytest.approx(2.0)


@pytest.mark.parametrize("text, expected", [("true", True), ("Yes", True), ("1", True), (1, True),
                                            ("false", False), ("no", False), (0, False)])
def test_booleans(text, expected):
    r = run("meld", {"bilirubin": 1, "inr": 1, "creatinine": 1, "dialysis": text})
    assert r.inputs["dialysis"] is expected


@pytest.mark.parametrize("raw, field, fragment", [
    ({"bilirubin": "abc", "inr": 1, "creatinine": 1}, "bilirubin", "a number in mg/dL"),
    ({"bilirubin": -1, "inr": 1, "creatinine": 1}, "bilirubin", "0 < value"),
    ({"bilirubin": 1, "inr": 1, "creatinine": 1, "dialysis": "maybe"}, "dialysis", "true or false"),
    ({"bilirubin": 1, "inr": 1, "creatinine": 1, "dialysis": 2}, "dialysis", "true or false"),
    ({"bilirubin": True, "inr": 1, "creatinine": 1}, "bilirubin", "a number"),
    ({"bilirubin": float("nan"), "inr": 1, "creatinine": 1}, "bilirubin", "a number"),
    ({"bilirubin": "1 kg", "inr": 1, "creatinine": 1}, "bilirubin", "does not convert"),
    ({"bilirubin": 1, "inr": 1}, "creatinine", "required"),
    ({"bilirubin": 1, "inr": 1, "creatinine": 1, "bili": 2}, "bili", "accepted: bilirubin, inr"),
])
def test_errors_name_field_value_and_expectation(raw, field, fragment):
    with pytest.raises(CalculatorInputError) as exc:
        run("meld", raw)
    assert exc.value.calculator == "meld"
    assert exc.value.parameter == field
    assert fragment in str(exc.value)
    assert str(exc.value).startswith(f"meld: {field}=")


def test_choice_normalised_and_checked():
    ok = run("child_pugh", {"bilirubin": 1, "albumin": 4, "inr": 1, "ascites": "None",
                            "encephalopathy": "grade-1-2"})
    assert ok.inputs["encephalopathy"] == "grade_1_2"
    with pytest.raises(CalculatorInputError) as exc:
        run("child_pugh", {"bilirubin": 1, "albumin": 4, "inr": 1, "ascites": "mild",
                           "encephalopathy": "none"})
    assert exc.value.parameter == "ascites" and "none | controlled | refractory" in str(exc.value)


def test_int_kind_rejects_fractions():
    with pytest.raises(CalculatorInputError) as exc:
        run("tumour_burden_score", {"lesion_count": 2.5, "largest_diameter_mm": 20})
    assert exc.value.parameter == "lesion_count"
    assert run("tumour_burden_score", {"lesion_count": "3", "largest_diameter_mm": 40}).value == 5.0


def test_ignore_unknown_keys_when_asked():
    flat = {"bilirubin": 1, "albumin": 4, "cea": 3, "id": "demo"}
    assert run("albi", flat, ignore_unknown=True).category == "2"  # -2.586 (see test_albi_hand)
    with pytest.raises(CalculatorInputError):
        run("albi", flat)


def test_unknown_calculator():
    with pytest.raises(CalculatorInputError) as exc:
        get_calculator("meld4")
    assert "meld_na" in exc.value.expected


def test_missing_inputs():
    assert missing_inputs("meld", {}) == ["bilirubin", "inr", "creatinine"]
    assert missing_inputs("meld", {"bilirubin": 1, "inr": 1, "creatinine": 1}) == []
    assert missing_inputs("icgk_f", {"icg_k": 0.1}) == ["remnant_percent"]
    assert missing_inputs("sirt_bsa", {"tumour_ml": 1, "total_liver_ml": 1000, "lung_shunt_percent": 3,
                                       "height_cm": 170}) == ["bsa_m2 | height_cm+weight_kg"]
    # Keys that are not parameters (a whole case flattened) are ignored:
    assert missing_inputs("albi", {"bilirubin": 1, "albumin": 4, "cea": 3}) == []


def test_prepare_applies_defaults():
    v = prepare("sflr", {"remnant_ml": 500, "bsa_m2": 1.9})
    assert v["liver_condition"] == "normal" and v["method"] == "auto" and v["threshold_percent"] is None


def test_direct_call_validates_too():
    from livermet.calculators import meld

    with pytest.raises(CalculatorInputError) as exc:
        meld(bilirubin=0, inr=1, creatinine=1)
    assert exc.value.parameter == "bilirubin"
