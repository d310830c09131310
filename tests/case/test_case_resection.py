"""volumetry.planned_resection is checked against the resections livermet can carry out, and
the case's lesions against the plan's segments.

Segment sets are Brisbane 2000 (Strasberg, HPB 2000;2:333): right hepatectomy = segments 5-8,
left lateral sectionectomy = segments 2-3; a planned name livermet cannot parse used to pass
`validate` and `assess` silently when the case had no images.
"""

from __future__ import annotations

import pytest

from livermet.case import CaseValidationError, load_case, validate_case


def _case(volumetry: dict, lesions: list | None = None) -> dict:
    return {"id": "r1", "volumetry": volumetry,
            "metastases": {"lesions": lesions if lesions is not None else []}}


def _lesion(lid: str, *segments: int) -> dict:
    return {"id": lid, "segments": list(segments), "diameter_mm": 20}


def test_a_misspelt_resection_is_an_error_with_the_names_and_a_suggestion():
    report = validate_case(_case({"planned_resection": "rihgt_hepatectomy"}))
    assert not report.ok
    (p,) = report.for_path("volumetry.planned_resection")
    assert p.is_error and p.code == "vocabulary" and p.value == "rihgt_hepatectomy"
    assert "'rihgt_hepatectomy' is not a resection livermet knows" in p.message
    for name in ("right_hepatectomy", "left_lateral_sectionectomy", "segmentectomy_N", "lesions"):
        assert name in p.expected
    assert p.hint == "did you mean 'right_hepatectomy'?"
    with pytest.raises(CaseValidationError):
        load_case(_case({"planned_resection": "rihgt_hepatectomy"}))


def test_each_unknown_part_of_a_combined_plan_is_named():
    report = validate_case(_case({"planned_resection": "right_hepatectomy+segmentectomy 7+bogus"}))
    messages = [p.message for p in report.for_path("volumetry.planned_resection")]
    assert len(messages) == 2
    assert "'segmentectomy 7' (in " in messages[0] and "'bogus' (in " in messages[1]
    hints = [p.hint for p in report.for_path("volumetry.planned_resection")]
    assert "segmentectomy_7" in hints[0]


@pytest.mark.parametrize("name", ["right_hepatectomy", "Right_Hemihepatectomy", "segmentectomy_7",
                                  "segments:6,7", "right_hepatectomy+segments:2",
                                  "left-lateral-sectionectomy"])
def test_names_livermet_plans_are_accepted(name):
    report = validate_case(_case({"planned_resection": name}))
    assert report.ok, [str(p) for p in report.errors]


def test_a_wedge_plan_needs_its_lesion_ids():
    report = validate_case(_case({"planned_resection": "lesions"}, [_lesion("L1", 3)]))
    (p,) = report.for_path("volumetry.resect_lesions")
    assert p.is_error and p.code == "missing"
    ok = validate_case(_case({"planned_resection": "lesions", "resect_lesions": ["L1"]},
                             [_lesion("L1", 3)]))
    assert ok.ok


def test_a_margin_livermet_cannot_plan_is_an_error():
    report = validate_case(_case({"planned_resection": "lesions", "resect_lesions": ["L1"],
                                  "margin_mm": 70}, [_lesion("L1", 3)]))
    (p,) = report.for_path("volumetry.margin_mm")
    assert p.is_error and "0 to 50 mm" in p.expected


def test_a_lesion_outside_an_anatomic_plan_is_a_consistency_warning():
    case = _case({"planned_resection": "right_hepatectomy"},
                 [_lesion("L1", 6), _lesion("L2", 2), _lesion("L3", 7, 8)])
    report = validate_case(case)
    assert report.ok
    warned = [p for p in report.warnings if p.code == "consistency"]
    assert [p.path for p in warned] == ["metastases.lesions[1].segments"]
    assert warned[0].message == (
        "lesion L2 in segment 2 is outside right_hepatectomy (segments 5-8): it stays in the "
        "remnant unless resected or ablated separately")
    assert warned[0].severity == "warning" and warned[0].value == [2]


def test_a_lesion_removed_by_the_wedge_part_of_the_plan_is_not_left_behind():
    case = _case({"planned_resection": "right_hepatectomy+lesions", "resect_lesions": ["l2"]},
                 [_lesion("L1", 6), _lesion("L2", 2), _lesion("L3", 3)])
    warned = [p for p in validate_case(case).warnings if p.code == "consistency"]
    assert [p.path for p in warned] == ["metastases.lesions[2].segments"]
    assert "lesion L3 in segment 3 is outside right_hepatectomy+lesions (segments 5-8)" in warned[0].message
    assert "resect_lesions" in warned[0].hint


def test_a_lesion_across_the_plan_border_is_named_with_the_segment_left():
    case = _case({"planned_resection": "left_lateral_sectionectomy"}, [_lesion("L1", 3, 4)])
    (p,) = [p for p in validate_case(case).warnings if p.code == "consistency"]
    assert p.message.startswith("lesion L1 in segments 3, 4 extends outside "
                                "left_lateral_sectionectomy (segments 2, 3) into segment 4")


def test_an_unknown_lesion_id_in_resect_lesions_is_a_warning():
    case = _case({"planned_resection": "lesions", "resect_lesions": ["L1", "L9"]},
                 [_lesion("L1", 3)])
    (p,) = validate_case(case).for_path("volumetry.resect_lesions[1]")
    assert p.severity == "warning" and "'L9' is not among the case's lesions (L1)" in p.message


def test_the_demo_case_plan_leaves_no_lesion_behind():
    from livermet.data import load_demo_case

    case = load_demo_case()  # right_posterior_sectionectomy (6, 7); lesions in 7 and 6
    report = validate_case(case.model_dump(mode="json"))
    assert not [p for p in report.warnings if p.code == "consistency"]
