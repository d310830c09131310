"""The per-version caches that keep reads fast: they never serve a stale version, and
concurrent readers of a new version share one computation."""

from __future__ import annotations

import json
import threading
import time

from web_support import Client, make_app


def test_single_flight_assessment(monkeypatch):
    from livermet.web import library

    calls = []

    def slow_assess(data):
        calls.append(data["v"])
        time.sleep(0.2)
        return {"v": data["v"]}, json.dumps({"v": data["v"]}).encode()

    monkeypatch.setattr(library, "assess_with_json", slow_assess)
    cache = library.AssessmentCache()
    out = []
    threads = [threading.Thread(target=lambda: out.append(cache.get_json(1, 1, {"v": 1}))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and out == [b'{"v": 1}'] * 6
    assert cache.peek_json(1, 2) is None
    assert cache.get(1, 2, {"v": 2}) == {"v": 2} and calls == [1, 2]


def test_reads_follow_edits(tmp_path, demo_case):
    """After an edit, the case read and its assessment are those of the new version."""
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    case = a.get(f"/api/cases/{pk}").json()
    before = a.get(f"/api/cases/{pk}/assessment").json()
    data = case["data"]
    data["labs"]["bilirubin"] = 3.5  # jaundice (mg/dL) changes the scores
    r = a.put(f"/api/cases/{pk}", json={"version": case["version"], "data": data})
    assert r.status_code == 200, r.text
    after_case = a.get(f"/api/cases/{pk}").json()
    assert after_case["version"] == case["version"] + 1
    assert after_case["data"]["labs"]["bilirubin"] == 3.5
    after = a.get(f"/api/cases/{pk}/assessment").json()
    assert after != before
    assert after == app.state.assessments.get(pk, after_case["version"], after_case["data"])
    app.state.engine.dispose()
