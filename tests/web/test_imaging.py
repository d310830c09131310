"""Uploads (limits, type checks, zip bombs, traversal), the volumetry job, the slice
viewer's PNGs, and re-planning the resection."""

from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pytest
from web_support import Client, make_app


@pytest.fixture
def case_client(tmp_path, demo_case):
    app = make_app(tmp_path / "d", max_upload_mb=5, max_unzipped_mb=20)
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    yield app, a, pk
    app.state.engine.dispose()


def _upload(a, pk, body: bytes, filename: str, role="ct", labelset=None):
    params = {"role": role, "filename": filename}
    if labelset:
        params["labelset"] = labelset
    return a.put(f"/api/cases/{pk}/images", params=params, content=body)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_bomb_refused(case_client):
    app, a, pk = case_client
    r = _upload(a, pk, _zip({"slice.dcm": b"\0" * 30_000_000}), "series.zip")
    assert r.status_code == 413
    assert "zip bomb" in r.json()["detail"]
    assert not list((app.state.settings.data_dir / "images").rglob("*.dcm"))


def test_zip_total_size_refused(tmp_path, demo_case):
    app = make_app(tmp_path / "d", max_upload_mb=5, max_unzipped_mb=5)
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    # no member is suspicious alone (low ratio), but together they expand past 5 MB
    rng = np.random.default_rng(0)
    body = _zip({f"s{i}.dcm": rng.integers(0, 4, 2_500_000, dtype=np.uint8).tobytes() for i in range(3)})
    assert len(body) < 5_000_000
    r = _upload(a, pk, body, "series.zip")
    assert r.status_code == 413
    assert "expands to" in r.json()["detail"] and "zip bomb" in r.json()["detail"]
    app.state.engine.dispose()


def test_path_traversal_member_refused(case_client):
    app, a, pk = case_client
    dicm = b"\0" * 128 + b"DICM" + b"\0" * 100
    r = _upload(a, pk, _zip({"../../etc/evil.dcm": dicm}), "series.zip")
    assert r.status_code == 422
    assert "path traversal" in r.json()["detail"] and "../../etc/evil.dcm" in r.json()["detail"]
    assert not (app.state.settings.data_dir.parent / "etc").exists()


def test_non_image_files_refused(case_client):
    app, a, pk = case_client
    r = _upload(a, pk, b"just some notes", "notes.txt")
    assert r.status_code == 415 and "expected NIfTI" in r.json()["detail"]
    r = _upload(a, pk, gzip.compress(b"this is not an image at all" * 20), "ct.nii.gz")
    assert r.status_code == 415 and "not a NIfTI image" in r.json()["detail"]
    r = _upload(a, pk, _zip({"readme.txt": b"hello"}), "series.zip")
    assert r.status_code == 415 and "no DICOM file" in r.json()["detail"]
    r = _upload(a, pk, b"\x1f\x8b\x08\x00garbage", "ct.nii.gz")
    assert r.status_code == 422 and "gzip" in r.json()["detail"]


def test_upload_size_limit(case_client):
    app, a, pk = case_client
    r = _upload(a, pk, b"\0" * 6_000_000, "big.nii")
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]


def test_labels_need_a_labelset(case_client, phantom_files):
    app, a, pk = case_client
    r = _upload(a, pk, phantom_files["segments"].read_bytes(), "seg.nii.gz", role="labels")
    assert r.status_code == 422 and "label set" in r.json()["detail"]


def _run_case(app, a, pk, files, flip=False):
    import nibabel as nib

    for role, path, ls in files:
        body = path.read_bytes()
        if flip:  # the same image stored left-right flipped, with the affine saying so
            img = nib.load(path)
            arr = np.asarray(img.dataobj)[::-1]
            aff = img.affine.copy()
            aff[:, 3] = aff @ np.array([arr.shape[0] - 1, 0, 0, 1])
            aff[:, 0] = -aff[:, 0]
            buf = io.BytesIO()
            out = nib.Nifti1Image(arr, aff)
            fh = nib.FileHolder(fileobj=buf)
            out.to_file_map({"header": fh, "image": fh})
            body = gzip.compress(buf.getvalue())
        r = _upload(a, pk, body, path.name, role=role, labelset=ls)
        assert r.status_code == 201, r.text
    assert app.state.jobs.run_pending() >= 1
    jobs = a.get(f"/api/cases/{pk}/images").json()["jobs"]
    assert jobs[0]["status"] == "done", jobs[0]


