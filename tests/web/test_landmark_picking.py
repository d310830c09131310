"""Couinaud landmarks placed by clicking in the slice viewer: a click's pixel -> voxel -> LPS
conversion against the imaging library's Grid on an oblique, flipped grid; saving (round
trip, audit, permission, CSRF, refusals with the library's message); and the real page in
headless Chromium, from clicks on the phantom to a volumetry that uses them."""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pytest
from test_browser import server  # noqa: F401  (the `livermet serve` fixture)
from web_support import Client, make_app

from livermet.imaging.couinaud import REQUIRED_KEYS, validate_landmarks
from livermet.imaging.grid import Grid


def _nifti(arr: np.ndarray, affine_ras: np.ndarray) -> bytes:
    import nibabel as nib

    buf = io.BytesIO()
    fh = nib.FileHolder(fileobj=buf)
    nib.Nifti1Image(arr, affine_ras).to_file_map({"header": fh, "image": fh})
    return gzip.compress(buf.getvalue())


def _oblique_ras_affine() -> np.ndarray:
    """Voxel axes permuted (i runs head-foot), the first one flipped, tilted 20 and 12 degrees,
    anisotropic spacing: nothing lines up with the screen."""
    a, b = np.radians(20.0), np.radians(12.0)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rz = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    axes = np.array([[0, 0, -1], [1, 0, 0], [0, -1, 0]], dtype=float).T  # i -> -S, j -> R... (RAS)
    aff = np.eye(4)
    aff[:3, :3] = rz @ rx @ axes @ np.diag([2.5, 1.5, 2.0])
    aff[:3, 3] = [40.0, -25.0, 110.0]
    return aff


@pytest.fixture
def oblique_case(tmp_path, demo_case):
    """A case whose CT (unique value per voxel) and liver mask lie on an oblique, flipped grid."""
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    case = dict(demo_case, volumetry={k: v for k, v in demo_case["volumetry"].items() if k != "planned_resection"})
    pk = a.post("/api/cases", json={"data": case}).json()["pk"]
    shape = (14, 16, 12)
    ct = (np.arange(np.prod(shape)).reshape(shape) - 1000).astype(np.int16)
    liver = np.zeros(shape, np.uint8)
    liver[3:11, 4:12, 3:9] = 1
    aff = _oblique_ras_affine()
    for role, arr in (("ct", ct), ("liver", liver)):
        r = a.put(f"/api/cases/{pk}/images", params={"role": role, "filename": f"{role}.nii.gz"},
                  content=_nifti(arr, aff))
        assert r.status_code == 201, r.text
    assert app.state.jobs.run_pending() >= 1
    assert a.get(f"/api/cases/{pk}/images").json()["jobs"][0]["status"] == "done"
    yield app, a, pk, ct, Grid.from_ras_affine(shape, aff)
    app.state.engine.dispose()


