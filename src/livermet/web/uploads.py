"""Uploaded images: size limits, type checks and safe unzipping (no clinical logic).

Accepted: NIfTI (``.nii``, ``.nii.gz``), NRRD (``.nrrd``, ``.seg.nrrd``) and a ``.zip`` of a
DICOM series. Everything else, and every zip that is a bomb, holds a path-traversal member
or holds no DICOM file, is refused with a message saying what was wrong and what is accepted.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import zipfile
from pathlib import Path, PurePosixPath

ACCEPTED = "NIfTI (.nii, .nii.gz), NRRD (.nrrd, .seg.nrrd) or a .zip of a DICOM series"
ACCEPTED_LANDMARKS = "a landmarks JSON file (.json; format in livermet.imaging.couinaud)"
IMAGE_ROLES = ("ct", "labels", "liver", "tumour", *(f"segment_{n}" for n in range(1, 9)),
               "portal_vein", "hepatic_veins", "ivc", "portal_branches", "landmarks")
# Inputs for Couinaud segments when the label maps have none (livermet.imaging.couinaud):
# hepatic-vein/IVC/portal landmark points, or a label map of portal branches 1-8.
SEGMENT_SOURCE_ROLES = ("landmarks", "portal_branches")
MAX_LANDMARKS_BYTES = 1_000_000


class UploadError(ValueError):
    """A refused upload; ``status_code`` 413 (too large) or 415/422 (wrong content)."""

    def __init__(self, message: str, status_code: int = 422):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def safe_filename(name: str) -> str:
    base = PurePosixPath(str(name).replace("\\", "/")).name
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in base).strip("._")
    return (keep or "upload")[:120]


def kind_of(filename: str, role: str | None = None) -> str:
    low = filename.lower()
    if role == "landmarks":
        if low.endswith(".json"):
            return "json"
        raise UploadError(f"file {filename!r}: landmarks are {ACCEPTED_LANDMARKS}.", 415)
    if low.endswith((".nii", ".nii.gz")):
        return "nifti"
    if low.endswith(".nrrd"):
        return "nrrd"
    if low.endswith(".zip"):
        return "dicom_zip"
    raise UploadError(f"file {filename!r} has an extension livermet does not read: expected {ACCEPTED}.", 415)


def _nifti_header_ok(head: bytes) -> bool:
    if len(head) < 348:
        return False
    for fmt in ("<i", ">i"):
        size = struct.unpack(fmt, head[:4])[0]
        if size == 348 and head[344:347] in (b"n+1", b"ni1"):
            return True
        if size == 540 and head[4:7] in (b"n+2", b"ni2"):
            return True
    return False


def nifti_declared_bytes(head: bytes) -> int | None:
    """The image size a NIfTI-1/2 header declares (dims x bits per voxel), in bytes."""
    for end in ("<", ">"):
        size = struct.unpack(end + "i", head[:4])[0]
        if size == 348:
            dims = struct.unpack(end + "8h", head[40:56])
            bitpix = struct.unpack(end + "h", head[72:74])[0]
        elif size == 540:
            bitpix = struct.unpack(end + "h", head[14:16])[0]
            dims = struct.unpack(end + "8q", head[16:80])
        else:
            continue
        n = max(0, min(int(dims[0]), 7))
        voxels = 1
        for d in dims[1:n + 1]:
            voxels *= max(int(d), 1)
        return voxels * max(int(bitpix), 1) // 8
    return None


def check_content(path: Path, filename: str, kind: str, max_image_bytes: int | None = None) -> None:
    """Look at the bytes: is this really what its name says, and is its declared size sane?"""
    with open(path, "rb") as fh:
        start = fh.read(600)
    if kind == "nifti":
        head = start
        if start[:2] == b"\x1f\x8b":
            try:
                with gzip.open(path, "rb") as gz:
                    head = gz.read(600)
            except (OSError, EOFError):
                raise UploadError(f"{filename!r} is not a readable gzip file (corrupt or truncated "
                                  "upload?); expected a NIfTI image.") from None
        if not _nifti_header_ok(head):
            raise UploadError(f"{filename!r} is not a NIfTI image (no NIfTI-1/2 header found); "
                              f"expected {ACCEPTED}.", 415)
        declared = nifti_declared_bytes(head)
        if max_image_bytes is not None and declared is not None and declared > max_image_bytes:
            raise UploadError(f"{filename!r} declares an image of {declared / 1e6:.0f} MB, more than the "
                              f"limit of {max_image_bytes / 1e6:.0f} MB (LIVERMET_MAX_UNZIPPED_MB): refused "
                              "as a possible decompression bomb.", 413)
    elif kind == "nrrd":
        if not start.startswith(b"NRRD"):
            raise UploadError(f"{filename!r} is not an NRRD file (it does not start with 'NRRD'); "
                              f"expected {ACCEPTED}.", 415)
    elif kind == "json":
        check_landmarks(path, filename)
    elif kind == "dicom_zip":
        if not start.startswith(b"PK\x03\x04"):
            raise UploadError(f"{filename!r} is not a zip archive; expected {ACCEPTED}.", 415)


def check_landmarks(path: Path, filename: str) -> None:
    """A landmarks file must be JSON the imaging library accepts (its message otherwise)."""
    import json

    if path.stat().st_size > MAX_LANDMARKS_BYTES:
        raise UploadError(f"{filename!r} is larger than {MAX_LANDMARKS_BYTES // 1000} kB: not a landmarks file.", 413)
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, ValueError) as exc:
        raise UploadError(f"{filename!r} is not valid JSON ({exc}); expected {ACCEPTED_LANDMARKS}.", 415) from None
    try:
        from livermet.imaging.couinaud import validate_landmarks
        from livermet.imaging.errors import ImagingInputError
    except ImportError:  # pragma: no cover - the imaging library is part of livermet
        return
    try:
        validate_landmarks(data)
    except ImagingInputError as exc:
        raise UploadError(f"the landmarks in {filename!r} are not usable: {exc}") from None


def safe_extract_dicom_zip(path: Path, dest: Path, *, max_total_bytes: int, max_ratio: float,
                           max_members: int) -> int:
    """Extract the DICOM files of a zip into ``dest`` (flat), refusing bombs and traversal.

    Returns the number of DICOM files extracted.
    """
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UploadError("the zip archive is corrupt or truncated; upload it again.") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > max_members:
            raise UploadError(f"the zip holds {len(infos)} files: more than the limit of {max_members}.", 413)
        total = 0
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                raise UploadError(f"the zip member {info.filename!r} points outside the archive "
                                  "(path traversal); the upload was refused.")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > max_ratio and info.file_size > 1_000_000:
                raise UploadError(f"the zip member {info.filename!r} expands {ratio:.0f}-fold "
                                  f"(limit {max_ratio:.0f}): refused as a possible zip bomb.", 413)
        if total > max_total_bytes:
            raise UploadError(f"the zip expands to {total / 1e6:.0f} MB, more than the limit of "
                              f"{max_total_bytes / 1e6:.0f} MB: refused as a possible zip bomb.", 413)
        dest.mkdir(parents=True, exist_ok=True)
        written = 0
        count = 0
        for n, info in enumerate(infos):
            with zf.open(info) as src:
                head = src.read(132)
                if len(head) < 132 or head[128:132] != b"DICM":
                    continue  # DICOMDIR-less readme, thumbnails...: not part of the series
                target = dest / f"{n:06d}.dcm"
                with open(target, "wb") as out:
                    out.write(head)
                    written += len(head)
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_total_bytes:  # the header sizes lied
                            out.close()
                            shutil.rmtree(dest, ignore_errors=True)
                            raise UploadError("the zip expands beyond the size limit: refused as a "
                                              "possible zip bomb.", 413)
                        out.write(chunk)
                count += 1
        if count == 0:
            shutil.rmtree(dest, ignore_errors=True)
            raise UploadError(f"the zip holds no DICOM file (none has the 'DICM' marker); expected {ACCEPTED}.", 415)
        return count


async def receive_to_file(stream, target: Path, max_bytes: int) -> tuple[int, str]:
    """Write a request body stream to ``target`` counting bytes; refuse past ``max_bytes``."""
    h = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        async for chunk in stream:
            size += len(chunk)
            if size > max_bytes:
                out.close()
                os.unlink(target)
                raise UploadError(f"the upload is larger than the limit of {max_bytes / 1e6:.0f} MB "
                                  "(LIVERMET_MAX_UPLOAD_MB).", 413)
            h.update(chunk)
            out.write(chunk)
    if size == 0:
        os.unlink(target)
        raise UploadError("the upload is empty.")
    return size, h.hexdigest()