def test_volumetry_job_viewer_and_resection(tmp_path, demo_case, phantom_files):
    from PIL import Image

    import livermet.imaging.pipeline  # noqa: F401  (part of livermet: never skipped)
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    ph = phantom_files["phantom"]
    files = [("ct", phantom_files["ct"], None), ("labels", phantom_files["segments"], "liver_segments"),
             ("tumour", phantom_files["tumours"], None)]
    pks = []
    for flip in (False, True):
        d = dict(demo_case, id=f"phantom-{flip}")
        pk = a.post("/api/cases", json={"data": d}).json()["pk"]
        _run_case(app, a, pk, files, flip=flip)
        pks.append(pk)
    pk = pks[0]
    vol = a.get(f"/api/cases/{pk}").json()["data"]["volumetry"]
    # volumes come from the imaging library: within 3% of the phantom's analytic ellipsoid
    assert vol["source"] == "imaging"
    assert vol["total_liver_ml"] == pytest.approx(ph.liver_volume_ml, rel=0.03)

    meta = a.get(f"/api/cases/{pk}/viewer").json()
    nz, ny, nx = meta["shape"]
    assert (nx, ny, nz) == ph.grid.shape and meta["has_ct"]
    assert {"liver", "segments", "tumour", "resection"} <= set(meta["layers"])
    # a slice through a tumour: its pixels are drawn red where the phantom says tumour
    k = int(np.argmax((ph.tumours > 0).sum(axis=(0, 1))))
    ov = Image.open(io.BytesIO(a.get(f"/api/cases/{pk}/viewer/overlay/{k}.png?layers=tumour").content))
    rgba = np.asarray(ov)
    assert rgba.shape == (ny, nx, 4)
    red = (rgba[..., 0] == 255) & (rgba[..., 3] > 0)
    truth = (ph.tumours[:, :, k] > 0).T  # rows = P (anterior up), columns = L (patient right on the left)
    assert red.sum() == truth.sum() and np.array_equal(red, truth)
    ct = np.asarray(Image.open(io.BytesIO(a.get(f"/api/cases/{pk}/viewer/ct/{k}.png?preset=liver").content)))
    assert ct.shape == (ny, nx) and ct.max() > ct.min()
    # the flipped upload displays identically (display follows the affine, not the storage order)
    pk2 = pks[1]
    for url in (f"viewer/overlay/{k}.png?layers=liver,segments,tumour", f"viewer/ct/{k}.png"):
        assert a.get(f"/api/cases/{pk}/{url}").content == a.get(f"/api/cases/{pk2}/{url}").content

    # plan another resection: a job measures the new remnant; the overlay shows the new plan
    before = a.get(f"/api/cases/{pk}").json()
    r = a.post(f"/api/cases/{pk}/resection", json={"version": before["version"],
                                                   "planned_resection": "right_hepatectomy"})
    assert r.status_code == 200, r.text
    assert r.json()["job"]["status"] == "queued"
    assert r.json()["case"]["data"]["volumetry"]["remnant_ml"] is None  # never a stale remnant
    assert app.state.jobs.run_pending() == 1
    job = a.get(f"/api/jobs/{r.json()['job']['id']}").json()
    assert job["status"] == "done"
    after = a.get(f"/api/cases/{pk}").json()
    rem = after["data"]["volumetry"]["remnant_ml"]
    assert after["data"]["volumetry"]["planned_resection"] == "right_hepatectomy"
    assert rem is not None and rem != before["data"]["volumetry"]["remnant_ml"]
    assert rem == pytest.approx(job["result"]["volumetry"]["resection"]["remnant_ml"])
    # segments 5-8 removed: the remnant is the functional volume of segments 1-4 (imaging library)
    seg = job["result"]["volumetry"]["segments_functional_ml"] or job["result"]["volumetry"]["segments_ml"]
    assert rem == pytest.approx(sum(seg[str(n)] for n in (1, 2, 3, 4)), rel=0.01)
    png = np.asarray(Image.open(io.BytesIO(a.get(f"/api/cases/{pk}/viewer/overlay/{k}.png?layers=resection").content)))
    assert (png[..., 3] > 0).any()
    assert [e["action"] for e in a.get(f"/api/cases/{pk}/audit").json()["entries"]][-2:] == \
        ["plan_resection", "volumetry"]
    # the report shows the case's own images (an axial slice with the overlays), not a schematic
    report = a.get(f"/api/cases/{pk}/report.html")
    if report.status_code == 200:
        assert "axial CT slice" in report.text and "data:image/png;base64," in report.text
    app.state.engine.dispose()


