"""livermet.report: the MDT report (one self-contained HTML file, and PDF).

>>> doc = build_report(case, assessment.to_dict(), figures=None, deidentify=False)
>>> html = render_html(doc); pdf = render_pdf(html)
"""

from livermet.report.document import NOTICE, ReportDocument, build_report
from livermet.report.render import ReportError, render_html, render_pdf

__all__ = ["NOTICE", "ReportDocument", "ReportError", "build_report", "render_html", "render_pdf"]
