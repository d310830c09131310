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

    pytest.importorskip("livermet.imaging.pipeline")
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
    pytest.importorskip("livermet.imaging.pipeline")
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