def test_click_to_lps_matches_the_grid_on_an_oblique_flipped_image(oblique_case):
    """Every pixel of a slice in each view: the voxel the server names holds the value the
    viewer shows there, and its LPS point is Grid.index_to_lps of that voxel (the grid read
    independently with nibabel: RAS affine, x and y negated)."""
    from livermet.web import viewer

    app, a, pk, ct, grid = oblique_case
    shown = np.load(app.state.settings.data_dir / "viewer" / str(pk) / "ct.npy")
    meta = a.get(f"/api/cases/{pk}/viewer").json()
    assert meta["shape"] != list(ct.shape)  # re-oriented for display
    checked = 0
    for axis in viewer.AXES:
        k = meta["first_slices"][axis]
        sl = viewer.take_slice(shown, axis, k)
        for row, col in ((0, 0), (sl.shape[0] - 1, 0), (2, sl.shape[1] - 1), (sl.shape[0] // 2, sl.shape[1] // 3)):
            r = a.get(f"/api/cases/{pk}/viewer/point", params={"axis": axis, "slice": k, "row": row, "col": col})
            assert r.status_code == 200, r.text
            out = r.json()
            ijk = np.rint(out["voxel"]).astype(int)
            assert np.allclose(out["voxel"], ijk, atol=1e-6)
            assert ct[tuple(ijk)] == sl[row, col], (axis, row, col)
            assert np.allclose(out["lps"], grid.index_to_lps(ijk), atol=1e-6)
            assert out["display"][axis] == pytest.approx([k, row, col])
            checked += 1
        # between voxel centres the point moves linearly (sub-voxel clicks)
        mid = a.get(f"/api/cases/{pk}/viewer/point", params={"axis": axis, "slice": k, "row": 1.25, "col": 0.5}).json()
        want = viewer.display_to_canonical(axis, k, 1.25, 0.5, meta["shape"])
        c2v = np.asarray(meta["geometry"]["canonical_to_voxel"])
        assert np.allclose(mid["lps"], grid.index_to_lps((c2v @ np.append(want, 1))[:3]), atol=1e-6)
    assert checked == 12
    # a click off the image is refused, naming the axis
    r = a.get(f"/api/cases/{pk}/viewer/point", params={"axis": "axial", "slice": 0, "row": -3, "col": 0})
    assert r.status_code == 422 and "outside the image" in r.json()["detail"]


def _phantom_landmarks(ph) -> dict:
    return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in ph.landmarks.items()}


def test_saved_landmarks_round_trip_and_incomplete_ones_are_refused(tmp_path, demo_case, phantom_files):
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    lm = _phantom_landmarks(phantom_files["phantom"])
    url = f"/api/cases/{pk}/landmarks"
    assert a.get(url).json()["landmarks"] is None

    # incomplete: no portal bifurcation; a vein with one point -> the library's field and need
    r = a.put(url, json={k: v for k, v in lm.items() if k != "portal_bifurcation"})
    assert r.status_code == 422
    assert r.json()["field"] == "landmarks" and "portal_bifurcation" in r.json()["detail"]
    r = a.put(url, json=dict(lm, left_hepatic_vein=lm["left_hepatic_vein"][:1]))
    assert r.status_code == 422
    assert r.json()["field"] == "landmarks.left_hepatic_vein" and "at least 2 points" in r.json()["detail"]
    # geometric: the fissure points on top of each other cannot orient its plane
    r = a.put(url, json=dict(lm, umbilical_fissure=[lm["umbilical_fissure"][0]] * 2))
    assert r.status_code == 422 and r.json()["field"].startswith("landmarks.umbilical_fissure"), r.json()
    assert not (app.state.settings.data_dir / "images").exists()  # nothing stored when refused

    # permission and CSRF: a viewer may not; a session without the token may not
    from web_support import add_users
    add_users(app)
    assert Client(app, "viewer").put(url, json=lm).status_code == 403
    no_csrf = Client(app, "clinician")
    no_csrf.csrf = None
    assert no_csrf.put(url, json=lm).status_code == 403

    r = a.put(url, json=lm)
    assert r.status_code == 201, r.text
    assert r.json()["image"]["role"] == "landmarks" and r.json()["job"] is None  # no label maps yet
    got = a.get(url).json()
    for key in REQUIRED_KEYS:
        assert np.allclose(got["landmarks"][key], lm[key], atol=1e-3), key
    rows = a.get(f"/api/cases/{pk}/images").json()["images"]
    assert [i["role"] for i in rows] == ["landmarks"]
    with app.state.sessionmaker() as db:
        from livermet.web.models import ImageFile

        path = app.state.settings.data_dir / db.get(ImageFile, rows[0]["id"]).path
    stored = json.loads(path.read_text())
    assert set(REQUIRED_KEYS) <= set(stored) and stored["coordinate_system"] == "LPS"
    validate_landmarks(stored)
    # the audit names who placed them and the file's checksum
    entry = next(e for e in a.get("/api/audit").json()["entries"] if e["action"] == "place_landmarks")
    assert entry["username"] == "admin" and entry["after"]["sha256"] == rows[0]["sha256"]
    assert entry["after"]["points"]["portal_bifurcation"] == 1
    # saving again replaces the file (the old one is kept, marked replaced)
    moved = dict(lm, portal_bifurcation=[v + 1.0 for v in lm["portal_bifurcation"]])
    assert a.put(url, json=moved).status_code == 201
    rows = a.get(f"/api/cases/{pk}/images").json()["images"]
    assert [i["superseded"] for i in rows] == [True, False]
    assert np.allclose(a.get(url).json()["landmarks"]["portal_bifurcation"], moved["portal_bifurcation"])
    app.state.engine.dispose()


# ------------------------------------------------------------------ the page, in Chromium
@pytest.mark.browser
def test_place_landmarks_by_clicking(server, chromium_path, phantom_files, demo_case):  # noqa: F811
    """Upload the phantom's CT and liver (no segment labels; the case plans an anatomic
    resection), click every structure's points on the axial slices, see a refusal while one
    is missing, save, and the volumetry job derives the Couinaud segments from the clicks."""
    sync_api = pytest.importorskip("playwright.sync_api")
    import nibabel as nib
    from test_browser import ARTIFACTS, CHROMIUM_ARGS
    from web_support import PASSWORD

    from livermet.web import viewer

    url, _log = server
    ph = phantom_files["phantom"]
    liver = phantom_files["dir"] / "liver-only.nii.gz"
    nib.save(nib.Nifti1Image(ph.liver.astype(np.uint8), ph.grid.affine_ras), liver)
    lm = _phantom_landmarks(ph)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(url + "/")
        api = page.request
        csrf = page.eval_on_selector('meta[name="csrf-token"]', "m => m.content")
        r = api.post(url + "/api/cases", data=json.dumps({"data": dict(demo_case, id="lm-click")}),
                     headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
        assert r.ok, r.text()
        pk = r.json()["pk"]
        for role, path in (("ct", phantom_files["ct"]), ("liver", liver)):
            r = api.put(url + f"/api/cases/{pk}/images?role={role}&filename={path.name}", data=path.read_bytes(),
                        headers={"Content-Type": "application/octet-stream", "X-CSRF-Token": csrf})
            assert r.ok, r.text()
        page.goto(url + f"/cases/{pk}/imaging")
        # the planned right posterior sectionectomy needs segments: the job says so, and the
        # viewer still shows the images to place the landmarks on
        page.wait_for_selector("#job-status[data-status=failed]", timeout=90_000)
        assert "landmarks" in page.inner_text("#job-status")
        page.wait_for_selector("#viewer:not([hidden])")
        page.wait_for_function("() => document.getElementById('view').dataset.drawn !== undefined")
        meta = api.get(url + f"/api/cases/{pk}/viewer").json()
        page.check("#lm-pick")

        def click(lps):
            k, row, col = viewer.lps_to_display(meta, lps)["axial"]
            page.eval_on_selector("#slice", "(s, k) => { s.value = k; s.dispatchEvent(new Event('input')); }",
                                  str(round(k)))
            page.wait_for_function(f"() => document.getElementById('view').dataset.drawn === '{round(k)}'")
            page.locator("#view").scroll_into_view_if_needed()
            box = page.locator("#view").bounding_box()
            rows, cols = meta["shape"][1], meta["shape"][2]
            page.mouse.click(box["x"] + (col + 0.5) * box["width"] / cols, box["y"] + (row + 0.5) * box["height"] / rows)

        def count(key):
            return page.get_attribute(f"#lm-table tr[data-key={key}]", "data-count")

        for key in ("right_hepatic_vein", "middle_hepatic_vein", "left_hepatic_vein", "ivc", "umbilical_fissure"):
            page.select_option("#lm-key", key)
            for n, pt in enumerate(lm[key], 1):
                click(pt)
                page.wait_for_function(f"() => document.querySelector('#lm-table tr[data-key={key}]').dataset.count === '{n}'")
        # a stray click, removed again
        click(lm["ivc"][0])
        page.wait_for_function(f"() => document.querySelector('#lm-table tr[data-key=umbilical_fissure]').dataset.count === '{len(lm['umbilical_fissure']) + 1}'")
        page.click("#lm-undo")
        assert count("umbilical_fissure") == str(len(lm["umbilical_fissure"]))
        # saving without the portal bifurcation: refused, the library's message on the page
        page.click("#lm-save")
        page.wait_for_selector("#lm-status.error")
        assert "portal_bifurcation" in page.inner_text("#lm-status")
        page.select_option("#lm-key", "portal_bifurcation")
        click(lm["portal_bifurcation"])
        page.wait_for_function("() => document.querySelector('#lm-table tr[data-key=portal_bifurcation]').dataset.count === '1'")
        # the points are drawn: the portal bifurcation's yellow on its slice
        yellow = page.evaluate("""() => { const c = document.getElementById('view');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 240 && d[i+1] > 220 && d[i+2] < 40) n++; return n; }""")
        assert yellow >= 20
        page.click("#lm-save")
        page.wait_for_selector("#lm-status.ok")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#viewer").screenshot(path=str(ARTIFACTS / "07-landmarks-placed.png"))
        # the volumetry job queued by the save cuts the liver with the clicked landmarks
        page.wait_for_function("() => /job \\d+: done/.test(document.getElementById('job-status').textContent)"
                               " && document.getElementById('job-status').textContent.includes('from landmarks')",
                               timeout=90_000)
        got = api.get(url + f"/api/cases/{pk}/landmarks").json()["landmarks"]
        assert set(REQUIRED_KEYS) <= set(got)
        validate_landmarks(got)
        # the clicks land within a voxel of the phantom's landmarks (in-plane) / half a slice (z)
        for key in REQUIRED_KEYS:
            d = np.abs(np.atleast_2d(got[key]) - np.atleast_2d(lm[key]))
            assert (d[:, :2] <= 2.5).all() and (d[:, 2] <= 2.5 + 1e-6).all(), (key, d)
        vol = api.get(url + f"/api/cases/{pk}/images").json()["jobs"][0]["result"]["volumetry"]
        assert vol["segments_method"] == "landmarks"
        assert all(vol["segments_ml"][str(n)] > 0 for n in range(1, 9))
        assert not errors, errors
        browser.close()
