"""Volumetry as a DICOM Structured Report: TID 1500 Measurement Report (Comprehensive 3D SR).

:func:`write_volumetry_sr` writes one SR document with one TID 1411 "Volumetric ROI
Measurements" group per structure (liver, functional liver, tumour, each lesion, each Couinaud
segment, the resected part and the future liver remnant). Each group:

- references its segment of the DICOM SEG(s) written by the imaging part (by segment number,
  matched on the SEG's segment labels: ``liver``, ``tumour``/``lesion``, ``segment 1`` ...
  ``segment 8``, ``remnant``, ``resected``), with the SEG's source CT series, when that
  segment's own volume (voxels x voxel size) equals the reported volume. A structure without
  such a segment goes into a TID 1501 group (measurements without an image reference) rather
  than pointing at the wrong voxels;
- holds the volume (SCT 118565006 "Volume") in UCUM ``ml``; the remnant group also holds the
  sFLR ratios in UCUM ``%``.

Codes: finding types Liver (SCT 10200004), Neoplasm (SCT 108369006) and the Couinaud hepatic
segments I-VIII of DICOM CID 7170. The remnant, the resected part, the functional liver and
the sFLR have no code in the DICOM/SNOMED sets we could verify, so they use livermet's private coding scheme ``99LIVERMET`` (DICOM PS3.16 reserves
designators starting with "99" for private schemes), documented in ``docs/fhir.md``.

The evidence (CT series and SEG) is listed in the SR's Current Requested Procedure Evidence
Sequence, so viewers (e.g. 3D Slicer's QuantitativeReporting, OHIF, dcmtk ``dsrdump``) can open
the measurements with their segmentation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

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
    for n in range(1, 9):  # DICOM CID 7170 "Couinaud hepatic segment I..VIII"
        local[f"segment_{n}"] = getattr(codes.cid7170, "CouinaudHepaticSegment" + _ROMAN[n - 1].upper())
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


def segment_volumes_ml(seg) -> dict[int, float]:
    """Volume (mL) of each segment of a BINARY SEG, from its frames and pixel spacing.

    Empty for FRACTIONAL or LABELMAP SEGs (their segment volumes are not checked).
    """
    import numpy as np

    if str(getattr(seg, "SegmentationType", "")) != "BINARY":
        return {}
    try:
        pm = seg.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
        thickness = float(getattr(pm, "SpacingBetweenSlices", None) or pm.SliceThickness)
        voxel_ml = float(pm.PixelSpacing[0]) * float(pm.PixelSpacing[1]) * thickness / 1000.0
        frames = seg.pixel_array
        if frames.ndim == 2:
            frames = frames[None]
        counts: dict[int, int] = {}
        for i, fg in enumerate(seg.PerFrameFunctionalGroupsSequence):
            n = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
            counts[n] = counts.get(n, 0) + int(np.count_nonzero(frames[i]))
    except (AttributeError, IndexError, KeyError, ValueError):
        return {}
    return {n: c * voxel_ml for n, c in counts.items()} | {"_voxel_ml": voxel_ml}  # type: ignore[dict-item]


def write_volumetry_sr(path: str | Path, volumetry: Mapping[str, Any],
                       seg_path: str | Path | Sequence[str | Path], ct_dir: str | Path, *,
                       series_number: int = 901, manufacturer: str = "livermet") -> Path:
    """Write the volumetry as a TID 1500 Comprehensive 3D SR referencing the SEG(s) and the CT.

    A structure is measured in a TID 1411 volumetric group that references its SEG segment
    only when the SEG has a segment of that role (matched on its label) whose own volume
    (voxels x voxel size) equals the reported volume (within 1%): a reference is a claim that
    the number was measured on that segment. Otherwise (e.g. a SEG whose "liver" segment is
    only the liver outside the Couinaud segments, or a lesion stored in a shared tumour
    segment) the value goes into a TID 1501 group without an image reference.

    Parameters
    ----------
    path : output file (.dcm).
    volumetry : the imaging volumetry result (``liver_ml``, ``tumour_ml``,
        ``functional_liver_ml``, ``segments_ml``, ``lesions``, ``resection``).
    seg_path : the DICOM SEG(s) written by the imaging part for the same CT (e.g. the segment
        SEG and the resection SEG).
    ct_dir : folder with the source CT series.

    Returns
    -------
    Path of the written SR.
    """
    import highdicom as hd
    import pydicom

    from livermet import __version__

    codes, local = _codes()
    seg_paths = [seg_path] if isinstance(seg_path, (str, Path)) else list(seg_path)
    if not seg_paths:
        raise DicomSrError("seg_path: at least one DICOM SEG expected")
    segs = []
    for sp in seg_paths:
        try:
            seg = pydicom.dcmread(sp)
        except Exception as exc:  # noqa: BLE001
            raise DicomSrError(f"seg_path {str(sp)!r}: not a readable DICOM file ({exc})") from None
        if getattr(seg, "Modality", None) != "SEG":
            raise DicomSrError(f"seg_path {str(sp)!r}: Modality is {getattr(seg, 'Modality', None)!r}, expected 'SEG'")
        segs.append(seg)
    ct = _read_ct(Path(ct_dir))
    ct_series = ct[0].SeriesInstanceUID
    for sp, seg in zip(seg_paths, segs):
        refs = {s.SeriesInstanceUID for s in getattr(seg, "ReferencedSeriesSequence", [])}
        if refs and ct_series not in refs:
            raise DicomSrError(f"seg_path {str(sp)!r} segments another series than the CT in "
                               f"ct_dir ({', '.join(sorted(refs))} vs {ct_series})")
    # role -> (seg dataset, segment number, segment volume or None)
    roles: dict[str, tuple[Any, int, float | None]] = {}
    for seg in segs:
        vols = segment_volumes_ml(seg)
        for role, num in _segment_label_map(seg).items():
            roles.setdefault(role, (seg, num, vols.get(num)))
    ml = hd.sr.CodedConcept("ml", "UCUM", "milliliter")
    pct = hd.sr.CodedConcept("%", "UCUM", "Percent")
    source_series = hd.sr.SourceSeriesForSegmentation(ct_series)
    algo = hd.sr.AlgorithmIdentification(name="livermet volumetry", version=__version__)
    liver_site = [hd.sr.FindingSite(anatomic_location=codes.SCT.Liver)]
    groups = []

    def group(key: str, role: str | None, finding: Any, values: list[tuple[Any, Any, Any]]):
        values = [(n, v, u) for n, v, u in values
                  if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not values:
            return
        ms = [hd.sr.Measurement(name=n, value=float(v), unit=u, algorithm_id=algo)
              for n, v, u in values]
        tracking = hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=key)
        hit = roles.get(role) if role else None
        volume = next((float(v) for n, v, u in values if n == codes.SCT.Volume), None)
        if hit is not None and hit[2] is not None and volume is not None:
            if abs(hit[2] - volume) > max(0.01 * volume, 2 * segment_volumes_ml(hit[0]).get("_voxel_ml", 0)):
                hit = None  # the SEG segment is not this structure's volume
        if hit is not None:
            seg, num, _ = hit
            ref = hd.sr.ReferencedSegment(sop_class_uid=seg.SOPClassUID,
                                          sop_instance_uid=seg.SOPInstanceUID,
                                          segment_number=num, source_series=source_series)
            groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking, referenced_segment=ref, finding_type=finding,
                finding_sites=liver_site, measurements=ms, algorithm_id=algo))
        else:
            groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking, finding_type=finding, finding_sites=liver_site,
                measurements=ms, algorithm_id=algo))

    vol = codes.SCT.Volume
    group("liver", "liver", codes.SCT.Liver, [(vol, volumetry.get("liver_ml"), ml)])
    fl = volumetry.get("functional_liver_ml")
    if fl is None and isinstance(volumetry.get("liver_ml"), (int, float)):
        fl = volumetry["liver_ml"] - (volumetry.get("tumour_ml") or 0)
    group("functional liver", None, local["functional_liver"], [(vol, fl, ml)])
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
        evidence=[*ct, *segs], content=report[0], series_instance_uid=hd.UID(),
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
    for g in sr.content.get_image_measurement_groups():  # TID 1501: no image reference
        vals = {str(m.name.meaning): (float(m.value), str(m.unit.value))
                for m in g.get_measurements()}
        vals["_segment"] = None
        out[str(g.tracking_identifier)] = vals
    return out
