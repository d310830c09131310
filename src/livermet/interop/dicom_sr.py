"""Volumetry as a DICOM Structured Report: TID 1500 Measurement Report (Comprehensive 3D SR).

:func:`write_volumetry_sr` writes one SR document with one TID 1411 "Volumetric ROI
Measurements" group per structure (liver, functional liver, tumour, each lesion, each Couinaud
segment, the resected part and the future liver remnant). Each group:

- references its segment of the DICOM SEG written by the imaging part (by segment number,
  matched on the SEG's segment labels: ``liver``, ``tumour``/``lesion``, ``segment 1`` ...
  ``segment 8``, ``remnant``, ``resected``), with the SEG's source CT series;
- holds the volume (SCT 118565006 "Volume") in UCUM ``ml``; the remnant group also holds the
  sFLR ratios in UCUM ``%``.

Codes: finding types Liver (SCT 10200004) and Neoplasm (SCT 108369006) are SNOMED CT. Couinaud
segments, the remnant, the functional liver and sFLR have no code in the DICOM/SNOMED sets we
could verify, so they use livermet's private coding scheme ``99LIVERMET`` (DICOM PS3.16 reserves
designators starting with "99" for private schemes), documented in ``docs/fhir.md``.

The evidence (CT series and SEG) is listed in the SR's Current Requested Procedure Evidence
Sequence, so viewers (e.g. 3D Slicer's QuantitativeReporting, OHIF, dcmtk ``dsrdump``) can open
the measurements with their segmentation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

PRIVATE_SCHEME = "99LIVERMET"
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii"]


class DicomSrError(ValueError):
    """Inputs for the SR are missing or inconsistent (the message names which)."""


def _codes():
    import highdicom as hd
    from pydicom.sr.codedict import codes

    local = {
        "functional_liver": hd.sr.CodedConcept("FLIVER", PRIVATE_SCHEME, "Functional liver (liver minus tumour)"),
        "remnant": hd.sr.CodedConcept("FLR", PRIVATE_SCHEME, "Future liver remnant"),
        "resected": hd.sr.CodedConcept("RESECTED", PRIVATE_SCHEME, "Planned resection specimen"),
        "sflr_measured": hd.sr.CodedConcept("SFLRM", PRIVATE_SCHEME, "sFLR, measured (FLR / functional liver)"),
        "sflr_standardised": hd.sr.CodedConcept("SFLRS", PRIVATE_SCHEME, "sFLR, standardised (FLR / standard liver volume)"),
    }
    for n in range(1, 9):
        local[f"segment_{n}"] = hd.sr.CodedConcept(f"S{n}", PRIVATE_SCHEME, f"Couinaud segment {n}")
    return codes, local


def _segment_label_map(seg) -> dict[str, int]:
    """Role -> segment number from the SEG's labels (first match wins)."""
    roles: dict[str, int] = {}
    for item in seg.SegmentSequence:
        label = str(getattr(item, "SegmentLabel", "")).strip().lower()
        desc = str(getattr(item, "SegmentDescription", "")).strip().lower()
        text = f"{label} {desc}"
        num = int(item.SegmentNumber)
        m = re.search(r"(?:segment|couinaud|\bs)[ _-]?([1-8]|viii|vii|vi|iv|v|iii|ii|i)[ab]?\b",
                      text)
        if m and "lesion" not in text:
            tok = m.group(1)
            n = int(tok) if tok.isdigit() else _ROMAN.index(tok) + 1
            roles.setdefault(f"segment_{n}", num)
        elif "remnant" in text or "flr" in text:
            roles.setdefault("remnant", num)
        elif "resect" in text:
            roles.setdefault("resected", num)
        elif "lesion" in text or "tumo" in text or "neoplasm" in text or "metast" in text:
            lm = re.search(r"(l\d+)", text)
            if lm:
                roles.setdefault(f"lesion_{lm.group(1).upper()}", num)
            roles.setdefault("tumour", num)
        elif "liver" in text:
            roles.setdefault("liver", num)
    return roles


def _read_ct(ct_dir: Path) -> list:
    import pydicom

    files = sorted(p for p in Path(ct_dir).rglob("*") if p.is_file())
    out = []
    for p in files:
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - not DICOM (e.g. a README): skip
            continue
        if getattr(ds, "SOPClassUID", None) and getattr(ds, "SeriesInstanceUID", None):
            out.append(ds)
    if not out:
        raise DicomSrError(f"ct_dir {str(ct_dir)!r}: no DICOM image files found")
    series = {ds.SeriesInstanceUID for ds in out}
    if len(series) > 1:
        raise DicomSrError(f"ct_dir {str(ct_dir)!r}: {len(series)} series found; expected one CT series")
    return out


