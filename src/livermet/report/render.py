"""HTML and PDF rendering of a :class:`~livermet.report.document.ReportDocument`.

The HTML is one self-contained file: the stylesheet is inlined, pictures are ``data:`` URIs and
nothing refers to the network (no CDN, no web fonts), so it opens offline and can be archived.
The PDF is the same HTML laid out by WeasyPrint, whose URL fetcher is replaced by one that
refuses anything but ``data:`` URIs.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from livermet.report.document import ReportDocument


class ReportError(RuntimeError):
    """The report could not be rendered (e.g. a figure that is not an image)."""


def _env():  # jinja2 imported lazily: the CLI starts without it
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("livermet.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        trim_blocks=False, lstrip_blocks=False,
    )


def render_html(doc: ReportDocument) -> str:
    """The report as one self-contained HTML document."""
    css = resources.files("livermet.report").joinpath("templates/report.css").read_text("utf-8")
    return _env().get_template("report.html").render(doc=doc, css=css)


def _offline_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves ``data:`` URIs and fails on anything else."""
    try:  # WeasyPrint >= 66: fetcher objects
        from weasyprint.urls import URLFetcher

        return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    except ImportError:  # pragma: no cover - older WeasyPrint: fetcher functions
        from weasyprint import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if url.startswith("data:"):
                return default_url_fetcher(url, *args, **kwargs)
            raise ReportError(f"the report refers to {url!r}; only data: URIs are allowed")

        return fetch


def render_pdf(html: str) -> bytes:
    """Lay the HTML out as PDF (A4) with WeasyPrint, without any network access."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, url_fetcher=_offline_fetcher(), base_url=None).write_pdf()
