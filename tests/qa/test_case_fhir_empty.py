"""QA: `livermet fhir import` of an empty Bundle gave a valid case (only an id), exit 0 and not
a word. It still gives that case (nothing is wrong with it), with a warning that nothing
clinical was found."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.interop.fhir import bundle_json, bundle_to_case, case_to_bundle


def test_an_empty_bundle_is_said_to_hold_nothing_clinical(tmp_path):
    case, unmapped = bundle_to_case({"resourceType": "Bundle", "type": "collection", "entry": []})
    assert case == {"id": "fhir-patient"}
    assert unmapped == [("nothing clinical found in the bundle (0 entries): the case holds only an "
                         "id; is this the patient's clinical bundle?")]
    f = tmp_path / "bundle.json"
    f.write_text(json.dumps({"resourceType": "Bundle", "type": "collection"}), encoding="utf-8")
    r = CliRunner().invoke(app, ["fhir", "import", str(f), "--json"])
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["valid"] is True and "nothing clinical found" in out["unmapped"][0]


def test_a_patient_alone_is_only_demographics():
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-04-02"}}]}
    case, unmapped = bundle_to_case(bundle)
    assert case["patient"]["sex"] == "female"
    assert unmapped == [("nothing clinical found in the bundle (1 entry): the case holds only the "
                         "patient's identity and demographics; is this the patient's clinical bundle?")]


def test_a_bundle_with_clinical_data_has_no_such_warning():
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Patient", "id": "p1", "gender": "female"}}]}
    case = {"id": "x", "patient": {"sex": "female"}, "labs": {"albumin": 4.0}}
    assert bundle_to_case(bundle_json(case_to_bundle(case)))[1] == []
    # livermet's own export of a case with nothing clinical names the case: nothing was lost
    assert bundle_to_case(bundle_json(case_to_bundle({"id": "empty"})))[1] == []
    assert len(bundle_to_case(bundle)[1]) == 1