def _dicom_series(n: int) -> dict[str, bytes]:
    """``n`` CT slices made from pydicom's CT_small.dcm, stacked 2.5 mm apart."""
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    src = get_testdata_file("CT_small.dcm")
    series = generate_uid()
    out = {}
    for i in range(n):
        ds = pydicom.dcmread(src)
        ds.SeriesInstanceUID = series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y, z + 2.5 * i]
        ds.SliceLocation = z + 2.5 * i
        buf = io.BytesIO()
        ds.save_as(buf)
        out[f"series/IM{i:04d}"] = buf.getvalue()
    return out


def test_dicom_zip_upload(case_client):
    app, a, pk = case_client
    members = _dicom_series(4)
    members["series/README.txt"] = b"exported by PACS"  # non-DICOM members are skipped
    r = _upload(a, pk, _zip(members), "ct-series.zip", role="ct")
    assert r.status_code == 201, r.text
    assert r.json()["image"]["kind"] == "dicom_zip"
    stored = list((app.state.settings.data_dir / "images" / str(pk)).rglob("*.dcm"))
    assert len(stored) == 4
    # a single slice is not a series: the imaging library's message reaches the user
    r = _upload(a, pk, _zip(_dicom_series(1)), "one-slice.zip", role="ct")
    assert r.status_code == 422 and "at least 2 slices" in r.json()["detail"]


def test_nifti_decompression_bomb_refused(case_client):
    import nibabel as nib

    app, a, pk = case_client  # limit: 20 MB decompressed
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((2048, 2048, 2048))
    hdr.set_data_dtype(np.int16)
    raw = hdr.binaryblock + b"\0" * 4 + b"\0" * 1_000_000  # the rest would be zeros: tiny when gzipped
    r = _upload(a, pk, gzip.compress(raw), "huge.nii.gz")
    assert r.status_code == 413
    assert "declares an image of 17180 MB" in r.json()["detail"]


def test_failed_job_says_why_and_changes_nothing(tmp_path, demo_case, phantom_files):
    import livermet.imaging.pipeline  # noqa: F401  (part of livermet: never skipped)
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    # Couinaud labels declared as TotalSegmentator's `total` task: no liver label (5) in them
    r = _upload(a, pk, phantom_files["tumours"].read_bytes(), "labels.nii.gz", role="labels",
                labelset="totalsegmentator")
    assert r.status_code == 201
    app.state.jobs.run_pending()
    job = a.get(f"/api/cases/{pk}/images").json()["jobs"][0]
    assert job["status"] == "failed" and len(job["message"]) > 10
    assert a.get(f"/api/cases/{pk}").json()["version"] == 1
    app.state.engine.dispose()


def _liver_only_files(phantom_files):
    """The phantom's liver as one mask without segment labels, plus its tumours."""
    import nibabel as nib

    d = phantom_files["dir"]
    ph = phantom_files["phantom"]
    if not (d / "liver.nii.gz").exists():
        nib.save(nib.Nifti1Image(ph.liver.astype(np.uint8), ph.grid.affine_ras), d / "liver.nii.gz")
        nib.save(nib.Nifti1Image(ph.portal_branches.astype(np.uint8), ph.grid.affine_ras), d / "portal.nii.gz")
    return [("ct", phantom_files["ct"], None), ("liver", d / "liver.nii.gz", None),
            ("tumour", phantom_files["tumours"], None)]


def _dice(a, b) -> float:
    return 2.0 * np.count_nonzero(a & b) / max(np.count_nonzero(a) + np.count_nonzero(b), 1)


