"""Clinical vignettes: each JSON case in this folder carries an ``_expect`` block whose ``why``
ties the expected statuses and key reasons to the review (section, [ref]) or the cited source.

Each vignette is run through the real pipeline (``livermet.assess.assess_case``: validation,
calculators, then ``livermet.decision.assess_options``) and, separately, through
``assess_options(case, {})`` alone (scores computed by the decision layer itself): both must
meet the expectations.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from livermet.case.model import Case
from livermet.decision import OPTION_CODES, assess_options

HERE = Path(__file__).parent
VIGNETTES = sorted(HERE.glob("*.json"))
PRIMARIES = {"colorectal", "neuroendocrine", "breast", "uveal_melanoma", "sarcoma", "gist"}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _find(decision: dict[str, Any], key: str) -> Any:
    """'workup.pet_ct' -> that work-up item's status; 'response.latest' -> latest RECIST ..."""
    if key == "treatment_intent":
        return decision["treatment_intent"]
    if key.startswith("workup."):
        code = key.split(".", 1)[1]
        items = [w for w in decision["workup"] if w["code"] == code]
        return items[0]["status"] if items else None
    if key == "response.latest":
        return decision["response"]["details"].get("latest")
    if key == "response.sequence":
        return [p["response"] for p in decision["response"]["details"].get("time_points", [])]
    if key == "mdt.missing":
        return decision["mdt"]["details"]["missing"]
    if key == "primary_workup.text":
        return " ".join(decision["primary_workup"]["reasons"]).lower()
    if key.startswith("pathology."):
        return decision["pathology"]["details"].get(key.split(".", 1)[1])
    return decision[key]["status"]


def _check(decision: dict[str, Any], expect: dict[str, Any], label: str) -> None:
    options = {o["code"]: o for o in decision["options"]}
    assert list(options) == list(OPTION_CODES), label
    for code, status in expect["options"].items():
        got = options[code]
        assert got["status"] == status, (
            f"{label}: {code} is {got['status']}, expected {status}; reasons: {got['reasons']}")
    for code, needles in expect.get("reasons", {}).items():
        text = " | ".join(options[code]["reasons"])
        for needle in needles:
            assert needle in text, f"{label}: {code} reasons lack {needle!r}: {text}"
    for key, want in expect.get("findings", {}).items():
        got = _find(decision, key)
        if key == "primary_workup.text":
            assert want in got, f"{label}: {key}"
        else:
            assert got == want, f"{label}: {key} = {got!r}, expected {want!r}"
    for o in options.values():
        assert o["reasons"], f"{label}: {o['code']} has no reason"
        assert o["sources"], f"{label}: {o['code']} has no source"


def test_suite_covers_every_option_and_primary() -> None:
    assert len(VIGNETTES) >= 30
    seen_active: set[str] = set()
    seen_any: set[str] = set()
    primaries: set[str] = set()
    for path in VIGNETTES:
        data = _load(path)
        expect = data["_expect"]
        assert len(expect["why"]) > 40, path.name
        assert "[" in expect["why"] or "(" in expect["why"], f"{path.name}: why cites no source"
        for code, status in expect["options"].items():
            seen_any.add(code)
            if status != "not_suitable":
                seen_active.add(code)
        primaries.add(data.get("primary", {}).get("site"))
    assert seen_active == set(OPTION_CODES), set(OPTION_CODES) - seen_active
    assert PRIMARIES <= primaries, PRIMARIES - primaries


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_validates_against_case_model(path: Path) -> None:
    from livermet.case.validate import validate_case

    data = _load(path)
    report = validate_case(data)
    assert report.ok, [str(p) for p in report.errors]
    # The only unknown field is the expectation block itself.
    unknown = [p for p in report.warnings if getattr(p, "code", "") == "unknown_field"]
    assert all(p.path == "_expect" for p in unknown), [str(p) for p in unknown]
    Case.model_validate(data)


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_through_assess(path: Path) -> None:
    from livermet.assess import assess_case

    data = _load(path)
    assessment = assess_case(data, imaging=False)
    decision = {k: v for k, v in assessment.extras.items()}
    assert "options" in decision
    _check(decision, data["_expect"], path.stem + " (assess_case)")


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_decision_alone(path: Path) -> None:
    data = _load(path)
    report = assess_options(Case.model_validate(data), {})
    _check(report.to_dict(), data["_expect"], path.stem + " (assess_options alone)")
