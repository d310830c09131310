"""From a case file to a report in one call: assess once (images read once), then build.

The CLI (`livermet report`, `livermet demo`) and the web app share this, so a report always
shows the same assessment a user would get from `livermet assess`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from livermet.report.document import ReportDocument, build_report


def report_for_case(
    source: Any,
    *,
    base_dir: str | Path | None = None,
    deidentify: bool = False,
    figures: bool = True,
) -> tuple[ReportDocument, Any]:
    """Assess ``source`` (a path, mapping or Case) and build its report document.

    When the case names images and ``figures`` is true, the imaging step draws its figures
    during the same run (no second read of the images); otherwise the report uses the
    schematic Couinaud diagram. Returns ``(document, assessment)``.

    Raises
    ------
    livermet.case.CaseError
        The case cannot be read or is invalid (the error carries the full report).
    """
    from livermet.assess import assess_case

    with tempfile.TemporaryDirectory(prefix="livermet-figures-") as tmp:
        assessment = assess_case(source, base_dir=base_dir,
                                 figures_dir=tmp if figures else None)
        pictures = {p.name: p.read_bytes() for p in sorted(Path(tmp).glob("*.png"))}
    doc = build_report(assessment.case, assessment.to_dict(), pictures or None,
                       deidentify=deidentify)
    return doc, assessment
