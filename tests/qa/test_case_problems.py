"""Each problem in a case is reported once: a JSON NaN lab was listed twice."""

from __future__ import annotations

import json

from livermet.case.io import read_case_data
from livermet.case.validate import validate_case


def test_nan_lab_is_one_problem(tmp_path):
    f = tmp_path / "case.json"
    f.write_text('{"id": "x", "labs": {"bilirubin": NaN, "albumin": 4.0}}')
    report = validate_case(read_case_data(f))
    assert [p.path for p in report.errors] == ["labs.bilirubin"]


def test_nan_inside_a_lab_object_is_one_problem():
    report = validate_case(json.loads('{"id": "x", "labs": {"albumin": {"value": NaN, "unit": "g/L"}}}'))
    assert [p.path for p in report.errors] == ["labs.albumin.value"]


def test_an_empty_case_file_is_called_empty(tmp_path):
    import pytest

    from livermet.case.errors import CaseError

    for name in ("case.json", "case.yaml"):
        f = tmp_path / name
        f.write_text("\n  \n")
        with pytest.raises(CaseError) as e:
            read_case_data(f)
        assert "is empty" in str(e.value)
