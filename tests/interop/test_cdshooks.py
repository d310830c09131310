"""CDS Hooks patient-view: discovery document, cards (spec schema), service response."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livermet.interop.cdshooks import (CdsRequestError, build_cards, cds_service_response,
                                       discovery)

REPORT_DATA = Path(__file__).parent.parent / "report" / "data"
DEMO = Path(__file__).resolve().parents[2] / "src" / "livermet" / "data" / "demo_case.json"


def _assessment() -> dict:
    return json.loads((REPORT_DATA / "assessment_full.json").read_text())


def _check_card(card: dict) -> None:
    """The CDS Hooks 2.0 Card attributes (required ones and their types/values)."""
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) <= 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert isinstance(card["source"]["label"], str) and card["source"]["label"]
    assert card["source"]["url"].startswith("https://")
    assert isinstance(card.get("detail", ""), str)
    import uuid

    uuid.UUID(card["uuid"])
    for link in card.get("links", []):
        assert set(link) >= {"label", "url", "type"} and link["type"] in ("absolute", "smart")
    assert "suggestions" not in card or card.get("selectionBehavior")


def test_discovery_document():
    d = discovery()
    (svc,) = d["services"]
    assert svc["hook"] == "patient-view" and svc["id"] and svc["description"]
    assert "{{context.patientId}}" in svc["prefetch"]["patient"]
    json.dumps(d)


def test_cards_schema_and_content():
    cards = build_cards(_assessment(), "https://mdt.example/cases/x/report")
    for c in cards:
        _check_card(c)
        assert c["links"][0]["url"] == "https://mdt.example/cases/x/report"
    overview = cards[0]
    assert overview["indicator"] == "info" and "resection" in overview["summary"]
    assert "| resection | Recommended |" in overview["detail"]
    rec = next(c for c in cards if c["summary"].startswith("Recommended: resection"))
    assert "- liver-only disease" in rec["detail"] and "Kishi" in rec["detail"]
    assert any(c["summary"].startswith("Consider: ablation") for c in cards)
    assert not any("transplant" in c["summary"] for c in cards[1:])  # not suitable: table only
    warn = [c for c in cards if c["indicator"] == "warning"]
    assert warn and "cea" in warn[0]["detail"]


def test_long_reason_truncated_and_critical_when_only_supportive_care():
    a = {"case_id": "c", "options": [
        {"code": "best_supportive_care", "status": "recommended", "reasons": ["x" * 300],
         "sources": []},
        {"code": "resection", "status": "not_suitable", "reasons": ["refractory ascites"],
         "sources": []}],
        "scores": {"sflr": {"value": 18.0, "category": "inadequate",
                            "details": {"threshold_percent": 20.0}}}}
    cards = build_cards(a, None)
    for c in cards:
        _check_card(c)
        assert "links" not in c
    assert cards[0]["indicator"] == "critical"
    assert any(c["summary"].endswith("…") for c in cards)
    warn = next(c for c in cards if c["indicator"] == "warning")
    assert "18.0% is below the minimum (20.0%)" in warn["summary"]


def test_empty_assessment_gives_one_info_card():
    cards = build_cards({"case_id": "c", "scores": {}, "missing": {"meld": ["inr"]}})
    assert len(cards) == 1 and cards[0]["indicator"] == "info" and "meld" in cards[0]["detail"]


def _request(pid="p1", hook="patient-view"):
    return {"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": pid}}


def test_service_response_with_precomputed_and_computed_assessment():
    store = {"p1": _assessment()}
    resp = cds_service_response(_request(), store.get, "https://mdt.example/{case_id}/report")
    assert resp["cards"] and resp["cards"][0]["links"][0]["url"] == \
        "https://mdt.example/MRN-TEST-778899/report"
    assert cds_service_response(_request("nobody"), store.get) == {"cards": []}
    import livermet.assess  # noqa: F401  (part of livermet: never skipped)
    demo = json.loads(DEMO.read_text())
    demo["imaging"] = {"labels": "/nonexistent/labels.nii.gz"}  # must not be opened in a hook
    resp = cds_service_response(_request("p2"), {"p2": demo}.get)
    assert resp["cards"]
    for c in resp["cards"]:
        _check_card(c)


@pytest.mark.parametrize("req, field", [
    ([], "request"),
    ({"hook": "order-select", "context": {"patientId": "p"}}, "hook"),
    ({"hook": "patient-view", "context": {}}, "context.patientId"),
])
def test_bad_requests(req, field):
    with pytest.raises(CdsRequestError, match=field):
        cds_service_response(req, lambda pid: None)


def test_service_id_checked():
    from livermet.interop.cdshooks import SERVICE_ID, UnknownServiceError

    assert cds_service_response(_request(), lambda pid: None, service_id=SERVICE_ID) == {"cards": []}
    with pytest.raises(UnknownServiceError, match="unknown"):
        cds_service_response(_request(), lambda pid: None, service_id="other")
