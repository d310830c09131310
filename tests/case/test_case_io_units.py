"""Reading cases (JSON, YAML, text, mappings) and converting labs to canonical units."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from livermet.case import Case, load_case, read_case_data, validate_case
from livermet.data import demo_case_path, load_demo_case


DEMO = json.loads(demo_case_path().read_text(encoding="utf-8"))


def test_demo_case_is_the_issue_example_and_valid():
    case = load_demo_case()
    assert isinstance(case, Case)
    assert case.id == "demo-crc-001"
    assert [les.id for les in case.metastases.lesions] == ["L1", "L2"]
    assert case.volumetry.planned_resection == "right_posterior_sectionectomy"
    assert validate_case(DEMO).problems == ()


@pytest.mark.parametrize(
    "field,given,expected",
    [
        # 1 mg/dL bilirubin = 17.1 umol/L; albumin g/L / 10; creatinine 88.4 umol/L per mg/dL
        ("bilirubin", {"value": 17.1, "unit": "umol/L"}, 1.0),
        ("bilirubin", {"value": 17.1, "unit": "µmol/L"}, 1.0),
        ("bilirubin", "34.2 umol/L", 2.0),
        ("albumin", {"value": 41, "unit": "g/L"}, 4.1),
        ("creatinine", {"value": 88.4, "unit": "umol/L"}, 1.0),
        ("creatinine", {"value": 80, "unit": "umol/L"}, 80 / 88.4),
        ("sodium", {"value": 139, "unit": "mEq/L"}, 139.0),
        ("cea", {"value": 35, "unit": "ug/L"}, 35.0),
        ("platelets", {"value": 230000, "unit": "/uL"}, 230.0),
        ("bilirubin", 0.7, 0.7),
    ],
)
def test_labs_are_converted_to_canonical_units(field, given, expected):
    doc = copy.deepcopy(DEMO)
    doc["labs"][field] = given
    report = validate_case(doc)
    assert report.ok, [str(p) for p in report.problems]
    assert report.case.labs.__getattribute__(field) == pytest.approx(expected, rel=1e-5)
    if isinstance(given, dict):
        conv = [c for c in report.conversions if c["path"] == f"labs.{field}"]
        if given["unit"].lower() not in ("mg/dl", "g/dl", "mmol/l", "ng/ml"):
            assert conv and conv[0]["canonical_value"] == pytest.approx(expected, rel=1e-5)


def test_yaml_and_json_give_the_same_case(tmp_path):
    doc = copy.deepcopy(DEMO)
    path = tmp_path / "case.yaml"
    # meeting_date unquoted: YAML reads a date object; the case keeps an ISO string.
    path.write_text(yaml.safe_dump(doc, sort_keys=False).replace("'2026-11-27'", "2026-11-27"))
    assert "meeting_date: 2026-11-27" in path.read_text()
    from_yaml = load_case(path)
    from_json = load_case(demo_case_path())
    assert from_yaml == from_json
    assert from_yaml.meeting_date == "2026-11-27"


def test_yaml_text_and_mapping_sources():
    text = "id: y1\npatient:\n  age: 70\nlabs:\n  bilirubin: {value: 20, unit: umol/L}\n"
    case = load_case(text)
    assert case.labs.bilirubin == pytest.approx(20 / 17.1, rel=1e-5)
    assert load_case({"id": "m1"}).id == "m1"
    assert read_case_data(json.dumps(DEMO))["id"] == "demo-crc-001"


def test_input_mapping_is_not_modified():
    doc = copy.deepcopy(DEMO)
    doc["labs"]["bilirubin"] = {"value": 17.1, "unit": "umol/L"}
    before = copy.deepcopy(doc)
    validate_case(doc)
    assert doc == before


def test_minimal_case_is_valid():
    report = validate_case({"id": "min"})
    assert report.ok and report.case.labs.bilirubin is None
