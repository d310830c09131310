"""QA: the report's warnings said "makuuchi: icg_r15=None: expected ...", showing None as if
the user had typed it. An absent input is now said to be not recorded, with its case field."""

from __future__ import annotations

from livermet.assess import assess_case

CASE = {"id": "qa-absent", "liver": {"ascites": "none"}, "labs": {"bilirubin": 0.8}}


def test_the_assessment_and_the_report_say_not_recorded():
    # Makuuchi needs ICG-R15 when bilirubin is normal (<= 1 mg/dL); the decision layer tries it
    d = assess_case(CASE).to_dict()
    texts = [*d["warnings"], *d.get("decision_warnings", [])]
    assert not [t for t in texts if "=None" in t]
    assert any("icg_r15 not recorded (labs.icg_r15): expected ICG-R15" in t for t in texts)
    assert d["missing"]["makuuchi"] == ["icg_r15"]

    from livermet.report.for_case import report_for_case

    doc, _ = report_for_case(CASE, figures=False)
    assert doc.warnings and not [w for w in doc.warnings if "=None" in w]
    assert any("icg_r15 not recorded" in w for w in doc.warnings)
