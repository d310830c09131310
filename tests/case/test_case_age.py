"""Age against birth date: compared at the meeting, or today when the case has no meeting
date (before, only when meeting_date was set), and the message says which date was used."""

from __future__ import annotations

import datetime as dt

from livermet.case import validate_case


def _years_ago(n: int) -> dt.date:
    today = dt.date.today()
    return today.replace(year=today.year - n, day=1)


def test_age_is_checked_against_today_without_a_meeting_date():
    birth = _years_ago(40)
    report = validate_case({"id": "x", "patient": {"age": 61, "birth_date": birth.isoformat()}})
    (p,) = report.for_path("patient.age")
    years = (dt.date.today() - birth).days / 365.25  # about 40
    assert p.severity == "warning" and p.code == "consistency"
    assert p.message == (f"age 61 does not match the birth date ({years:.1f} years today, "
                         f"{dt.date.today().isoformat()} (no meeting_date))")
    assert p.expected == "about 40"


def test_age_is_checked_at_the_meeting_date_when_there_is_one():
    report = validate_case({"id": "x", "meeting_date": "2026-11-27",
                            "patient": {"age": 61, "birth_date": "1985-11-27"}})
    (p,) = report.for_path("patient.age")
    assert "(41.0 years on the meeting date 2026-11-27)" in p.message  # 14975 days / 365.25
    ok = validate_case({"id": "x", "meeting_date": "2026-11-27",
                        "patient": {"age": 61, "birth_date": "1965-06-01"}})
    assert not ok.for_path("patient.age")


def test_a_birth_date_after_the_reference_names_it():
    report = validate_case({"id": "x", "meeting_date": "2026-11-27",
                            "patient": {"birth_date": "2027-01-01"}})
    (p,) = report.for_path("patient.birth_date")
    assert p.is_error and p.message == "birth date is after the meeting date 2026-11-27"
    future = validate_case({"id": "x", "patient": {"birth_date": "2999-01-01"}})
    (q,) = future.for_path("patient.birth_date")
    assert q.message == f"birth date is in the future (today is {dt.date.today().isoformat()})"
