"""Unit conversion against definitions outside livermet (SI prefixes, the curie, the calendar,
the inch and pound) and the clinical factors of calculators.md (bilirubin 17.1, creatinine 88.4).

Each expected value is worked by hand in the comment beside it; none is read back from
``livermet.units``.
"""

from __future__ import annotations

import pytest

from livermet.units import UnitError, canonical_unit, convert, parse_value_with_unit


@pytest.mark.parametrize("quantity, value, unit, expected", [
    # bilirubin: 1 mg/dL = 17.1 umol/L, so 34.2 umol/L = 2 mg/dL; 0.0342 mmol/L = 34.2 umol/L
    ("bilirubin", 34.2, "umol/L", 2.0),
    ("bilirubin", 34.2, "µmol/L", 2.0),
    ("bilirubin", 0.0342, "mmol/L", 2.0),
    # albumin: 1 g/dL = 10 g/L = 1000 mg/dL
    ("albumin", 35, "g/L", 3.5),
    ("albumin", 3500, "mg/dL", 3.5),
    # creatinine: 1 mg/dL = 10 mg/L = 88.4 umol/L = 0.0884 mmol/L
    ("creatinine", 12, "mg/L", 1.2),
    ("creatinine", 176.8, "umol/L", 2.0),
    ("creatinine", 0.1768, "mmol/L", 2.0),
    # platelets: 150 x 10^9/L = 150,000 /uL
    ("platelets", 150000, "/uL", 150.0),
    # CEA: 1 ng/mL = 1 ug/L; 1 mg/L = 1000 ng/mL
    ("cea", 0.25, "mg/L", 250.0),
    # lengths and body size: 1 in = 2.54 cm (exact); 1 lb = 0.45359237 kg (exact)
    ("length", 4.5, "cm", 45.0),
    ("height", 70, "in", 177.8),
    ("height", 1.75, "m", 175.0),
    ("mass", 150, "lb", 68.0388555),
    ("mass", 72000, "g", 72.0),
    # volumes: 1 L = 1000 mL; 1 mL = 1 cm3 = 1000 mm3
    ("volume", 1.65, "L", 1650.0),
    ("volume", 45000, "mm3", 45.0),
    ("volume", 620, "cm3", 620.0),
    # time: 14 days = 2 weeks; 2 years = 24 months
    ("time_weeks", 14, "days", 2.0),
    ("time_weeks", 14, "d", 2.0),
    ("time_months", 2, "years", 24.0),
    ("time_months", 2, "y", 24.0),
    # dose and activity: 1 Gy = 100 cGy; 1 Ci = 3.7e10 Bq, so 1 mCi = 37 MBq = 0.037 GBq
    ("dose", 4500, "cGy", 45.0),
    ("activity", 100, "mCi", 3.7),
    ("activity", 1500, "MBq", 1.5),
])
def test_conversion_to_the_canonical_unit(quantity, value, unit, expected):
    assert convert(quantity, value, unit) == pytest.approx(expected, rel=1e-9)


def test_canonical_units_and_no_unit_are_unchanged():
    assert (canonical_unit("bilirubin"), canonical_unit("albumin"), canonical_unit("volume")) == \
        ("mg/dL", "g/dL", "mL")
    assert convert("bilirubin", 1.3, None) == 1.3
    assert convert("bilirubin", 1.3, "mg/dL") == 1.3


def test_a_unit_of_another_quantity_is_refused():
    with pytest.raises(UnitError) as exc:
        convert("albumin", 40, "mmol/L")
    assert exc.value.quantity == "albumin" and exc.value.unit == "mmol/L"
    assert "g/l" in str(exc.value).lower()  # says what would have been accepted


@pytest.mark.parametrize("text, expected", [
    ("34umol/L", (34.0, "umol/L")), ("1.2", (1.2, None)), (" 4.5 cm ", (4.5, "cm")),
    ("1e3mm3", (1000.0, "mm3")), ("-2", (-2.0, None)),
])
def test_parse_value_with_unit(text, expected):
    assert parse_value_with_unit(text) == expected


def test_parse_refuses_text_without_a_number():
    with pytest.raises(ValueError, match="not a number"):
        parse_value_with_unit("high")
