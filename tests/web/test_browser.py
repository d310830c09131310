"""The real pages in headless Chromium (Debian's chromium, driven by playwright): log in,
create a case, upload label maps, see the viewer, read the options, download the report.
Screenshots of the main pages are kept in test-artifacts/web/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web_support import PASSWORD

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PATIENT = "Ottoline Vexworthy"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`livermet serve` as a user starts it, on a free port, with its own data folder."""
    import httpx

    port = _free_port()
    env = dict(os.environ, LIVERMET_ADMIN_PASSWORD=PASSWORD)
    env.pop("LIVERMET_DATABASE_URL", None)
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "livermet.cli.main", "serve", "--port", str(port),
                             "--data-dir", str(tmp_path / "data")], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (tmp_path / "server.log").read_text()[-2000:])
        time.sleep(0.2)
    yield url, tmp_path / "server.log"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_case_from_upload_to_report(server, chromium_path, phantom_files, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    import livermet.imaging.pipeline  # noqa: F401  (part of livermet: never skipped)
    url, server_log = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # log in
        page.goto(url + "/")
        assert "/login" in page.url
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(url + "/")
        page.screenshot(path=str(ARTIFACTS / "01-worklist-empty.png"), full_page=True)

        # create a case through the editor (with a lesion row added by the page's script)
        page.click("nav a[href=\"/cases/new\"]")
        page.fill("#f-id", "browser-001")
        page.fill("#f-meeting_date", "2026-12-10")
        page.fill("[id='f-patient.name']", PATIENT)
        page.fill("[id='f-patient.age']", "61")
        page.select_option("[id='f-patient.sex']", "male")
        page.fill("[id='f-patient.height_cm']", "175")
        page.fill("[id='f-patient.weight_kg']", "75")
        page.fill("[id='f-patient.ecog']", "1")
        page.select_option("[id='f-primary.site']", "colorectal")
        page.select_option("[id='f-primary.node_positive']", "true")
        page.fill("[id='f-metastases.disease_free_interval_months']", "11")
        page.select_option("[id='f-metastases.extrahepatic.present']", "false")
        page.fill("[id='f-labs.bilirubin']", "0.7")
        page.fill("[id='f-labs.albumin']", "41")  # a typical slip: g/L typed where g/dL is expected
        page.fill("[id='f-labs.inr']", "1.0")
        page.fill("[id='f-labs.cea']", "35")
        page.fill("input[name=lesion-0-id]", "L1")
        page.fill("input[name=lesion-0-segments]", "7")
        page.fill("input[name=lesion-0-diameter_mm]", "32")
        page.click("#add-lesion")
        page.fill("input[name=lesion-1-id]", "L2")
        page.fill("input[name=lesion-1-segments]", "6")
        page.fill("input[name=lesion-1-diameter_mm]", "18")
        page.fill("[id='f-volumetry.planned_resection']", "right_posterior_sectionectomy")
        page.click("#save")
        # the library's message appears next to the albumin field; fix it with the unit
        msg = page.locator("[data-path='labs.albumin'] .msg")
        assert "g/L" in msg.first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "02-editor-validation.png"), full_page=True)
        page.fill("input[name='labs.albumin__unit']", "g/L")
        page.click("#save")
        page.wait_for_url("**/cases/*?saved=1")
        pk = page.url.split("/cases/")[1].split("?")[0]

        # upload the Couinaud label map, then the tumour mask and the CT, with progress
        page.click(".tabs a[href$=imaging]")
        for role, path in (("labels", phantom_files["segments"]), ("tumour", phantom_files["tumours"]),
                           ("ct", phantom_files["ct"])):
            page.select_option("#upload-role", role)
            if role == "labels":
                page.select_option("#upload-labelset", "liver_segments")
            page.set_input_files("#upload-file", str(path))
            page.click("#upload-form button[type=submit]")
            page.wait_for_selector("#upload-status.ok")
        slice_requests: list[str] = []
        page.on("request", lambda r: slice_requests.append(r.url) if "/viewer/ct/" in r.url else None)
        page.click("#run-volumetry")
        page.wait_for_selector("#job-status[data-status=done]", timeout=90_000)
        page.wait_for_selector("#viewer:not([hidden])")
        page.wait_for_function("() => document.getElementById('view').dataset.drawn !== undefined")
        # scroll through the slices; the canvas is redrawn
        first = page.eval_on_selector("#view", "c => c.dataset.drawn")
        page.focus("#view")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")
        page.wait_for_function(f"() => document.getElementById('view').dataset.drawn === '{int(first) + 2}'")
        # neighbouring slices are fetched before they are shown (smooth scrolling)
        page.wait_for_timeout(300)
        fetched = {int(u.split("/viewer/ct/")[1].split(".png")[0]) for u in slice_requests if "axis=axial" in u}
        assert {int(first) + d for d in (3, 4, 5)} <= fetched, sorted(fetched)
        # the coronal view: head up, the canvas in the coronal field of view's proportions
        axial_size = page.eval_on_selector("#view", "c => [c.width, c.height]")
        page.select_option("#axis", "coronal")
        page.wait_for_function("() => document.getElementById('view').dataset.axis === 'coronal'")
        ph = phantom_files["phantom"]
        (nx, ny, nz), (dx, dy, dz) = ph.grid.shape, ph.grid.spacing
        coronal_size = page.eval_on_selector("#view", "c => [c.width, c.height]")
        assert coronal_size != axial_size
        assert coronal_size[1] / coronal_size[0] == pytest.approx(nz * dz / (nx * dx), abs=0.01)
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "03a-imaging-coronal.png"), full_page=True)
        page.select_option("#axis", "axial")
        page.wait_for_function("() => document.getElementById('view').dataset.axis === 'axial'")
        page.check("input[data-layer=segments]")
        page.check("input[data-layer=resection]")
        page.select_option("#preset", "liver")
        page.wait_for_timeout(300)
        # the canvas really shows pixels (not a blank black box)
        lit = page.evaluate("""() => { const c = document.getElementById('view');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i+1] + d[i+2] > 60) n++; return n; }""")
        assert lit > 500
        page.screenshot(path=str(ARTIFACTS / "03-imaging-viewer.png"), full_page=True)

        # results: FLR from imaging, options with reasons and sources; plan another resection
        page.click(".tabs a[href$=results]")
        page.wait_for_selector("#options article.option")
        assert page.locator("#options article.option").count() >= 5
        assert page.locator("article[data-code=resection] .reasons li").count() >= 1
        assert "segment labels" in page.inner_text("#segments-method")
        remnant_before = page.inner_text("#remnant-ml")
        # a left lateral sectionectomy with a non-anatomic resection of L1 (8 mm margin)
        page.fill("#resection-select", "left_lateral_sectionectomy")
        page.check("#resect-lesions input[value=L1]")
        page.fill("#resection-margin", "8")
        with page.expect_navigation(timeout=90_000):  # a job measures the new remnant, then the page reloads
            page.click("#resection-form button[type=submit]")
        page.wait_for_selector("#options article.option")
        assert page.inner_text("#remnant-ml") != remnant_before
        assert page.inner_text("#planned-resection") == "left_lateral_sectionectomy+lesions"
        assert "L1" in page.inner_text("#planned-lesions") and "8.0 mm" in page.inner_text("#planned-lesions")
        assert "L1" in page.inner_text("#lesions-removed")
        page.screenshot(path=str(ARTIFACTS / "04-results.png"), full_page=True)

        # the report, as HTML and as PDF
        with page.expect_download() as dl:
            page.click("#report-pdf")
        pdf = tmp_path / "report.pdf"
        dl.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
        resp = page.request.get(url + f"/api/cases/{pk}/report.html")
        assert resp.ok and "browser-001" in resp.text()
        report = context.new_page()  # same session; the report under its own strict CSP
        blocked: list[str] = []
        report.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        report.goto(url + f"/api/cases/{pk}/report.html")
        assert report.locator("img, svg").count() >= 1
        report.screenshot(path=str(ARTIFACTS / "04b-report.png"), full_page=True)
        report.close()
        assert not blocked, blocked

        # the meeting: attendees and the missing members of the minimum team
        page.click(".tabs a[href$=meeting]")
        page.fill("textarea[name=attendees]", "Dr Hep, hepatobiliary_surgeon\nDr Rad, radiologist")
        page.fill("textarea[name=decision]", "Right hepatectomy")
        page.click("form.meeting button[type=submit]")
        page.wait_for_selector("#team-missing")
        assert "pathologist" in page.inner_text("#team-missing")
        page.screenshot(path=str(ARTIFACTS / "05-meeting.png"), full_page=True)
        page.goto(url + "/")
        assert "browser-001" in page.content()
        page.screenshot(path=str(ARTIFACTS / "06-worklist.png"), full_page=True)
        assert not errors, errors
        browser.close()
    # the server's own log holds no patient name
    assert PATIENT not in server_log.read_text()