@pytest.mark.parametrize("source", ["landmarks", "portal_branches"])
def test_segments_from_landmarks_or_portal_branches(tmp_path, demo_case, phantom_files, source):
    """A liver mask without segment labels gets Couinaud segments from the uploaded landmarks
    JSON or portal-branch label map; the method is reported and the viewer paints them."""
    import json as _json

    from PIL import Image

    import livermet.imaging.couinaud  # noqa: F401  (part of livermet: never skipped)
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    ph = phantom_files["phantom"]
    pk = a.post("/api/cases", json={"data": dict(demo_case, id=f"lm-{source}")}).json()["pk"]
    files = _liver_only_files(phantom_files)
    if source == "landmarks":
        lm = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in ph.landmarks.items()}
        bad = dict(lm)
        del bad["ivc"]
        r = _upload(a, pk, _json.dumps(bad).encode(), "lm.json", role="landmarks")
        assert r.status_code == 422 and "ivc" in r.json()["detail"]  # the library's message
        r = _upload(a, pk, b"{not json", "lm.json", role="landmarks")
        assert r.status_code == 415 and "not valid JSON" in r.json()["detail"]
        r = _upload(a, pk, phantom_files["tumours"].read_bytes(), "lm.nii.gz", role="landmarks")
        assert r.status_code == 415 and ".json" in r.json()["detail"]
        body = _json.dumps(lm).encode()
        r = _upload(a, pk, body, "landmarks.json", role="landmarks")
    else:
        r = _upload(a, pk, (phantom_files["dir"] / "portal.nii.gz").read_bytes(), "portal.nii.gz",
                    role="portal_branches")
    assert r.status_code == 201, r.text
    _run_case(app, a, pk, files)
    vol = a.get(f"/api/cases/{pk}/images").json()["jobs"][0]["result"]["volumetry"]
    method = {"landmarks": "landmarks", "portal_branches": "portal_territories"}[source]
    assert vol["segments_method"] == method
    # every segment measured, adding up to the liver (the imaging library's segments)
    seg = vol["segments_ml"]
    assert all(seg[str(n)] > 0 for n in range(1, 9))
    assert sum(seg.values()) == pytest.approx(vol["liver_ml"], rel=0.01)
    # the viewer paints the derived segments: on a mid-liver slice, each segment's colour region
    # overlaps the phantom's true segment (Dice > 0.7; flat planes vs the phantom's truth)
    meta = a.get(f"/api/cases/{pk}/viewer").json()
    assert meta["segments_method"] == method and "segments" in meta["layers"]
    from livermet.web.viewer import _SEGMENT_COLOURS

    k = int(np.argmax((ph.segments == 8).sum(axis=(0, 1))))
    rgba = np.asarray(Image.open(io.BytesIO(a.get(f"/api/cases/{pk}/viewer/overlay/{k}.png?layers=segments").content)))
    truth = ph.segments[:, :, k].T
    n8 = np.all(rgba[..., :3] == _SEGMENT_COLOURS[7], axis=-1) & (rgba[..., 3] > 0)
    assert _dice(n8, truth == 8) > 0.7
    # the results page says where the segments came from
    page = a.get(f"/cases/{pk}/results").text
    assert {"landmarks": "landmarks", "portal_branches": "portal-branch territories"}[source] in page
    app.state.engine.dispose()