def write_volumetry_sr(path: str | Path, volumetry: Mapping[str, Any], seg_path: str | Path,
                       ct_dir: str | Path, *, series_number: int = 901,
                       manufacturer: str = "livermet") -> Path:
    """Write the volumetry as a TID 1500 Comprehensive 3D SR referencing the SEG and the CT.

    Parameters
    ----------
    path : output file (.dcm).
    volumetry : the imaging volumetry result (``liver_ml``, ``tumour_ml``,
        ``functional_liver_ml``, ``segments_ml``, ``lesions``, ``resection``).
    seg_path : the DICOM SEG written by the imaging part for the same CT.
    ct_dir : folder with the source CT series.

    Returns
    -------
    Path of the written SR.
    """
    import highdicom as hd
    import pydicom

    from livermet import __version__

    codes, local = _codes()
    try:
        seg = pydicom.dcmread(seg_path)
    except Exception as exc:  # noqa: BLE001
        raise DicomSrError(f"seg_path {str(seg_path)!r}: not a readable DICOM file ({exc})") from None
    if getattr(seg, "Modality", None) != "SEG":
        raise DicomSrError(f"seg_path {str(seg_path)!r}: Modality is {getattr(seg, 'Modality', None)!r}, expected 'SEG'")
    ct = _read_ct(Path(ct_dir))
    roles = _segment_label_map(seg)
    ml = hd.sr.CodedConcept("ml", "UCUM", "milliliter")
    pct = hd.sr.CodedConcept("%", "UCUM", "Percent")
    source_series = hd.sr.SourceSeriesForSegmentation(ct[0].SeriesInstanceUID)
    algo = hd.sr.AlgorithmIdentification(name="livermet volumetry", version=__version__)

    groups = []
    missing: list[str] = []

    def group(key: str, role: str | None, finding: Any, values: list[tuple[Any, float, Any]]):
        values = [(n, v, u) for n, v, u in values if isinstance(v, (int, float))]
        if not values:
            return
        seg_num = roles.get(role) if role else None
        ref = None
        if seg_num is not None:
            ref = hd.sr.ReferencedSegment(sop_class_uid=seg.SOPClassUID,
                                          sop_instance_uid=seg.SOPInstanceUID,
                                          segment_number=seg_num, source_series=source_series)
        else:
            missing.append(key)
            # TID 1411 needs a region, surface or segment: fall back to the liver's segment
            # with the structure named by the finding site (recorded in the report).
            if "liver" not in roles:
                return
            ref = hd.sr.ReferencedSegment(sop_class_uid=seg.SOPClassUID,
                                          sop_instance_uid=seg.SOPInstanceUID,
                                          segment_number=roles["liver"],
                                          source_series=source_series)
        ms = [hd.sr.Measurement(name=n, value=float(v), unit=u, algorithm_id=algo)
              for n, v, u in values]
        groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=key),
            referenced_segment=ref, finding_type=finding,
            finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Liver)],
            measurements=ms, algorithm_id=algo))

    vol = codes.SCT.Volume
    group("liver", "liver", codes.SCT.Liver, [(vol, volumetry.get("liver_ml"), ml)])
    fl = volumetry.get("functional_liver_ml")
    if fl is None and isinstance(volumetry.get("liver_ml"), (int, float)):
        fl = volumetry["liver_ml"] - (volumetry.get("tumour_ml") or 0)
    group("functional liver", "liver", local["functional_liver"], [(vol, fl, ml)])
    group("tumour", "tumour", codes.SCT.Neoplasm, [(vol, volumetry.get("tumour_ml"), ml)])
    for les in volumetry.get("lesions") or []:
        lid = str(les.get("id", "?"))
        role = f"lesion_{lid.upper()}" if f"lesion_{lid.upper()}" in roles else "tumour"
        group(f"lesion {lid}", role, codes.SCT.Neoplasm, [(vol, les.get("volume_ml"), ml)])
    for k, v in sorted((volumetry.get("segments_ml") or {}).items(), key=lambda kv: str(kv[0])):
        group(f"segment {k}", f"segment_{k}", local.get(f"segment_{k}", codes.SCT.Liver),
              [(vol, v, ml)])
    res = volumetry.get("resection") or {}
    group("resected", "resected", local["resected"], [(vol, res.get("resected_ml"), ml)])
    group("remnant", "remnant", local["remnant"], [
        (vol, res.get("remnant_ml"), ml),
        (local["sflr_measured"], res.get("sflr_measured_percent"), pct),
        (local["sflr_standardised"], res.get("sflr_standardised_percent"), pct)])
    if not groups:
        raise DicomSrError("volumetry: no volume to report (expected liver_ml, tumour_ml, "
                           "segments_ml or resection)")

    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name="livermet", manufacturer_name=manufacturer,
            model_name=f"livermet {__version__}"))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=groups)
    sr = hd.sr.Comprehensive3DSR(
        evidence=[*ct, seg], content=report[0], series_instance_uid=hd.UID(),
        series_number=series_number, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer=manufacturer, is_complete=True, is_final=False, is_verified=False,
        series_description="livermet volumetry (TID 1500)")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    sr.save_as(out)
    return out


def read_volumetry_sr(path: str | Path) -> dict[str, dict[str, tuple[float, str]]]:
    """Read back an SR written by :func:`write_volumetry_sr`.

    Returns ``{tracking identifier: {measurement meaning: (value, UCUM unit)}}`` plus, under
    each group's ``"_segment"`` key, the referenced SEG segment number.
    """
    import highdicom as hd

    sr = hd.sr.srread(path)
    out: dict[str, dict[str, Any]] = {}
    for g in sr.content.get_volumetric_roi_measurement_groups():
        key = str(g.tracking_identifier)
        vals: dict[str, Any] = {}
        for m in g.get_measurements():
            vals[str(m.name.meaning)] = (float(m.value), str(m.unit.value))
        ref = g.referenced_segment
        if ref is not None:
            vals["_segment"] = int(ref.referenced_segment_numbers[0])
            vals["_seg_sop_instance_uid"] = str(ref.referenced_sop_instance_uid)
            src = ref.source_series_for_segmentation
            if src is not None:
                vals["_source_series_uid"] = str(src.value)
        out[key] = vals
    return out
