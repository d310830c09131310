"""RECIST 1.1, Choi, resection margin, pathological response: every cut-off both sides."""

from __future__ import annotations

import pytest

from livermet.calculators import CalculatorInputError, choi, margin, pathological_response, recist, run


@pytest.mark.parametrize("current, expected", [(70, "PR"), (70.1, "SD"), (69.9, "PR")])
def test_recist_pr_at_30_percent(current, expected):
    """Eisenhauer 2009: PR is a >= 30% decrease from the baseline sum (100 mm -> 70 mm)."""
    assert recist(baseline_sum_mm=100, current_sum_mm=current).category == expected


@pytest.mark.parametrize("current, expected", [(30, "PD"), (29.9, "SD"), (36, "PD")])
def test_recist_pd_needs_20_percent_and_5_mm_over_nadir(current, expected):
    """Nadir 25 mm: 30 mm is +20% and +5 mm -> PD; 29.9 is +19.6% -> not PD (and above -30%
    of baseline 40 -> SD)."""
    assert recist(baseline_sum_mm=40, nadir_sum_mm=25, current_sum_mm=current).category == expected


def test_recist_20_percent_without_5_mm_is_not_pd():
    """Nadir 20 mm -> 24 mm: +20% but only +4 mm: not PD; still -76% of baseline 100 -> PR."""
    assert recist(baseline_sum_mm=100, nadir_sum_mm=20, current_sum_mm=24).category == "PR"


def test_recist_not_sticky():
    """Baseline 100: 60 mm (PR). Next visit 71 mm: +11 mm (18.3%) over nadir is not PD, and
    -29% from baseline is no longer PR -> SD, not a carried-over PR."""
    assert recist(baseline_sum_mm=100, current_sum_mm=60).category == "PR"
    later = recist(baseline_sum_mm=100, nadir_sum_mm=60, current_sum_mm=71)
    assert later.category == "SD"


def test_recist_progression_below_baseline():
    """Nadir 60 -> 72: +20% and +12 mm -> PD although below the baseline of 100."""
    assert recist(baseline_sum_mm=100, nadir_sum_mm=60, current_sum_mm=72).category == "PD"


def test_recist_new_lesion_and_complete_response():
    assert recist(baseline_sum_mm=100, current_sum_mm=0, all_targets_gone=True).category == "CR"
    assert recist(baseline_sum_mm=100, current_sum_mm=0, all_targets_gone=True,
                  new_lesions=True).category == "PD"
    assert recist(baseline_sum_mm=100, current_sum_mm=50, new_lesions=True).category == "PD"


def test_recist_reappearance_after_cr_is_pd():
    """Nadir 0 (CR) -> 6 mm: >= 5 mm increase over a nadir of 0 is PD."""
    assert recist(baseline_sum_mm=50, nadir_sum_mm=0, current_sum_mm=6).category == "PD"
    assert recist(baseline_sum_mm=50, nadir_sum_mm=0, current_sum_mm=4).category == "PR"


def test_recist_nadir_above_baseline_is_an_error():
    with pytest.raises(CalculatorInputError) as exc:
        run("recist", {"baseline_sum_mm": 50, "nadir_sum_mm": 60, "current_sum_mm": 55})
    assert exc.value.parameter == "nadir_sum_mm"


def test_recist_units():
    """10 cm = 100 mm; 7 cm = 70 mm -> PR."""
    assert run("recist", {"baseline_sum_mm": "10cm", "current_sum_mm": "7cm"}).category == "PR"


@pytest.mark.parametrize("size, density, new, expected", [
    (-10, 0, False, "PR"), (-9.9, 0, False, "SD"),
    (0, -15, False, "PR"), (0, -14.9, False, "SD"),
    (10, -14.9, False, "PD"), (9.9, -14.9, False, "SD"),
    (10, -15, False, "PR"),   # size up but PR by density -> not PD
    (-20, -30, True, "PD"),
])
def test_choi(size, density, new, expected):
    """Choi 2007: PR >= 10% size or >= 15% density decrease; PD >= 10% size increase without
    PR by density, or new lesions."""
    assert choi(size_change_percent=size, density_change_percent=density, new_lesions=new).category == expected


@pytest.mark.parametrize("mm, status", [(0, "R1"), (0.99, "R1"), (1.0, "R0"), (5, "R0")])
def test_margin(mm, status):
    """The review (Conclusions): a margin of at least 1 mm."""
    assert margin(margin_mm=mm).category == status


def test_margin_units():
    assert run("margin", {"margin_mm": "0.1cm"}).category == "R0"
    assert run("margin", {"margin_mm": "0.09cm"}).category == "R1"


@pytest.mark.parametrize("viable, cat", [(0, "complete"), (0.5, "major"), (1, "major"), (49, "major"),
                                         (49.9, "major"), (50, "minor"), (100, "minor")])
def test_pathological_response(viable, cat):
    """Blazer 2008 (check): 0% complete, 1-49% major, >= 50% minor."""
    r = pathological_response(viable_tumour_percent=viable)
    assert r.category == cat
    assert any(s.check for s in r.sources)
