"""The HTML report as a person sees it: rendered in headless Debian Chromium (Playwright)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livermet.report import build_report, render_html

DATA = Path(__file__).parent / "data"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def test_report_in_chromium(chromium_path, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    case = json.loads((DATA / "case_full.json").read_text())
    assessment = json.loads((DATA / "assessment_full.json").read_text())
    # both kinds of figure: the report's own SVG schematic and a PNG from matplotlib
    from livermet.report.figures import couinaud_svg

    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=60)
    ax.bar([1, 2, 3], [3, 1, 2])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    figures = {"schematic.svg": couinaud_svg(case["metastases"]["lesions"], (6, 7)).encode(),
               "bars.png": buf.getvalue()}
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(build_report(case, assessment, figures)), encoding="utf-8")
    url = page_file.as_uri()
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})

            def route(r):
                requests.append(r.request.url)
                if r.request.url == url or r.request.url.startswith("data:"):
                    r.continue_()
                else:
                    r.abort()

            page.route("**/*", route)
            page.on("request", lambda req: requests.append(req.url))
            page.goto(url, wait_until="load")
            sections = page.eval_on_selector_all(
                "section", "els => els.map(e => [e.id, e.offsetHeight])")
            imgs = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.getAttribute('data-figure'), e.complete, "
                "e.naturalWidth, e.naturalHeight])")
            gauge = page.eval_on_selector("#sflr-gauge svg", "e => e.getBoundingClientRect().width")
            font = page.evaluate("getComputedStyle(document.body).fontFamily")
            badge = page.eval_on_selector(".status-recommended",
                                          "e => getComputedStyle(e).backgroundColor")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report-chromium.png"), full_page=True)
        finally:
            browser.close()
    heights = dict(sections)
    for sid in ("summary", "scores", "volumetry", "lesions", "options", "workup", "pathology",
                "sources", "versions", "notice"):
        assert heights.get(sid, 0) > 20, f"section {sid} missing or empty"
    assert sorted(i[0] for i in imgs) == ["bars.png", "schematic.svg"]
    for name, complete, w, h in imgs:
        assert complete and w > 0 and h > 0, f"figure {name} did not load"
    assert gauge > 100
    assert "DejaVu Sans" in font  # the inlined stylesheet applies
    assert badge == "rgb(212, 237, 218)"  # #d4edda
    external = [u for u in requests if u != url and not u.startswith("data:")]
    assert not external, f"external requests attempted: {external}"
