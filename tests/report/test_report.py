"""The MDT report: content, self-containment, de-identification, PDF pages, CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from livermet.report import build_report, render_html, render_pdf
from livermet.report.deidentify import date_offset_days, identifiers, pseudonym

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "report"


def _case() -> dict:
    return json.loads((DATA / "case_full.json").read_text())


def _assessment() -> dict:
    return json.loads((DATA / "assessment_full.json").read_text())


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []
        self.imgs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for k in ("src", "href", "srcset", "poster", "data"):
            if a.get(k):
                self.urls.append((tag, k, a[k]))
        if tag == "img":
            self.imgs.append(a)
        if tag == "link":
            self.urls.append((tag, "link", a.get("href", "")))


def _parse(html: str) -> _Collect:
    c = _Collect()
    c.feed(html)
    return c


def test_sections_scores_options_and_notice():
    html = render_html(build_report(_case(), _assessment(), None))
    c = _parse(html)
    for sid in ("summary", "scores", "volumetry", "lesions", "options", "workup", "pathology",
                "sources", "versions", "notice", "sflr-gauge"):
        assert sid in c.ids, sid
    # scores with their categories, options with status and reasons
    assert "Child-Pugh" in html and ">A<" in html
    assert "bilirubin: 0.7 mg/dL" in html and "albumin: 4.1 g/dL" in html
    assert "status-recommended" in html and "status-not_suitable" in html
    assert "liver-only disease" in html
    assert "Would change with:</strong> ki67_percent" in html
    # pathology and response present; versions of livermet and knowledge base
    assert "margin mm" in html and ">PR<" in html
    assert "kb-2026.1" in html
    assert "not a medical device" in html.lower()
    # the MDT's missing roles are shown
    assert "radiation_oncologist" in html


def test_self_contained_no_external_reference():
    html = render_html(build_report(_case(), _assessment(), None))
    c = _parse(html)
    assert c.imgs, "the report has at least the Couinaud figure"
    for tag, attr, url in c.urls:
        assert url.startswith(("data:", "#")), (tag, attr, url[:60])
    # no stylesheet or font from outside, no scripts
    assert "<link" not in html and "<script" not in html
    assert not re.search(r"url\((?!#)['\"]?(?!data:)", html), "CSS url() to an external resource"
    assert "@import" not in html and "@font-face" not in html
    # the stylesheet is inlined verbatim (not HTML-escaped, which would void its rules)
    style = html[html.index("<style>"):html.index("</style>")]
    assert "&#34;" not in style and "&quot;" not in style
    assert 'font-family: "DejaVu Sans"' in style


def test_sources_deduplicated_and_numbered():
    doc = build_report(_case(), _assessment(), None)
    texts = [s["text"] for s in doc.sources]
    assert len(texts) == len({" ".join(t.lower().split()) for t in texts})
    assert [s["number"] for s in doc.sources] == list(range(1, len(texts) + 1))
    # Kishi is cited by the sflr score and by the resection option: listed once, same number
    kishi = [s for s in doc.sources if "Kishi" in s["text"]]
    assert len(kishi) == 1
    n = kishi[0]["number"]
    resection = next(o for o in doc.options if o["code"] == "resection")
    sflr = next(s for s in doc.scores if s["name"] == "sflr")
    assert n in resection["refs"] and n in sflr["refs"]
    # options sorted: recommended, consider, not suitable
    assert [o["status"] for o in doc.options] == ["recommended", "consider", "not_suitable"]


def test_same_source_in_different_shapes_gets_one_number():
    from livermet.report.document import _Sources

    srcs = _Sources()
    # a calculator's Source.to_dict(): paper + pointer into the review
    a = srcs.add({"citation": "Kishi Y, et al. Ann Surg 2009;250:540", "review_section":
                  "Surgical Resection", "review_ref": 38, "doi": "10.1097/SLA.0b013e3181b674df"})
    # the decision module's labels for the same two sources
    b = srcs.add_all(["Kishi, Ann Surg 2009;250:540", "review, Surgical Resection [38]"])
    c = srcs.add({"citation": "Liver-metastasis review", "review_section": "Surgical Resection",
                  "review_ref": 38, "text": "review, Surgical Resection [38]"})
    assert a == b == [1, 2] and c == [2]
    assert srcs.add("review, Surgical Resection [37]") == [3]  # another reference: new number
    assert srcs.add({"citation": "Adams, HPB 2013;15:91", "check": True}) == [4]
    assert "not confirmed" in srcs.items[3]["text"]
    assert [i["number"] for i in srcs.items] == [1, 2, 3, 4]


def test_gauge_against_threshold_for_the_liver():
    case = _case()
    a = _assessment()
    del a["scores"]["sflr"]  # gauge from volumetry alone: 620 / (1650 - 45) = 38.6%
    doc = build_report(case, a, None)
    assert doc.volumetry["sflr_percent"] == pytest.approx(100 * 620 / 1605, abs=1e-9)
    assert doc.volumetry["threshold_percent"] == 20.0 and doc.volumetry["adequate"] is True
    # cirrhotic liver, small remnant: 40% minimum (Kubota), inadequate
    case["liver"]["cirrhosis"] = True
    case["volumetry"]["remnant_ml"] = 500  # 31.2%
    doc = build_report(case, a, None)
    assert doc.volumetry["threshold_percent"] == 40.0 and doc.volumetry["adequate"] is False
    assert "minimum 40%" in doc.gauge_svg and "sFLR 31.2%" in doc.gauge_svg
    html = render_html(doc)
    assert "below the minimum" in html


def test_schematic_places_lesions_in_their_segments():
    # the report's own fallback schematic (used when the imaging part's is absent)
    from livermet.report.figures import couinaud_svg, resected_segments

    case = _case()
    svg = couinaud_svg(case["metastases"]["lesions"],
                       resected_segments(case["volumetry"]["planned_resection"]))
    rects = {}
    for m in re.finditer(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" '
                         r'rx="10" fill="([^"]+)"[^>]*/><text[^>]*>(\d)</text>', svg):
        x, y, w, h = map(float, m.group(1, 2, 3, 4))
        rects[int(m.group(6))] = (x, y, w, h, m.group(5))
    assert set(rects) == set(range(1, 9))
    circles = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*/><text[^>]*>(L\d)</text>', svg)
    where = {lid: (float(cx), float(cy)) for cx, cy, lid in circles}
    for lid, seg in (("L1", 7), ("L2", 6)):
        x, y, w, h, _ = rects[seg]
        cx, cy = where[lid]
        assert x <= cx <= x + w and y <= cy <= y + h, (lid, seg)
    # right posterior sectionectomy = segments 6 and 7 hatched, the others not
    hatched = {s for s, r in rects.items() if r[4].startswith("url(#hatch")}
    assert hatched == {6, 7}


def test_deidentify_leaks_nothing_and_keeps_intervals(tmp_path):
    case, a = _case(), _assessment()
    # a date inside free text (the decision module writes such reasons) is shifted too
    a["options"][0]["reasons"].append("CT of 2025-11-02 and of 2026-02-20 compared")
    secrets = identifiers(case)
    assert {"Zebedee Quixotic-Hartmann", "H99887766", "1964-05-17", "MRN-TEST-778899",
            "Dr Ottoline Vexworth"} <= set(secrets)
    doc = build_report(case, a, None, deidentify=True)
    html = render_html(doc)
    pdf = render_pdf(html)
    (tmp_path / "r.pdf").write_bytes(pdf)
    texts = [html, json.dumps(doc.to_dict())]
    if shutil.which("pdftotext"):
        texts.append(subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"],
                                    capture_output=True, text=True, check=True).stdout)
    for text in texts:
        for s in secrets + ["Zebedee", "Vexworth", "778899", "2026-03-10", "2025-11-02"]:
            assert s not in text, s
    pid = pseudonym("MRN-TEST-778899")
    assert doc.case_id == pid and pid in html and re.fullmatch(r"anon-[0-9a-f]{12}", pid)
    assert pseudonym("MRN-TEST-778899") == pid != pseudonym("MRN-TEST-778898")
    # dates shifted by the same offset: the interval between measurements is kept
    days = date_offset_days("MRN-TEST-778899")
    assert -365 <= days <= -1
    import datetime as dt

    shifted = [m["date"] for m in doc.lesions[0]["measurements"]]
    d0, d1 = (dt.date.fromisoformat(d) for d in shifted)
    assert (d1 - d0).days == (dt.date(2026, 2, 20) - dt.date(2025, 11, 2)).days
    assert d0 == dt.date(2025, 11, 2) + dt.timedelta(days=days)
    # the original still shows the name when not de-identified
    assert "Zebedee" in render_html(build_report(case, a, None))


def test_pseudonym_keyed(monkeypatch):
    plain = pseudonym("case-1")
    monkeypatch.setenv("LIVERMET_PSEUDONYM_KEY", "hospital-secret")
    assert pseudonym("case-1") != plain
    # Keyed HMAC-SHA256, checked against RFC 4231 test case 2 (key "Jefe"):
    # HMAC-SHA256 = 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843
    monkeypatch.setenv("LIVERMET_PSEUDONYM_KEY", "Jefe")
    assert pseudonym("what do ya want for nothing?") == "anon-5bdcc146bf60"


def _page_ink(png: Path) -> float:
    from PIL import Image

    im = Image.open(png).convert("L")
    hist = im.histogram()
    return 1.0 - sum(hist[245:]) / (im.width * im.height)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils (pdftoppm) not installed")
def test_pdf_pages_exist_and_are_not_blank(tmp_path):
    from livermet.report.figures import couinaud_svg

    case = _case()
    svg = couinaud_svg(case["metastases"]["lesions"], (6, 7)).encode()  # an SVG figure
    pdf = render_pdf(render_html(build_report(case, _assessment(), {"couinaud.svg": svg})))
    assert pdf[:5] == b"%PDF-"
    out = ARTIFACTS / "pdf"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out / "report.pdf"), str(out / "page")],
                   check=True, capture_output=True)
    pages = sorted(out.glob("page-*.png"))
    assert len(pages) > 1
    for p in pages:
        assert _page_ink(p) > 0.005, f"{p.name} is blank"
    # the page with the figure carries far more ink than text alone would (figure rendered)
    assert max(_page_ink(p) for p in pages) > 0.03


def test_figures_from_imaging_are_embedded():
    import base64

    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==")
    doc = build_report(_case(), _assessment(), {"axial.png": png})
    assert [f["name"] for f in doc.figures] == ["axial.png"]
    assert doc.figures[0]["uri"].startswith("data:image/png;base64,")
    with pytest.raises(ValueError, match="not PNG"):
        build_report(_case(), _assessment(), {"bad.png": b"GIF89a...."})


def test_minimal_case_without_assessment_data():
    doc = build_report({"id": "x1"}, {"case_id": "x1", "scores": {}}, None)
    html = render_html(doc)
    assert "No treatment options were assessed" in html
    assert doc.gauge_svg is None and doc.figures  # schematic still drawn (no lesions)


def test_report_from_real_assessment(tmp_path):
    import livermet.assess as assess
    demo = REPO / "src" / "livermet" / "data" / "demo_case.json"
    a = assess.assess_case(demo, imaging=False)
    doc = build_report(a.case if a.case is not None else json.loads(demo.read_text()),
                       a.to_dict(), None)
    html = render_html(doc)
    assert "Child-Pugh" in html and doc.sources
    if a.to_dict().get("options"):
        assert doc.options and all(o["status"] in ("recommended", "consider", "not_suitable")
                                   for o in doc.options)


def test_cli_report_html_pdf_and_errors(tmp_path):
    from typer.testing import CliRunner

    from livermet.cli.main import app

    runner = CliRunner()
    case = DATA / "case_full.json"
    r = runner.invoke(app, ["report", str(case), "--out", str(tmp_path / "r.html"), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["path"].endswith("r.html") and "options" in info["sections"]
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    r = runner.invoke(app, ["report", str(case), "--out", str(tmp_path / "r.pdf"), "--deidentify"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    r = runner.invoke(app, ["report", str(case), "--out", str(tmp_path / "r.docx")])
    assert r.exit_code == 2 and "expected a file ending in .html or .pdf" in " ".join(r.output.split())
    r = runner.invoke(app, ["report", str(tmp_path / "nope.json"), "--out", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "not found" in " ".join(r.output.split())


def test_cli_report_invalid_case_exits_2(tmp_path):
    from typer.testing import CliRunner

    from livermet.cli.main import app

    bad = _case()
    bad["labs"]["albumin"] = {"value": 4.1, "unit": "furlongs"}
    bad["metastases"]["lesions"][0]["segments"] = [9]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    r = CliRunner().invoke(app, ["report", str(tmp_path / "bad.json"), "--out", str(tmp_path / "r.html")])
    out = " ".join(r.output.split())
    assert r.exit_code == 2 and "Traceback" not in out
    assert "labs.albumin" in out and "segments" in out
    assert not (tmp_path / "r.html").exists()


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(name=st.from_regex(r"Zq[a-z]{5} Xv[a-z]{5}", fullmatch=True),
       mrn=st.from_regex(r"K[0-9]{7}", fullmatch=True),
       case_id=st.from_regex(r"case-Q[0-9]{6}", fullmatch=True),
       dob=st.dates(min_value=__import__("datetime").date(1930, 1, 1),
                    max_value=__import__("datetime").date(2000, 12, 31)))
def test_deidentify_property_no_identifier_survives(name, mrn, case_id, dob):
    case, a = _case(), _assessment()
    case.update(id=case_id)
    case["patient"].update(name=name, mrn=mrn, birth_date=dob.isoformat())
    a["case_id"] = case_id
    # identifiers echoed in free text by upstream code must not survive either
    a["warnings"].append(f"check {name} ({mrn}, {case_id}, born {dob.isoformat()})")
    a["warnings"].append(f"seen by Dr Smith for Mr {name.split()[1]}")  # the family name alone
    html = render_html(build_report(case, a, None, deidentify=True))
    for secret in (name, mrn, case_id, dob.isoformat(), *name.split()):
        assert secret not in html
    assert "seen by Dr Smith for Mr [removed]" in html
