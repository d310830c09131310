"""Work-up, primary search, disappearing metastases, RECIST per time point, pathology, MDT."""

from __future__ import annotations

import pytest

from _decision_cases import make_case
from livermet.decision import assess_options, missing_members, MINIMUM_TEAM


def report(**changes):
    return assess_options(make_case(**changes), {}).to_dict()


def workup(d: dict, code: str) -> dict:
    return next(w for w in d["workup"] if w["code"] == code)


# --- imaging work-up --------------------------------------------------------------------
def test_triphasic_ct_needed_then_done() -> None:
    assert workup(report(), "triphasic_ct")["status"] == "needed"
    single = report(imaging={"studies": [{"modality": "ct", "phase": "portal_venous"}]})
    assert workup(single, "triphasic_ct")["status"] == "needed"
    assert "not as triphasic" in workup(single, "triphasic_ct")["reasons"][0]
    done = report(imaging={"studies": [{"modality": "ct", "phases": ["non_contrast", "arterial",
                                                                      "venous"]}]})
    assert workup(done, "triphasic_ct")["status"] == "done"


def test_mri_for_small_lesions_or_after_chemotherapy() -> None:
    assert workup(report(), "mri_dwi_hsca")["status"] == "not_indicated"
    small = report(**{"metastases.lesions": [{"id": "L1", "segments": [3], "diameter_mm": 8}]})
    assert workup(small, "mri_dwi_hsca")["status"] == "needed"
    assert "L1 < 10 mm" in workup(small, "mri_dwi_hsca")["reasons"][0]
    chemo = report(**{"liver.chemotherapy_weeks": 12})
    assert workup(chemo, "mri_dwi_hsca")["status"] == "needed"
    plain_mri = report(**{"liver.chemotherapy_weeks": 12,
                          "imaging": {"studies": [{"modality": "mri", "contrast": "gadobutrol"}]}})
    assert "lacks DWI" in workup(plain_mri, "mri_dwi_hsca")["reasons"][0]
    good = report(**{"liver.chemotherapy_weeks": 12,
                     "imaging": {"studies": [{"modality": "mri", "contrast": "gadoxetate"}]}})
    assert workup(good, "mri_dwi_hsca")["status"] == "done"
    # the review's figures travel with the item
    ev = " ".join(e["text"] for e in workup(good, "mri_dwi_hsca")["evidence"])
    assert "85%" in ev and "96%" in ev


def test_pet_ct_only_for_rising_cea_with_negative_ct() -> None:
    assert workup(report(), "pet_ct")["status"] == "not_indicated"
    neg = report(**{"labs.cea_rising": True, "metastases.lesions": [],
                    "imaging": {"studies": [{"modality": "ct", "phase": "triphasic",
                                             "result": "negative"}]}})
    assert workup(neg, "pet_ct")["status"] == "needed"
    seen = report(**{"labs.cea_rising": True})
    assert workup(seen, "pet_ct")["status"] == "not_indicated"


def test_dotatate_pet_for_net_only() -> None:
    assert not [w for w in report()["workup"] if w["code"] == "dotatate_pet"]
    net = report(**{"primary.site": "neuroendocrine"})
    item = workup(net, "dotatate_pet")
    assert item["status"] == "needed"
    assert any("[35]" in s["text"] for s in item["sources"])


def test_ious_at_surgery_with_review_figures() -> None:
    item = workup(report(), "ious")
    assert item["status"] == "at_surgery"
    ev = " ".join(e["text"] for e in item["evidence"])
    assert "16%" in ev and "9%" in ev


# --- primary ----------------------------------------------------------------------------
@pytest.mark.parametrize("site, confirmed, needed", [
    ("colorectal", True, False), ("other", None, True), (None, None, True),
    ("breast", False, True)])
def test_primary_workup(site, confirmed, needed) -> None:
    d = report(**{"primary.site": site, "primary.confirmed": confirmed})
    pw = d["primary_workup"]
    assert (pw["status"] == "needed") is needed
    assert "digital rectal examination" in pw["details"]["examinations"]
    assert "breast carcinoma" in pw["details"]["primary_sources"]
    if needed:
        text = " ".join(pw["reasons"])
        for exam in ("digital rectal examination", "colonoscopy", "breast palpation",
                     "skin inspection", "lymph node"):
            assert exam in text


# --- disappearing metastases ------------------------------------------------------------
def test_disappearing_metastasis_flagged_with_review_figures() -> None:
    lesions = [{"id": "L1", "segments": [7], "measurements": [
        {"date": "2026-01-01", "diameter_mm": 15}, {"date": "2026-04-01", "visible": False}]}]
    d = report(**{"metastases.lesions": lesions, "liver.chemotherapy_weeks": 12})
    dm = d["disappearing_metastases"]
    assert dm["status"] == "flagged"
    assert dm["details"]["lesions"][0] == {"lesion": "L1", "last_seen": "2026-01-01",
                                           "not_visible": "2026-04-01", "segments": [7]}
    ev = " ".join(e["text"] for e in dm["evidence"])
    assert "37%" in ev and "11-67%" in ev and "80%" in ev
    assert report()["disappearing_metastases"]["status"] == "none"


# --- RECIST 1.1 -------------------------------------------------------------------------
def _lesion(id_, seg, sizes, dates=("2026-01-01", "2026-03-01", "2026-05-01"), **kw):
    ms = [{"date": d, "diameter_mm": s} for d, s in zip(dates, sizes) if s is not ...]
    return {"id": id_, "segments": [seg], "measurements": ms, **kw}


