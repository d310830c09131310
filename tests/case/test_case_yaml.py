"""Case YAML is read with YAML 1.2 core-schema scalars (https://yaml.org/spec/1.2.2/#1032-tag-resolution),
not PyYAML's YAML 1.1 defaults: `ascites: no` was the boolean False, `cirrhosis: yes` True,
`id: 0012` the octal 10, `1:30` the number 90. Values still arriving as booleans in a
vocabulary field, and numbers typed with a decimal comma, are errors with a hint; nothing is
converted silently.
"""

from __future__ import annotations

import pytest
import yaml

from livermet.case import load_case, parse_case_text, validate_case


def _read(text: str) -> dict:
    return parse_case_text(text, "yaml")


@pytest.mark.parametrize("text, value", [
    # YAML 1.2 core: only true/false (any case spelling of the three forms) are booleans
    ("x: true", True), ("x: False", False), ("x: TRUE", True),
    ("x: yes", "yes"), ("x: no", "no"), ("x: on", "on"), ("x: off", "off"), ("x: y", "y"),
    # integers: decimal, 0o octal, 0x hex; floats with a point or an exponent
    ("x: 12", 12), ("x: -3", -3), ("x: 0", 0), ("x: 0o17", 15), ("x: 0x1F", 31),
    ("x: 4.1", 4.1), ("x: 1e3", 1000.0), ("x: .5", 0.5), ("x: -.inf", float("-inf")),
    # a leading zero: octal in YAML 1.1 (0012 = 10), decimal in 1.2 (12): kept as typed
    ("x: 0012", "0012"), ("x: 061", "061"), ("x: [1, 07]", [1, "07"]),
    # YAML 1.1 only: sexagesimal, underscores, timestamps
    ("x: 1:30", "1:30"), ("x: 1_000", "1_000"), ("x: 2026-11-27", "2026-11-27"),
    ("x: ~", None), ("x:", None), ("x: null", None),
    ("x: 1,1", "1,1"), ("x: '0012'", "0012"),
])
def test_yaml_scalars_follow_the_core_schema(text, value):
    assert _read(text)["x"] == value
    assert type(_read(text)["x"]) is type(value)


def test_pyyaml_alone_reads_these_differently():
    # the traps, shown with PyYAML's own SafeLoader (YAML 1.1): what the case reader avoids
    assert yaml.safe_load("a: no\nb: 0012\nc: 1:30") == {"a": False, "b": 10, "c": 90}


def test_an_id_with_leading_zeros_keeps_them(tmp_path):
    f = tmp_path / "case.yaml"
    f.write_text("id: 0012\npatient: {mrn: 00123456, age: 61}\n", encoding="utf-8")
    case = load_case(f)
    assert case.id == "0012" and case.patient.mrn == "00123456" and case.patient.age == 61


def test_a_number_with_a_leading_zero_in_a_numeric_field_is_an_error_with_the_fix():
    report = validate_case(_read("id: x\npatient: {age: 061}"))
    (p,) = report.errors
    assert p.path == "patient.age" and p.value == "061"
    assert p.hint.startswith("write 61 without the leading zero")


def test_anchors_and_merge_keys_still_work():
    data = _read("id: x\nbase: &b {a: 1, c: 3}\nother:\n  <<: *b\n  a: 2\n")
    assert data["other"] == {"a": 2, "c": 3}


def test_ascites_no_gets_none_suggested():
    (p,) = validate_case(_read("id: x\nliver: {ascites: no}")).errors
    assert (p.path, p.value, p.code) == ("liver.ascites", "no", "vocabulary")
    assert p.hint == "did you mean 'none'?"


def test_a_boolean_in_a_vocabulary_field_says_yaml_read_it_as_a_boolean():
    # an unquoted false (or yes/no read by another YAML 1.1 tool, or JSON false)
    (p,) = validate_case({"id": "x", "liver": {"ascites": False}}).errors
    assert p.message == "the boolean false is not an accepted value"
    assert "YAML read it as false" in p.hint and "quoted" in p.hint and '"none"' in p.hint
    (q,) = validate_case({"id": "x", "primary": {"site": True}}).errors
    assert "YAML read it as true" in q.hint and '"none"' not in q.hint


def test_yes_in_a_boolean_field_is_an_error_naming_true():
    (p,) = validate_case(_read("id: x\nliver: {cirrhosis: yes}")).errors
    assert p.path == "liver.cirrhosis" and p.value == "yes"
    assert p.hint == "write true without quotes: only true and false are booleans ('yes' is text)"


def test_a_number_in_a_text_field_says_to_quote_it():
    (p,) = validate_case(_read("id: 12")).errors
    assert p.path == "id" and p.hint.startswith('write it in quotes: "12"')


@pytest.mark.parametrize("text, path, fix", [
    ("labs:\n  inr: 1,1\n", "labs.inr", "write 1.1"),
    ('labs:\n  albumin: "3,5"\n', "labs.albumin", "write 3.5"),
    ("labs:\n  creatinine: 1,2 mg/dL\n", "labs.creatinine", "write 1.2 mg/dL"),
    ("labs:\n  bilirubin: {value: '0,8', unit: mg/dL}\n", "labs.bilirubin.value", "write 0.8"),
    ("patient:\n  height_cm: 175,5\n", "patient.height_cm", "write 175.5"),
    # in a flow mapping YAML splits at the comma: inr: 1 and a field "1"
    ("labs: {inr: 1,1, albumin: 4.1}\n", "labs.inr", "write inr: 1.1"),
])
def test_a_decimal_comma_is_an_error_that_says_so(text, path, fix):
    report = validate_case(_read("id: x\n" + text))
    assert not report.ok
    (p,) = report.errors
    assert p.path == path
    assert fix in p.hint and "unknown unit" not in p.message
    assert not report.warnings  # the split-off "1" is not also an unknown field


def test_a_comma_before_three_digits_is_called_ambiguous():
    (p,) = validate_case(_read("id: x\nlabs:\n  platelets: 150,000\n")).errors
    assert "decimal comma (150.000) or a thousands separator (150000)" in p.hint
