"""A table of bad cases: each must name the exact field path, the value and what was expected.

Every row starts from the (valid) demo case, breaks one thing, and checks the problem the
validator reports at that path. Several problems must come back in one report.
"""

from __future__ import annotations

import copy
import json
import re

import pytest

from livermet.case import (
    CaseFileError,
    CaseParseError,
    CaseValidationError,
    load_case,
    parse_case_text,
    validate_case,
)

from livermet.data import demo_case_path

DEMO = json.loads(demo_case_path().read_text(encoding="utf-8"))


def _set(doc: dict, dotted: str, value) -> None:
    """Set ``a.b[1].c`` in a nested document."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", dotted)
    node = doc
    for part, nxt in zip(parts, parts[1:] + [None]):
        key = int(part[1:-1]) if part.startswith("[") else part
        if nxt is None:
            node[key] = value
        else:
            node = node[key]


# (id, path to set, value to set, path expected in the report, severity, value reported,
#  text expected in the 'expected' field or None, text expected in the hint or None)
BAD = [
    ("wrong type: text age", "patient.age", "sixty", "patient.age", "error", "sixty",
     "number in years", None),
    ("wrong type: bool weight", "patient.weight_kg", True, "patient.weight_kg", "error", True,
     "number in kg", None),
    ("wrong type: quoted boolean", "labs.dialysis", "no", "labs.dialysis", "error", "no",
     "true or false", "without quotes"),
    ("wrong type: lesions not a list", "metastases.lesions", {"id": "L1"}, "metastases.lesions",
     "error", {"id": "L1"}, "list", None),
    ("unknown unit", "labs.bilirubin", {"value": 17, "unit": "furlongs"}, "labs.bilirubin.unit",
     "error", "furlongs", "umol/l", None),
    ("unit of another quantity", "labs.albumin", {"value": 41, "unit": "mmol/L"},
     "labs.albumin.unit", "error", "mmol/L", "g/L", None),
    ("unit in a string, unknown", "labs.creatinine", "80 parsecs", "labs.creatinine", "error",
     "80 parsecs", "umol/l", None),
    ("lab without unit", "labs.albumin", {"value": 4.1}, "labs.albumin", "error", {"value": 4.1},
     "g/dL", "unit"),
    ("albumin 41 'g/dL' is g/L", "labs.albumin", 41, "labs.albumin", "error", 41, "g/dL",
     "4.1 g/dL"),
    ("creatinine 80 'mg/dL' is umol/L", "labs.creatinine", 80, "labs.creatinine", "error", 80,
     "mg/dL", "0.905 mg/dL"),
    ("albumin 4.1 'g/L' is g/dL", "labs.albumin", {"value": 4.1, "unit": "g/L"}, "labs.albumin",
     "error", {"value": 4.1, "unit": "g/L"}, "g/dL", "probably g/dL"),
    ("weight in pounds", "patient.weight_kg", 250, "patient.weight_kg", "warning", 250, "kg",
     "113.4 kg"),
    ("INR 85 is a Quick value", "labs.inr", 85, "labs.inr", "error", 85, None, "Quick"),
    ("platelets per uL", "labs.platelets", 230000, "labs.platelets", "error", 230000, None,
     "230 10^9/L"),
    ("ICG-R15 as a fraction", "labs.icg_r15", 0.06, "labs.icg_r15", "warning", 0.06, None,
     "6 %"),
    ("bilirubin 0", "labs.bilirubin", 0, "labs.bilirubin", "error", 0, "0 < value", None),
    ("sodium impossible", "labs.sodium", 13.9, "labs.sodium", "error", 13.9, "mmol/L", None),
    ("age impossible", "patient.age", 200, "patient.age", "error", 200, "years", None),
    ("height in metres", "patient.height_cm", 1.75, "patient.height_cm", "error", 1.75, "cm",
     "175 cm"),
    ("weight zero", "patient.weight_kg", 0, "patient.weight_kg", "error", 0, "kg", None),
    ("ECOG 5", "patient.ecog", 5, "patient.ecog", "error", 5, "0 <= value <= 4", None),
    ("ECOG not whole", "patient.ecog", 1.5, "patient.ecog", "error", 1.5, "whole number", None),
    ("percent over 100", "metastases.liver_involvement_percent", 150,
     "metastases.liver_involvement_percent", "error", 150, "100", None),
    ("Ki-67 negative", "primary.ki67_percent", -1, "primary.ki67_percent", "error", -1, "%", None),
    ("negative lesion size", "metastases.lesions[1].diameter_mm", -18,
     "metastases.lesions[1].diameter_mm", "error", -18, "mm", None),
    ("lesion size in cm", "metastases.lesions[0].diameter_mm", 3.2,
     "metastases.lesions[0].diameter_mm", "warning", 3.2, "mm", "32 mm"),
    ("duplicate lesion id", "metastases.lesions[1].id", "L1", "metastases.lesions[1].id",
     "error", "L1", "unique", None),
    ("segment 9", "metastases.lesions[0].segments", [9], "metastases.lesions[0].segments[0]",
     "error", 9, "1-8", "caudate"),
    ("segment 0", "metastases.lesions[1].segments", [6, 0], "metastases.lesions[1].segments[1]",
     "error", 0, "1-8", None),
    ("segment 4a", "metastases.lesions[1].segments", ["4a"],
     "metastases.lesions[1].segments[0]", "error", "4a", "integer", "write 4"),
    ("unknown site", "primary.site", "crc", "primary.site", "error", "crc", "colorectal |",
     "'colorectal'"),
    ("unknown sex", "patient.sex", "M", "patient.sex", "error", "M", "female | male", "'male'"),
    ("unknown ascites grade", "liver.ascites", "mild", "liver.ascites", "error", "mild",
     "none | controlled | refractory", "'controlled'"),
    ("remnant larger than liver", "volumetry.remnant_ml", 1700, "volumetry.remnant_ml", "error",
     1700, "1650", None),
    ("remnant larger than tumour-free liver", "volumetry.remnant_ml", 1620,
     "volumetry.remnant_ml", "error", 1620, "1605", None),
    ("tumour as large as liver", "volumetry.tumour_ml", 1650, "volumetry.tumour_ml", "error",
     1650, "total_liver_ml", None),
    ("liver volume in litres", "volumetry.total_liver_ml", 1.65, "volumetry.total_liver_ml",
     "error", 1.65, "mL", "1650 mL"),
    ("extrahepatic sites while absent", "metastases.extrahepatic.sites", ["lung"],
     "metastases.extrahepatic.sites", "warning", ["lung"], None, "present: true"),
    ("months since resection, not resected", "primary.resected", False,
     "primary.months_since_resection", "warning", 14, None, None),
    ("date not ISO", "meeting_date", "27/11/2026", "meeting_date", "error", "27/11/2026",
     "YYYY-MM-DD", None),
    ("typo in a lab name", "labs.bilirubn", 0.7, "labs.bilirubn", "warning", 0.7, None,
     "'bilirubin'"),
    ("id missing", "id", None, "id", "error", None, None, None),
]


@pytest.mark.parametrize(
    "where,value,path,severity,reported,expected,hint",
    [row[1:] for row in BAD],
    ids=[row[0] for row in BAD],
)
def test_bad_case_names_the_field(where, value, path, severity, reported, expected, hint):
    doc = copy.deepcopy(DEMO)
    if where == "id":
        del doc["id"]
    else:
        _set(doc, where, value)
    report = validate_case(doc)
    found = report.for_path(path)
    assert found, f"no problem at {path}; got {[str(p) for p in report.problems]}"
    p = found[0]
    assert p.severity == severity, str(p)
    assert p.value == reported
    if expected is not None:
        assert expected.lower() in (p.expected or "").lower(), p.expected
    if hint is not None:
        assert p.hint and hint.lower() in p.hint.lower(), p.hint
    assert p.message
    # An error blocks the case; a warning does not.
    assert report.ok == (severity == "warning" and not report.errors)
    assert (report.case is None) == (not report.ok)


def test_every_problem_is_reported_at_once():
    doc = copy.deepcopy(DEMO)
    doc["patient"]["age"] = "sixty"
    doc["primary"]["site"] = "crc"
    doc["labs"]["albumin"] = 41
    doc["labs"]["sodium"] = {"value": 139, "unit": "furlongs"}
    doc["metastases"]["lesions"][1]["id"] = "L1"
    doc["metastases"]["lesions"][0]["segments"] = [9]
    doc["volumetry"]["remnant_ml"] = 1700
    report = validate_case(doc)
    paths = {p.path for p in report.errors}
    assert paths >= {
        "patient.age", "primary.site", "labs.albumin", "labs.sodium.unit",
        "metastases.lesions[1].id", "metastases.lesions[0].segments[0]", "volumetry.remnant_ml",
    }
    with pytest.raises(CaseValidationError) as info:
        load_case(doc)
    assert len(info.value.report.errors) == len(report.errors)


def test_valid_case_with_unusual_bilirubin_warns_with_the_si_reading():
    # 17 "mg/dL" is possible (deep jaundice) but is also a normal value in umol/L.
    doc = copy.deepcopy(DEMO)
    doc["labs"]["bilirubin"] = 17
    report = validate_case(doc)
    assert report.ok
    (p,) = report.for_path("labs.bilirubin")
    assert p.severity == "warning"
    assert "umol/L" in p.hint and f"{17 / 17.1:.3g}" in p.hint


def test_broken_json_gives_line_and_column():
    text = '{\n  "id": "x",\n  "patient": {"age": 61,}\n}\n'
    with pytest.raises(CaseParseError) as info:
        parse_case_text(text)
    exc = info.value
    assert exc.line == 3
    assert exc.column == text.splitlines()[2].index(",}") + 2  # 1-based column of '}'
    assert "line 3" in str(exc) and exc.hint


def test_broken_yaml_gives_line():
    text = "id: x\npatient:\n  age: 61\n   sex: male\n"
    with pytest.raises(CaseParseError) as info:
        parse_case_text(text, "yaml")
    assert info.value.line == 4
    assert info.value.fmt == "yaml"


def test_nan_is_not_a_number():
    text = json.dumps(DEMO).replace('"age": 61', '"age": NaN')
    report = validate_case(parse_case_text(text))
    assert report.for_path("patient.age")[0].is_error


@pytest.mark.parametrize("doc", ["[1, 2]", "42", ""])
def test_top_level_must_be_an_object(doc):
    with pytest.raises(CaseParseError):
        parse_case_text(doc, "yaml")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CaseFileError) as info:
        load_case(tmp_path / "absent.json")
    assert "file not found" in str(info.value)


def test_lesion_without_id():
    doc = copy.deepcopy(DEMO)
    doc["metastases"]["lesions"].append({"segments": [2], "diameter_mm": 12})
    report = validate_case(doc)
    assert report.for_path("metastases.lesions[2].id")[0].code == "missing"


def test_problem_to_dict_is_json():
    doc = copy.deepcopy(DEMO)
    doc["labs"]["albumin"] = 41
    out = json.loads(json.dumps(validate_case(doc).to_dict()))
    assert out["valid"] is False
    (p,) = [p for p in out["problems"] if p["path"] == "labs.albumin"]
    assert p["value"] == 41 and p["severity"] == "error" and p["hint"]


@pytest.mark.parametrize(
    "text,fmt,line",
    [('{\n "id": "x",\n "labs": {"albumin": 4.1,\n   "albumin": 41}}', "json", 4),
     ("id: x\nlabs:\n  albumin: 4.1\n  albumin: 41\n", "yaml", 4)],
)
def test_duplicate_keys_are_refused_not_silently_overwritten(text, fmt, line):
    with pytest.raises(CaseParseError) as info:
        parse_case_text(text, fmt)
    assert "'albumin' appears twice" in str(info.value)
    assert info.value.line == line
