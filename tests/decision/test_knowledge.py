"""The knowledge base: complete, sourced, and its review citations real.

The review citations are checked against the review text itself: the cited section exists and
the bracketed reference number occurs inside that section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from livermet.decision.findings import Reason, status_from
from livermet.decision.knowledge import (
    KNOWLEDGE_VERSION, OPTION_CODES, OPTION_SPECS, THRESHOLDS, explain, listing,
)
from livermet.decision.knowledge import sources as S

REVIEW = Path(__file__).resolve().parents[3] / "shared" / "reference" / "liver-metastasis-review.txt"
CALCS = REVIEW.with_name("calculators.md")

ISSUE_CODES = ("resection pve_then_resection two_stage_hepatectomy alpps ablation "
               "resection_with_ablation transplant systemic_therapy hai tace deb_tace ihp sirt "
               "sbrt whole_liver_rt best_supportive_care").split()


def test_option_codes_are_the_issue_contract() -> None:
    assert list(OPTION_CODES) == ISSUE_CODES
    assert list(OPTION_SPECS) == ISSUE_CODES


def test_every_option_and_threshold_is_sourced() -> None:
    for spec in OPTION_SPECS.values():
        assert spec.rules and spec.sources, spec.code
        for rule in spec.rules:
            assert rule.sources and rule.basis in ("review", "primary", "guideline", "judgement")
            for key in rule.thresholds:
                assert key in THRESHOLDS, (spec.code, key)
    for t in THRESHOLDS.values():
        assert t.sources and t.basis in ("review", "primary", "guideline", "judgement"), t.key
        if t.basis == "judgement":
            assert S.JUDGEMENT in t.sources, t.key


def _review_sources():
    return [v for v in vars(S).values()
            if getattr(v, "citation", None) == S.REVIEW]


def _sections(text: str) -> dict[str, str]:
    """Heading -> body. A heading is a short line without a full stop or a reference."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        t = line.strip()
        if not t:
            continue
        if len(t) < 60 and not t.endswith(".") and "[" not in t and t[0].isupper():
            current = t
            out.setdefault(current, [])
        elif current is not None:
            out[current].append(t)
    return {k: "\n".join(v) for k, v in out.items()}


@pytest.mark.skipif(not REVIEW.exists(), reason="review text not present")
def test_review_citations_exist_in_the_review() -> None:
    sections = _sections(REVIEW.read_text())
    for src in _review_sources():
        title = src.review_section
        assert title in sections, f"{title!r} is not a heading of the review"
        if src.review_ref is not None:
            assert f"[{src.review_ref}]" in sections[title], \
                f"[{src.review_ref}] not in section {title!r}"


@pytest.mark.skipif(not REVIEW.exists(), reason="review text not present")
@pytest.mark.parametrize("figure", ["14 and 11 months", "92%", "88%", "80%", "50%", "60-70%",
                                    "55%", "49%", "28%", "1-3%", "40%", "16%", "9%", "37%",
                                    "11-67%", "6-10 Gy", "3-5 fractions", "7 mm",
                                    "7-cm", "64%", "85%", "96%"])
def test_quoted_figures_are_in_the_review(figure: str) -> None:
    assert figure in REVIEW.read_text()


@pytest.mark.skipif(not CALCS.exists(), reason="calculators.md not present")
def test_thresholds_match_calculators_reference() -> None:
    text = CALCS.read_text()
    pairs = {
        "sflr_min_normal": r"normal liver (\d+)%", "sflr_min_chemotherapy": r"\(>12 weeks\) (\d+)%",
        "sflr_min_cirrhosis": r"cirrhosis (\d+)%", "kgr_min": r"KGR < (\d+\.\d+) %/week",
        "icgk_f_min": r"Below (0\.\d+)", "milan_ki67_max": r"Ki-67 < (\d+)%",
        "milan_involvement_max": r"liver involvement < (\d+)%", "milan_age_max": r"age < (\d+)",
    }
    for key, pattern in pairs.items():
        m = re.search(pattern, text)
        assert m, pattern
        assert THRESHOLDS[key].value == float(m.group(1)), key


def test_explain_and_listing() -> None:
    d = explain("ablation")
    assert d["knowledge_version"] == KNOWLEDGE_VERSION
    assert any("ablation_max_mm" in r["thresholds"] for r in d["rules"])
    with pytest.raises(KeyError, match="unknown option code 'foo'"):
        explain("foo")
    listed = listing()
    assert [o["code"] for o in listed["options"]] == ISSUE_CODES
    assert listed["mdt_minimum"][0] == "colorectal_surgeon"


def test_status_logic() -> None:
    sup = Reason("ok", "supports")
    assert status_from([sup], True) == "recommended"
    assert status_from([sup], False) == "consider"
    assert status_from([sup, Reason("near", "caution")], True) == "consider"
    assert status_from([sup, Reason("no", "excludes")], True) == "not_suitable"
    with pytest.raises(ValueError, match="effect"):
        Reason("x", "maybe")  # type: ignore[arg-type]
