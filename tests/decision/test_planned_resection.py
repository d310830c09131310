"""The resection option says whether the case's planned resection takes every listed lesion
(Brisbane 2000 segment sets), without changing the option's status."""

from __future__ import annotations

from _decision_cases import make_case
from livermet.assess import assess_case


def _resection(case: dict) -> dict:
    a = assess_case(case).to_dict()
    return next(o for o in a["options"] if o["code"] == "resection")


def _plan_reasons(option: dict) -> list[str]:
    return [r for r in option["reasons"] if "planned" in r]


def test_a_plan_that_takes_every_lesion_says_so():
    o = _resection(make_case(**{"volumetry.planned_resection": "right_posterior_sectionectomy"}))
    assert _plan_reasons(o) == ["The planned right_posterior_sectionectomy (segments 6,7) takes every listed lesion"]
    assert o["status"] == "recommended"


def test_a_lesion_outside_the_plan_is_named_and_the_status_is_unchanged():
    lesions = [{"id": "L1", "segments": [7], "diameter_mm": 25}, {"id": "L2", "segments": [3], "diameter_mm": 12}]
    base = _resection(make_case(**{"metastases.lesions": lesions}))
    o = _resection(make_case(**{"metastases.lesions": lesions, "volumetry.planned_resection": "right_hepatectomy"}))
    assert _plan_reasons(o) == [
        "The planned right_hepatectomy (segments 5,6,7,8) leaves L2 in segment(s) 3: resect it separately "
        "(parenchyma-sparing) or ablate it, or widen the plan"]
    assert o["status"] == base["status"]
    # removing L2 non-anatomically in the same plan answers it
    o = _resection(make_case(**{"metastases.lesions": lesions, "volumetry.planned_resection": "right_hepatectomy+lesions",
                                "volumetry.resect_lesions": ["L2"]}))
    assert _plan_reasons(o) == ["The planned right_hepatectomy+lesions (segments 5,6,7,8) takes every listed lesion"]


def test_a_lesion_astride_the_plans_border_is_named():
    lesions = [{"id": "L1", "segments": [4, 8], "diameter_mm": 40}]
    o = _resection(make_case(**{"metastases.lesions": lesions, "volumetry.planned_resection": "right_hepatectomy"}))
    assert _plan_reasons(o) == [
        "L1 in segments 4,8 crosses the border of the planned right_hepatectomy (segments 5,6,7,8): the margin "
        "at that border needs a wider or added resection"]


def test_no_plan_or_a_lesion_only_plan_adds_nothing():
    assert _plan_reasons(_resection(make_case())) == []
    o = _resection(make_case(**{"volumetry.planned_resection": "lesions", "volumetry.resect_lesions": ["L1", "L2"]}))
    assert _plan_reasons(o) == []
