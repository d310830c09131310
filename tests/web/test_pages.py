"""The pages and API as users meet them: editor messages by field, JSON and FHIR import and
export, results with options and sources, report downloads, the meeting, CDS Hooks, OpenAPI,
and no patient data in the logs."""

from __future__ import annotations

import copy
import json
import logging
import re

import pytest
from web_support import Client, make_app


@pytest.fixture
def admin(tmp_path):
    app = make_app(tmp_path / "d")
    yield Client(app, "admin")
    app.state.engine.dispose()


def _csrf(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_editor_shows_library_messages_next_to_fields(admin, demo_case):
    a = admin
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    page = a.get(f"/cases/{pk}").text
    form = {"csrf_token": _csrf(page), "version": "1", "id": demo_case["id"], "labs.albumin": "41",
            "patient.age": "61", "lesion-0-id": "L1", "lesion-0-segments": "9", "lesion-0-diameter_mm": "32"}
    r = a.http.post(f"/cases/{pk}", data=form)
    assert r.status_code == 422
    html = r.text
    # the albumin message sits inside the albumin field's block, with the library's hint
    block = re.search(r'<div class="field has-problem" data-path="labs.albumin">(.*?)</div>\s*</div>', html, re.S)
    assert block and "g/L" in block.group(1) and "41" in block.group(1)
    # the lesion's segment problem is in the lesion's row
    row = re.search(r'<tr class="lesion-row" data-index="0">(.*?)</tr>', html, re.S).group(1)
    assert "segment 9 does not exist" in row
    # nothing was saved
    assert a.get(f"/api/cases/{pk}").json()["version"] == 1
    # a valid edit through the form is saved, with a unit kept as typed
    form.update({"labs.albumin": "41", "labs.albumin__unit": "g/L", "lesion-0-segments": "7"})
    r = a.http.post(f"/cases/{pk}", data=form)
    assert r.status_code == 303
    data = a.get(f"/api/cases/{pk}").json()["data"]
    assert data["labs"]["albumin"] == {"value": 41.0, "unit": "g/L"}
    assert data["metastases"]["lesions"][0]["segments"] == [7]
    # fields the form did not show are kept (L2 dropped only because the form listed L1 alone)
    assert data["primary"] == demo_case["primary"]


def test_new_case_form_and_worklist(admin):
    a = admin
    page = a.get("/cases/new").text
    r = a.http.post("/cases/new", data={"csrf_token": _csrf(page), "id": "form-001", "meeting_date": "2026-12-03",
                                        "patient.name": "Form Patient", "patient.age": "70",
                                        "primary.site": "colorectal", "lesion-0-id": "L1",
                                        "lesion-0-segments": "2, 3", "lesion-0-diameter_mm": "15"})
    assert r.status_code == 303
    case = a.get("/api/cases", params={"q": "form-001"}).json()["cases"][0]
    assert case["meeting_date"] == "2026-12-03" and case["patient_name"] == "Form Patient"
    data = a.get(f"/api/cases/{case['pk']}").json()["data"]
    assert data["metastases"]["lesions"] == [{"id": "L1", "segments": [2, 3], "diameter_mm": 15.0,
                                              "near_major_vessel": None, "target": None}]
    assert "form-001" in a.get("/").text


def test_json_export_import_round_trip(admin, demo_case):
    a = admin
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    exported = a.get(f"/api/cases/{pk}/export")
    assert "attachment" in exported.headers["content-disposition"]
    doc = exported.json()
    assert doc == demo_case
    doc["id"] = "copy-1"
    r = a.post("/api/cases/import", content=json.dumps(doc), headers={"Content-Type": "application/json"})
    assert r.status_code == 201 and r.json()["data"] == doc
    r = a.post("/api/cases/import", content="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]


def test_fhir_bundle_import(admin, demo_case):
    from livermet.interop import fhir

    a = admin
    bundle = fhir.case_to_bundle(demo_case)
    bundle = bundle if isinstance(bundle, dict) else json.loads(bundle.json() if hasattr(bundle, "json") else str(bundle))
    r = a.post("/api/cases/import-fhir", content=json.dumps(bundle), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["labs"]["bilirubin"] == pytest.approx(demo_case["labs"]["bilirubin"], rel=1e-3)
    assert data["primary"]["site"] == "colorectal"
    assert isinstance(r.json()["unmapped"], list)


def test_results_report_meeting(admin, demo_case):
    import livermet.assess  # noqa: F401  (part of livermet: never skipped)
    a = admin
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    assessment = a.get(f"/api/cases/{pk}/assessment").json()
    page = a.get(f"/cases/{pk}/results").text
    for opt in assessment.get("options", []):
        assert f'data-code="{opt["code"]}"' in page
    if assessment.get("options"):
        first = assessment["options"][0]
        assert first["reasons"] and first["sources"]
    for name, score in assessment["scores"].items():
        assert f"<td>{name}</td>" in page
    html = a.get(f"/api/cases/{pk}/report.html")
    assert html.status_code == 200 and "<html" in html.text.lower()
    assert demo_case["id"] in html.text
    pdf = a.get(f"/api/cases/{pk}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    named = a.get(f"/api/cases/{pk}/report.html").text
    a.put(f"/api/cases/{pk}", json={"version": 1, "data": dict(demo_case, patient=dict(
        demo_case["patient"], name="Hieronymus Namewell"))})
    assert "Namewell" in a.get(f"/api/cases/{pk}/report.html").text
    deid = a.get(f"/api/cases/{pk}/report.html", params={"deidentify": "true"}).text
    assert "Namewell" not in deid and demo_case["id"] not in deid and named

    r = a.put(f"/api/cases/{pk}/mdt", json={"version": 2, "date": "2026-12-01", "decision": "Resection",
                                            "attendees": [{"name": "Dr H", "role": "hepatobiliary_surgeon"},
                                                          {"name": "Dr R", "role": "radiologist"}],
                                            "follow_up": "CT in 3 months"})
    assert r.status_code == 200
    team = r.json()["team"]
    if team is not None:
        assert "radiologist" not in team["missing"] and "pathologist" in team["missing"]
        page = a.get(f"/cases/{pk}/meeting").text
        assert "pathologist" in page.split('id="team-missing"')[1].split("</p>")[0]
    assert r.json()["case"]["status"] == "discussed"


def test_openapi_and_cds_hooks(admin, demo_case):
    a = admin
    spec = a.get("/openapi.json").json()
    assert "/api/cases/{pk}" in spec["paths"] and "/cds-services" in spec["paths"]
    import livermet.interop.cdshooks  # noqa: F401  (part of livermet: never skipped)
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    disc = a.get("/cds-services").json()
    service = disc["services"][0]
    assert service["hook"] == "patient-view"
    req = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
           "context": {"userId": "Practitioner/1", "patientId": demo_case["id"]},
           "prefetch": {}}
    r = a.post(f"/cds-services/{service['id']}", json=req)
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    assert cards and all({"summary", "indicator", "source"} <= set(c) for c in cards)
    assert pk


def test_no_patient_data_in_logs(tmp_path, demo_case, caplog):
    name, mrn = "Zebulon Quixotefield", "MRN-99887766"
    caplog.set_level(logging.DEBUG)
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    d = copy.deepcopy(demo_case)
    d["patient"].update(name=name, mrn=mrn, birth_date="1961-02-03")
    pk = a.post("/api/cases", json={"data": d}).json()["pk"]
    a.get("/", params={"q": "Quixotefield"})
    a.get("/api/cases", params={"q": mrn})
    a.get(f"/cases/{pk}")
    bad = copy.deepcopy(d)
    bad["patient"]["age"] = name  # an error message quoting the bad value
    a.put(f"/api/cases/{pk}", json={"version": 1, "data": bad})
    a.post("/api/cases", json={"data": {"id": name, "patient": {"name": name}}, "status": "nonsense"})
    a.get(f"/cases/{pk}/results")
    a.get(f"/api/cases/{pk}/report.html")
    a.post("/api/login", json={"username": name, "password": mrn})
    # the server's records (the test's own HTTP client, httpx, logs the URLs it requests)
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(r.getMessage() + str(r.args) + (r.exc_text or "") for r in server)
    assert any(r.name == "livermet.web.access" for r in server), "expected the access log to record requests"
    assert name not in logged and "Quixotefield" not in logged and mrn not in logged
    assert "1961-02-03" not in logged
    app.state.engine.dispose()


def test_import_form_with_a_file(admin, demo_case):
    a = admin
    page = a.get("/").text
    doc = dict(demo_case, id="from-file")
    r = a.http.post("/cases/import", data={"csrf_token": _csrf(page), "kind": "json"},
                    files={"file": ("case.json", json.dumps(doc).encode(), "application/json")})
    assert r.status_code == 303
    assert a.get(r.headers["location"]).status_code == 200
    assert a.get("/api/cases", params={"q": "from-file"}).json()["cases"][0]["case_id"] == "from-file"
    r = a.http.post("/cases/import", data={"csrf_token": _csrf(page), "kind": "json", "document": "[1, 2]"})
    assert r.status_code == 422 and "not a JSON object" in r.text
    # the report may not run scripts or fetch anything
    pk = a.get("/api/cases", params={"q": "from-file"}).json()["cases"][0]["pk"]
    if a.get(f"/api/cases/{pk}/report.html").status_code == 200:
        csp = a.get(f"/api/cases/{pk}/report.html").headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp


def test_crash_logs_no_patient_data(tmp_path, demo_case, caplog, monkeypatch):
    from livermet.web import library

    name = "Philomena Crashworth"
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    d = copy.deepcopy(demo_case)
    d["patient"]["name"] = name
    pk = a.post("/api/cases", json={"data": d}).json()["pk"]

    def boom(data):
        raise RuntimeError(f"cannot assess {data['patient']['name']}")

    monkeypatch.setattr(library, "assess_with_json", boom)
    caplog.set_level(logging.DEBUG)
    r = a.get(f"/api/cases/{pk}/assessment")
    assert r.status_code == 500 and "reference" in r.json()["detail"] and name not in r.text
    server = [x for x in caplog.records if not x.name.startswith(("httpx", "httpcore"))]
    assert any("RuntimeError" in x.getMessage() for x in server)
    assert not any(name in (x.getMessage() + str(x.exc_text)) for x in server)
    app.state.engine.dispose()
