"""livermet.report: the MDT report (one self-contained HTML file, and PDF).

>>> doc = build_report(case, assessment.to_dict(), figures=None, deidentify=False)
>>> html = render_html(doc); pdf = render_pdf(html)
>>> doc, assessment = report_for_case("case.json")   # assess + figures + build, in one call
"""

from livermet.report.document import NOTICE, ReportDocument, build_report
from livermet.report.for_case import report_for_case
from livermet.report.render import ReportError, render_html, render_pdf

__all__ = ["NOTICE", "ReportDocument", "ReportError", "build_report", "render_html", "render_pdf",
           "report_for_case"]
