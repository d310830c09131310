"""QA: the case refused a height below 50 cm while the volumetry/calculator height parameter
accepted 30 cm (and weights 1-10 kg). Both now read one definition (livermet.case.ranges)."""

from __future__ import annotations

import pytest

from livermet.calculators import REGISTRY, CalculatorInputError, run
from livermet.case import validate_case
from livermet.case.ranges import FIELD_SPECS


def test_every_height_and_weight_parameter_has_the_case_range():
    seen = 0
    for calc in REGISTRY.values():
        for p in calc.params:
            if p.name in ("height_cm", "weight_kg"):
                assert (p.minimum, p.maximum) == FIELD_SPECS[f"patient.{p.name}"].hard, calc.name
                seen += 1
    assert seen >= 6  # bsa, standard_liver_volume, sflr, sirt_bsa ...


@pytest.mark.parametrize("height, ok", [(49.9, False), (50, True), (272, True), (272.1, False)])
def test_case_and_calculator_agree_at_the_height_limits(height, ok):
    case_ok = not validate_case({"id": "x", "patient": {"height_cm": height}}).errors
    try:
        run("bsa", {"height_cm": height, "weight_kg": 70})
        calc_ok = True
    except CalculatorInputError:
        calc_ok = False
    assert case_ok is ok and calc_ok is ok


@pytest.mark.parametrize("weight, ok", [(9.9, False), (10, True), (650, True), (650.5, False)])
def test_case_and_calculator_agree_at_the_weight_limits(weight, ok):
    errors = [p for p in validate_case({"id": "x", "patient": {"weight_kg": weight}}).errors]
    try:
        run("bsa", {"height_cm": 175, "weight_kg": weight})
        calc_ok = True
    except CalculatorInputError:
        calc_ok = False
    assert (not errors) is ok and calc_ok is ok
