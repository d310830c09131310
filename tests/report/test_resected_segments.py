"""The report shades the segments of the planned resection with the same parser the volumetry
uses (it used to keep its own table, which missed synonyms, segment lists and '+lesions')."""

from __future__ import annotations

import pytest

from livermet.imaging.plans import ANATOMIC_RESECTIONS
from livermet.report.figures import resected_segments


@pytest.mark.parametrize("plan, segments", [
    ("right_hepatectomy", (5, 6, 7, 8)),
    ("right_hemihepatectomy", (5, 6, 7, 8)),  # Brisbane synonym
    ("right_trisectionectomy", (4, 5, 6, 7, 8)),
    ("segments:6,7", (6, 7)),  # was (7,)
    ("segmentectomy_7", (7,)),
    ("left_lateral_sectionectomy+lesions", (2, 3)),  # was ()
    ("right_hemihepatectomy+lesions", (5, 6, 7, 8)),  # vignette 05's plan
    ("lesions", ()),
    ("free text plan", ()),
    (None, ()),
])
def test_resected_segments_follow_the_plan_parser(plan, segments):
    assert resected_segments(plan) == segments


def test_every_named_resection_is_known_to_the_report():
    for name, segs in ANATOMIC_RESECTIONS.items():
        assert resected_segments(name) == tuple(sorted(segs))
