"""A tiny CT series and a DICOM SEG over it, written with pydicom/highdicom for SR tests.

Independent of livermet's imaging export, so the SR is checked against a SEG built by another
code path. Segments: 1 liver, 2 tumour L1, 3 Couinaud segment 7, 4 remnant.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_ct_series(folder: Path, shape=(4, 16, 16), spacing=(2.0, 0.8, 0.8)) -> list:
    import highdicom as hd
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame = hd.UID(), hd.UID(), hd.UID()
    out = []
    for k in range(shape[0]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = hd.UID()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Phantom^Liver", "PH001", "19700101", "O"
        ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.StudyID = "20260101", "120000", "A1", "1"
        ds.ReferringPhysicianName = ""
        ds.Modality, ds.Manufacturer, ds.SeriesNumber, ds.InstanceNumber = "CT", "test", 1, k + 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.ImagePositionPatient = [0.0, 0.0, k * spacing[0]]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [spacing[1], spacing[2]]
        ds.SliceThickness = spacing[0]
        ds.Rows, ds.Columns = shape[1], shape[2]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.PixelData = np.full(shape[1:], 60, dtype=np.int16).tobytes()
        ds.KVP = 120
        pydicom.dcmwrite(folder / f"ct_{k:03d}.dcm", ds, enforce_file_format=True)
        out.append(pydicom.dcmread(folder / f"ct_{k:03d}.dcm"))
    return out


def write_seg(path: Path, ct: list) -> Path:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    shape = (len(ct), int(ct[0].Rows), int(ct[0].Columns))
    liver = np.zeros(shape, bool)
    liver[:, 2:14, 2:14] = True
    tumour = np.zeros(shape, bool)
    tumour[1:3, 4:7, 4:7] = True
    seg7 = np.zeros(shape, bool)
    seg7[:, 2:8, 2:8] = True
    remnant = np.zeros(shape, bool)
    remnant[:, 8:14, 8:14] = True
    masks = np.stack([liver, tumour, seg7, remnant], axis=-1).astype(np.uint8)
    algo = hd.AlgorithmIdentificationSequence(name="test", version="1",
                                              family=codes.DCM.ArtificialIntelligence)
    def desc(n, label, prop):
        return hd.seg.SegmentDescription(
            segment_number=n, segment_label=label, segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=prop, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algo)
    descs = [desc(1, "liver", codes.SCT.Liver), desc(2, "tumour L1", codes.SCT.Neoplasm),
             desc(3, "Couinaud segment 7", codes.SCT.Liver), desc(4, "remnant", codes.SCT.Liver)]
    seg = hd.seg.Segmentation(
        source_images=ct, pixel_array=masks, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descs, series_instance_uid=hd.UID(), series_number=2,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="test",
        manufacturer_model_name="test", software_versions="1", device_serial_number="1")
    seg.save_as(path)
    return path