def test_non_anatomic_resection_of_chosen_lesions(tmp_path, demo_case, phantom_files):
    """Plan removal of one lesion with a margin: the remnant and the viewer's resection overlay
    match an independent computation (scipy's exact Euclidean distance transform)."""
    from PIL import Image
    from scipy import ndimage

    import livermet.imaging.pipeline  # noqa: F401  (part of livermet: never skipped)
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    ph = phantom_files["phantom"]
    pk = a.post("/api/cases", json={"data": dict(demo_case, id="wedge")}).json()["pk"]
    files = [("ct", phantom_files["ct"], None), ("labels", phantom_files["segments"], "liver_segments"),
             ("tumour", phantom_files["tumours"], None)]
    _run_case(app, a, pk, files)
    case = a.get(f"/api/cases/{pk}").json()
    ids = [les["id"] for les in case["data"]["metastases"]["lesions"]]
    assert "L1" in ids
    # bad input: unknown lesion, a margin out of range, "lesions" without ids
    for body, word in (({"resect_lesions": ["L9"]}, "L9"), ({"resect_lesions": ["L1"], "margin_mm": 80}, "margin_mm"),
                       ({"planned_resection": "lesions"}, "resect_lesions")):
        r = a.post(f"/api/cases/{pk}/resection", json={"version": case["version"], **body})
        assert r.status_code == 422 and word in r.json()["detail"], r.text
    # which phantom tumour is L1: the one whose centre is nearest the library's lesion L1
    vol0 = a.get(f"/api/cases/{pk}/images").json()["jobs"][0]["result"]["volumetry"]
    c1 = np.array(next(les for les in vol0["lesions"] if les["id"] == "L1")["centroid_mm"])
    info = min(ph.tumour_info, key=lambda t: np.linalg.norm(np.array(t["centre_mm"]) - c1))
    number = ph.tumour_info.index(info) + 1
    r = a.post(f"/api/cases/{pk}/resection", json={"version": case["version"], "planned_resection": "",
                                                   "resect_lesions": ["L1"], "margin_mm": 8})
    assert r.status_code == 200, r.text
    v = r.json()["case"]["data"]["volumetry"]
    assert (v["planned_resection"], v["resect_lesions"], v["margin_mm"]) == ("lesions", ["L1"], 8.0)
    assert app.state.jobs.run_pending() == 1
    res = a.get(f"/api/jobs/{r.json()['job']['id']}").json()["result"]["volumetry"]["resection"]
    # independent: liver voxels whose centre is within 8 mm of a voxel of that tumour
    dist = ndimage.distance_transform_edt(ph.tumours != number, sampling=ph.grid.spacing)
    expected = (dist <= 8.0) & ph.liver
    vv = float(np.prod(ph.grid.spacing)) / 1000.0
    assert res["resected_ml"] == pytest.approx(expected.sum() * vv, rel=1e-6)
    l1 = next(x for x in res["lesions_removed"] if x["id"] == "L1")
    assert l1["removed"] and l1["removed_with_margin"]
    after = a.get(f"/api/cases/{pk}").json()["data"]["volumetry"]
    assert after["remnant_ml"] == pytest.approx(res["remnant_ml"])
    # the viewer draws exactly that region (hatched: half the pixels in a 6-pixel pattern)
    k = int(np.argmax(expected.sum(axis=(0, 1))))
    rgba = np.asarray(Image.open(io.BytesIO(
        a.get(f"/api/cases/{pk}/viewer/overlay/{k}.png?layers=resection").content)))
    drawn = rgba[..., 3] > 0
    truth = expected[:, :, k].T
    yy, xx = np.indices(truth.shape)
    assert np.array_equal(drawn, truth & (((yy + xx) % 6) < 3))
    # a coronal slice through the same region: rows head to foot
    j = int(np.argmax(expected.sum(axis=(0, 2))))
    rgba = np.asarray(Image.open(io.BytesIO(
        a.get(f"/api/cases/{pk}/viewer/overlay/{j}.png?layers=resection&axis=coronal").content)))
    truth = expected[:, j, ::-1].T  # rows = S from the head down, columns = L
    yy, xx = np.indices(truth.shape)
    assert np.array_equal(rgba[..., 3] > 0, truth & (((yy + xx) % 6) < 3))
    assert a.get(f"/api/cases/{pk}/viewer/ct/{j}.png?axis=oblique").status_code == 422
    page = a.get(f"/cases/{pk}/results").text
    assert 'id="resect-lesions"' in page and "L1" in page
    # the library's label maps of the plan, for PACS: the resection map holds the same region
    import nibabel as nib

    names = {f["name"] for f in a.get(f"/api/cases/{pk}/exports").json()["files"]}
    assert {"segments.nii.gz", "resection.nii.gz", "resection.seg.dcm"} <= names
    r = a.get(f"/api/cases/{pk}/exports/resection.nii.gz")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    (tmp_path / "res.nii.gz").write_bytes(r.content)
    exported = np.asarray(nib.load(tmp_path / "res.nii.gz").dataobj) == 2
    assert exported.shape == expected.shape and np.array_equal(exported, expected)
    assert a.get(f"/api/cases/{pk}/exports/..%2Fmeta.json").status_code == 404
    assert a.get(f"/api/cases/{pk}/exports/meta.json").status_code == 404
    app.state.engine.dispose()
