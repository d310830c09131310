"""Volumetry as a DICOM SR (TID 1500): written with highdicom, read back and checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from livermet.interop.dicom_sr import DicomSrError, read_volumetry_sr, write_volumetry_sr

from .dicom_phantom import write_ct_series, write_seg

VOLUMETRY = {
    "liver_ml": 1650.0, "tumour_ml": 45.0, "functional_liver_ml": 1605.0,
    "segments_ml": {"7": 300.5, "6": 200.0},
    "lesions": [{"id": "L1", "volume_ml": 30.0}, {"id": "L2", "volume_ml": 15.0}],
    "resection": {"name": "right_posterior_sectionectomy", "resected_ml": 500.5,
                  "remnant_ml": 1104.5, "sflr_measured_percent": 68.8162,
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
    assert got["liver"]["Volume"] == (1650.0, "ml") and got["liver"]["_segment"] == 1
    assert got["tumour"]["Volume"] == (45.0, "ml") and got["tumour"]["_segment"] == 2
    assert got["lesion L1"]["Volume"] == (30.0, "ml") and got["lesion L1"]["_segment"] == 2
    assert got["segment 7"]["Volume"] == (300.5, "ml") and got["segment 7"]["_segment"] == 3
    assert got["segment 6"]["_segment"] == 1  # no own segment in the SEG: the liver's
    rem = got["remnant"]
    assert rem["Volume"] == (1104.5, "ml") and rem["_segment"] == 4
    assert rem["sFLR, measured (FLR / functional liver)"] == (pytest.approx(68.8162), "%")
    assert "sFLR, standardised (FLR / standard liver volume)" not in rem  # None: not written
    for g in got.values():
        assert g["_seg_sop_instance_uid"] == seg.SOPInstanceUID
        assert g["_source_series_uid"] == ct[0].SeriesInstanceUID
    # a second reader: highdicom's own parse of the report tree
    sr = hd.sr.srread(out)
    groups = sr.content.get_volumetric_roi_measurement_groups()
    assert len(groups) == len(got) == 9  # liver, functional, tumour, 2 lesions, 2 segments, resected, remnant


def test_sr_with_the_imaging_parts_seg(tmp_path):
    export = pytest.importorskip("livermet.imaging.export")
    from livermet.imaging.grid import Grid

    shape = (6, 12, 12)
    affine = np.diag([0.8, 0.8, 2.0, 1.0])
    grid = Grid(shape, affine) if not hasattr(Grid, "from_spacing") else Grid(shape, affine)
    labels = np.zeros(shape, np.uint8)
    labels[1:5, 2:10, 2:10] = 1
    labels[2:4, 3:5, 3:5] = 2
    labels[1:5, 2:6, 6:10] = 3
    seg_path = export.write_dicom_seg(tmp_path / "seg.dcm", labels, grid,
                                      {1: "liver", 2: "tumour", 3: "segment_7"})
    ct_dir = tmp_path / "seg_ct"
    out = write_volumetry_sr(tmp_path / "sr.dcm", {"liver_ml": 10.0, "tumour_ml": 1.0,
                                                    "segments_ml": {"7": 4.0}}, seg_path, ct_dir)
    got = read_volumetry_sr(out)
    import pydicom

    seg = pydicom.dcmread(seg_path)
    number = {str(s.SegmentLabel): int(s.SegmentNumber) for s in seg.SegmentSequence}
    assert got["liver"]["_segment"] == number["liver"]
    assert got["tumour"]["_segment"] == number["tumour"]
    assert got["segment 7"]["_segment"] == number["segment_7"]


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
    assert data["measurements"]["liver"]["Volume"] == [1650.0, "ml"]
    r = CliRunner().invoke(app, ["dicom-sr", str(vol), "--seg", str(tmp_path / "nope.dcm"),
                                 "--ct", str(ct_dir), "--out", str(tmp_path / "sr2.dcm")])
    assert r.exit_code == 2 and "not found" in " ".join(r.output.split())