def timeline(lesions, **changes):
    d = report(**{"metastases.lesions": lesions, **changes})
    return d["response"], [p["response"] for p in d["response"]["details"].get("time_points", [])]


def test_recist_pr_is_not_sticky_pd_against_nadir() -> None:
    # sums 100 -> 60 (-40%, PR) -> 75 (+25% and +15 mm over nadir 60: PD)
    r, seq = timeline([_lesion("L1", 7, (60, 35, 45)), _lesion("L2", 6, (40, 25, 30))])
    assert seq == ["baseline", "PR", "PD"]
    assert r["details"]["time_points"][2]["nadir_mm"] == 60


def test_recist_small_absolute_increase_is_not_pd() -> None:
    # nadir 20 -> 24: +20% but only +4 mm (< 5 mm): not PD; -76% from baseline 100: PR
    r, seq = timeline([_lesion("L1", 7, (60, 12, 15)), _lesion("L2", 6, (40, 8, 9))])
    assert seq == ["baseline", "PR", "PR"]


def test_recist_complete_response_and_new_lesion() -> None:
    gone = [_lesion("L1", 7, (30, 0, 0)), _lesion("L2", 6, (20, 0, 0))]
    _, seq = timeline(gone)
    assert seq == ["baseline", "CR", "CR"]
    new = [_lesion("L1", 7, (30, 20, 20)), _lesion("L2", 6, (20, 14, 14)),
           {"id": "L3", "segments": [2], "measurements": [{"date": "2026-05-01",
                                                           "diameter_mm": 6}]}]
    r, seq = timeline(new)
    assert seq == ["baseline", "PR", "PD"]
    assert r["details"]["time_points"][2]["new_lesions"] == ["L3"]


@pytest.mark.parametrize("size, target", [(10, True), (9.9, False)])
def test_recist_lesion_of_exactly_10_mm_is_measurable(size, target) -> None:
    # RECIST 1.1: measurable when the longest diameter is >= 10 mm at baseline (CT).
    r, _ = timeline([_lesion("L1", 7, (40, 40, 40)), _lesion("L2", 6, (size, size, size))])
    assert r["details"]["targets"] == (["L1", "L2"] if target else ["L1"])


def test_recist_targets_at_most_two_in_the_liver_and_not_evaluable() -> None:
    lesions = [_lesion("L1", 7, (50, 50, 50)), _lesion("L2", 6, (40, 40, 40)),
               _lesion("L3", 5, (30, 30, 30)), _lesion("L4", 2, (8, 8, 8))]
    r, _ = timeline(lesions)
    assert r["details"]["targets"] == ["L1", "L2"]
    missing = [_lesion("L1", 7, (50, ..., 50), dates=("2026-01-01", "2026-03-01", "2026-05-01")),
               _lesion("L2", 6, (40, 40, 40))]
    _, seq = timeline(missing)
    assert seq[1] == "NE"


def test_recist_needs_two_time_points() -> None:
    d = report()
    assert d["response"]["status"] == "not_assessable"


# --- pathology --------------------------------------------------------------------------
@pytest.mark.parametrize("margin, status", [(1.0, "R0"), (0.9, "R1"), (0.0, "R1")])
def test_margin_status_from_pathology(margin, status) -> None:
    d = report(pathology={"margin_mm": margin, "lesion_count": 1, "largest_diameter_mm": 20})
    assert d["pathology"]["details"]["margin_status"] == status


def test_pathology_checklist_lists_what_is_missing() -> None:
    assert report()["pathology"]["status"] == "not_applicable"
    full = {"lesion_count": 2, "largest_diameter_mm": 30, "margin_mm": 2, "trg": 2,
            "viable_tumour_percent": 0, "growth_pattern": "desmoplastic",
            "micrometastases": False, "non_tumour_liver": "none", "halo": False}
    d = report(pathology=full)
    assert d["pathology"]["status"] == "complete"
    assert d["pathology"]["details"]["pathological_response"] == "complete"
    assert any("favourable" in r for r in d["pathology"]["reasons"])
    part = report(pathology={"margin_mm": 2})
    assert part["pathology"]["status"] == "incomplete"
    items = {i["item"]: i["recorded"] for i in part["pathology"]["details"]["checklist"]}
    assert items["margin"] and not items["growth_pattern"] and not items["micrometastases"]


# --- MDT --------------------------------------------------------------------------------
def test_minimum_team_is_the_reviews() -> None:
    assert MINIMUM_TEAM == ("colorectal_surgeon", "hepatobiliary_surgeon", "medical_oncologist",
                            "radiation_oncologist", "radiologist", "pathologist")


def test_missing_members_with_synonyms() -> None:
    attendees = [{"role": "HPB surgeon"}, {"role": "Colorectal Surgeon"},
                 {"role": "medical oncologist"}, {"role": "interventional radiologist"}]
    assert missing_members(attendees) == ["radiation_oncologist", "pathologist"]
    d = report(mdt={"decision": "resect", "attendees": [{"name": "x", "role": r} for r in
                                                          MINIMUM_TEAM]})
    assert d["mdt"]["status"] == "complete" and d["mdt"]["details"]["missing"] == []
    assert report()["mdt"]["status"] == "not_recorded"
