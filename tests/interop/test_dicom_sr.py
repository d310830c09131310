"""Volumetry as a DICOM SR (TID 1500): written with highdicom, read back and checked."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from livermet.interop.dicom_sr import DicomSrError, read_volumetry_sr, write_volumetry_sr

from .dicom_phantom import write_ct_series, write_seg

# The phantom SEG (dicom_phantom.py): voxels 0.8 x 0.8 x 2.0 mm = 1.28e-3 mL; liver 4x12x12
# voxels, tumour L1 2x3x3, Couinaud segment 7 4x6x6, remnant 4x6x6.
VOXEL_ML = 0.8 * 0.8 * 2.0 / 1000
LIVER, TUMOUR, SEG7, REMNANT = (576 * VOXEL_ML, 18 * VOXEL_ML, 144 * VOXEL_ML, 144 * VOXEL_ML)
VOLUMETRY = {
    "liver_ml": LIVER, "tumour_ml": TUMOUR, "functional_liver_ml": LIVER - TUMOUR,
    "segments_ml": {"7": SEG7, "6": 0.1},  # segment 6 is not in the SEG
    "lesions": [{"id": "L1", "volume_ml": TUMOUR}],
    "resection": {"name": "right_posterior_sectionectomy", "resected_ml": LIVER - REMNANT,
                  "remnant_ml": REMNANT,
                  "sflr_measured_percent": 100 * REMNANT / (LIVER - TUMOUR),
                  "sflr_standardised_percent": None},
}


@pytest.fixture(scope="module")
def ct_and_seg(tmp_path_factory):
    base = tmp_path_factory.mktemp("phantom")
    ct = write_ct_series(base / "ct")
    seg = write_seg(base / "seg.dcm", ct)
    return base / "ct", seg, ct


def test_sr_read_back_values_units_and_references(tmp_path, ct_and_seg):
    import highdicom as hd
    import pydicom

    ct_dir, seg_path, ct = ct_and_seg
    out = write_volumetry_sr(tmp_path / "sr" / "vol.dcm", VOLUMETRY, seg_path, ct_dir)
    ds = pydicom.dcmread(out)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR Storage
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    assert ds.StudyInstanceUID == ct[0].StudyInstanceUID and ds.PatientID == "PH001"
    # evidence: the CT series and the SEG
    seg = pydicom.dcmread(seg_path)
    evidence = {s.SeriesInstanceUID: [i.ReferencedSOPInstanceUID for i in s.ReferencedSOPSequence]
                for st in ds.CurrentRequestedProcedureEvidenceSequence
                for s in st.ReferencedSeriesSequence}
    assert sorted(evidence[ct[0].SeriesInstanceUID]) == sorted(c.SOPInstanceUID for c in ct)
    assert evidence[seg.SeriesInstanceUID] == [seg.SOPInstanceUID]

    got = read_volumetry_sr(out)
    # groups that reference a SEG segment: the segment's own voxel volume equals the value
    assert got["liver"]["Volume"] == (pytest.approx(LIVER), "ml") and got["liver"]["_segment"] == 1
    assert got["tumour"]["Volume"] == (pytest.approx(TUMOUR), "ml") and got["tumour"]["_segment"] == 2
    assert got["lesion L1"]["_segment"] == 2  # the only lesion: the whole tumour segment
    assert got["segment 7"]["Volume"] == (pytest.approx(SEG7), "ml") and got["segment 7"]["_segment"] == 3
    rem = got["remnant"]
    assert rem["Volume"] == (pytest.approx(REMNANT), "ml") and rem["_segment"] == 4
    assert rem["sFLR, measured (FLR / functional liver)"] == (pytest.approx(100 * 144 / 558), "%")
    assert "sFLR, standardised (FLR / standard liver volume)" not in rem  # None: not written
    for key in ("liver", "tumour", "segment 7", "remnant"):
        assert got[key]["_seg_sop_instance_uid"] == seg.SOPInstanceUID
        assert got[key]["_source_series_uid"] == ct[0].SeriesInstanceUID
    # no segment of their own: measurements without an image reference (TID 1501)
    for key in ("functional liver", "segment 6", "resected"):
        assert got[key]["_segment"] is None and got[key]["Volume"][1] == "ml"
    # a second reader: highdicom's own parse of the report tree
    sr = hd.sr.srread(out)
    assert len(sr.content.get_volumetric_roi_measurement_groups()) == 5
    assert len(sr.content.get_image_measurement_groups()) == 3


@pytest.mark.skipif(not shutil.which("dsrdump"), reason="dcmtk (dsrdump) not installed")
def test_sr_parses_in_dcmtk(tmp_path, ct_and_seg):
    """A second, independent SR reader: dcmtk's dsrdump parses the document without errors."""
    ct_dir, seg_path, _ = ct_and_seg
    out = write_volumetry_sr(tmp_path / "sr.dcm", VOLUMETRY, seg_path, ct_dir)
    r = subprocess.run(["dsrdump", "-Ee", str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and "E:" not in r.stderr, r.stderr
    assert "Comprehensive 3D SR" in r.stdout and "Imaging Measurement Report" in r.stdout
    assert r.stdout.count('(ml,UCUM,"milliliter")') == 8
    assert '(%,UCUM,"Percent")' in r.stdout
    assert '"Couinaud hepatic segment VII"' in r.stdout


def test_sr_does_not_reference_a_segment_of_another_volume(tmp_path, ct_and_seg):
    ct_dir, seg_path, _ = ct_and_seg
    wrong = dict(VOLUMETRY, liver_ml=1650.0)  # not the SEG liver segment's 0.737 mL
    got = read_volumetry_sr(write_volumetry_sr(tmp_path / "sr.dcm", wrong, seg_path, ct_dir))
    assert got["liver"]["_segment"] is None and got["liver"]["Volume"] == (1650.0, "ml")
    assert got["tumour"]["_segment"] == 2


def test_sr_from_the_imaging_pipeline_phantom(tmp_path):
    """End to end: phantom label maps -> volumetry + SEG export (imaging part) -> SR -> read."""
    import livermet.imaging.phantom as phantom
    import livermet.imaging.pipeline as pipeline
    import pydicom

    from livermet.interop.dicom_sr import segment_volumes_ml

    f = phantom.write_phantom(tmp_path / "ph")
    res = pipeline.run_volumetry(
        labels=str(f["labels"]), labelset="liver_segments",
        masks=[("tumour", str(f["tumour_L1"])), ("tumour", str(f["tumour_L2"]))],
        resection="right_hepatectomy", export_dir=tmp_path / "export")
    d = res.to_dict()
    segs = sorted((tmp_path / "export").glob("*.seg.dcm"))
    ct_dirs = [p for p in (tmp_path / "export").iterdir() if p.is_dir()]
    assert len(segs) >= 2 and len(ct_dirs) == 1, (segs, ct_dirs)  # the imaging export layout
    got = read_volumetry_sr(write_volumetry_sr(tmp_path / "sr.dcm", d, segs, ct_dirs[0]))
    # every referenced segment's voxel volume (read from the SEG pixels) equals the SR value
    by_uid = {}
    for p in segs:
        ds = pydicom.dcmread(p)
        by_uid[str(ds.SOPInstanceUID)] = segment_volumes_ml(ds)
    referenced = 0
    for key, g in got.items():
        if g["_segment"] is not None:
            referenced += 1
            assert by_uid[g["_seg_sop_instance_uid"]][g["_segment"]] == pytest.approx(
                g["Volume"][0], rel=0.01), key
    assert referenced >= 5
    assert got["liver"]["Volume"][0] == pytest.approx(d["liver_ml"])
    assert got["remnant"]["Volume"][0] == pytest.approx(d["resection"]["remnant_ml"])
    assert got["remnant"]["_segment"] is not None


def test_sr_bad_inputs(tmp_path, ct_and_seg):
    ct_dir, seg_path, _ = ct_and_seg
    first_ct = sorted(ct_dir.glob("*.dcm"))[0]
    with pytest.raises(DicomSrError, match="expected 'SEG'"):
        write_volumetry_sr(tmp_path / "x.dcm", VOLUMETRY, first_ct, ct_dir)
    with pytest.raises(DicomSrError, match="no DICOM image files"):
        (tmp_path / "empty").mkdir()
        write_volumetry_sr(tmp_path / "x.dcm", VOLUMETRY, seg_path, tmp_path / "empty")
    with pytest.raises(DicomSrError, match="no volume to report"):
        write_volumetry_sr(tmp_path / "x.dcm", {"lesions": []}, seg_path, ct_dir)


def test_cli_dicom_sr(tmp_path, ct_and_seg):
    from typer.testing import CliRunner

    from livermet.cli.main import app

    ct_dir, seg_path, _ = ct_and_seg
    vol = tmp_path / "vol.json"
    vol.write_text(json.dumps(VOLUMETRY))
    r = CliRunner().invoke(app, ["dicom-sr", str(vol), "--seg", str(seg_path), "--ct", str(ct_dir),
                                 "--out", str(tmp_path / "sr.dcm"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["measurements"]["liver"]["Volume"] == [pytest.approx(LIVER), "ml"]
    assert data["measurements"]["liver"]["_segment"] == 1
    r = CliRunner().invoke(app, ["dicom-sr", str(vol), "--seg", str(tmp_path / "nope.dcm"),
                                 "--ct", str(ct_dir), "--out", str(tmp_path / "sr2.dcm")])
    assert r.exit_code == 2 and "not found" in " ".join(r.output.split())
