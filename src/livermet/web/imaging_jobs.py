"""Glue between stored uploads and the imaging library: the volumetry job, the viewer's
arrays and the re-planned resection. All measurement is done by ``livermet.imaging``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet.web import library, services, uploads, viewer
from livermet.web.models import ImageFile, Job, User

log = logging.getLogger("livermet.web.imaging")

LABEL_ROLES = {"labels", "liver", "tumour", *(f"segment_{n}" for n in range(1, 9)),
               "portal_vein", "hepatic_veins", "ivc"}


def current_images(db: Session, pk: int) -> list[ImageFile]:
    return list(db.scalars(select(ImageFile).where(ImageFile.case_pk == pk, ImageFile.superseded.is_(False))
                           .order_by(ImageFile.id)))


def case_has_images(db: Session, pk: int) -> bool:
    return any(i.role in LABEL_ROLES for i in current_images(db, pk))


def latest_volumetry(db: Session, pk: int) -> dict | None:
    """The result of the case's last finished volumetry job, if any."""
    job = db.scalar(select(Job).where(Job.case_pk == pk, Job.kind == "volumetry", Job.status == "done")
                    .order_by(Job.id.desc()).limit(1))
    return (job.result or {}).get("volumetry") if job is not None else None


def imaging_block(data_dir: Path, images: list[ImageFile]) -> dict:
    """The case's ``imaging`` object pointing at the stored files (absolute paths)."""
    block: dict = {"masks": {}}
    for i in images:
        path = str((Path(data_dir) / i.path).resolve())
        if i.role == "ct":
            block["ct"] = path
        elif i.role == "labels":
            block["labels"] = path
            block["labelset"] = i.labelset
        elif i.role == "tumour":
            block["masks"].setdefault("tumour", []).append(path)
        elif i.role in ("landmarks", "portal_branches"):  # Couinaud segments without segment labels
            block[i.role] = path
        else:
            block["masks"][i.role] = path
    return block


def check_readable(path: Path, role: str) -> None:
    """Refuse an upload the imaging library cannot read, with the library's message."""
    try:
        from livermet.imaging.errors import ImagingInputError
        from livermet.imaging.io import read_grid
    except ImportError:
        return
    try:
        read_grid(path, what=role)
    except ImagingInputError as exc:
        raise uploads.UploadError(f"the {role} image could not be read: {exc}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise uploads.UploadError(f"the {role} image could not be read ({type(exc).__name__}); "
                                  f"expected {uploads.ACCEPTED}.") from None


def volumetry_job(ctx) -> dict:
    """Job handler: volumetry of a case's stored images; results into the case (audited)."""
    settings = ctx.env.settings
    with ctx.Session() as db:
        imgs = current_images(db, ctx.case_pk)
        if not any(i.role in LABEL_ROLES for i in imgs):
            raise RuntimeError("This case has no label maps: upload them first.")
        row = services.get_case(db, ctx.case_pk)
        data = json.loads(json.dumps(row.data))
        creator = db.get(User, db.get(Job, ctx.job_id).created_by) if ctx.job_id else None
    ctx.progress(0.1, "reading images and measuring")
    # only the files uploaded here (a path typed into an imported case is not on this server)
    data["imaging"] = imaging_block(settings.data_dir, imgs)
    image_rows = [{"role": i.role, "path": i.path, "labelset": i.labelset} for i in imgs]
    pool = getattr(ctx.env, "job_pool", None)
    if pool is not None:  # measured in a separate process: the web server stays responsive
        filled, vol, note = pool.submit(compute, data, str(settings.data_dir), ctx.case_pk, image_rows).result()
    else:
        filled, vol, note = compute(data, str(settings.data_dir), ctx.case_pk, image_rows)
    ctx.progress(0.9, "saving the results in the case")
    actor = services.Actor(creator.id if creator else None,
                           (creator.username if creator else "system") + " (volumetry job)", "system")
    for _attempt in range(5):  # an edit may land meanwhile: re-read and merge again
        with ctx.Session() as db:
            row = services.get_case(db, ctx.case_pk)
            new = json.loads(json.dumps(row.data))
            new["volumetry"] = filled["volumetry"]
            new["metastases"] = dict(new.get("metastases") or {}, lesions=filled["metastases"]["lesions"])
            try:
                services.update_case(db, actor, ctx.case_pk, row.version, data=new, action="volumetry")
                break
            except services.Conflict:
                continue
            except services.Invalid as exc:
                note = (note + " The results were not stored in the case: " + exc.message).strip()
                break
    return {"volumetry": vol, "note": note}


def resection_key(case_data: dict) -> str:
    """The planned resection of a case as one string (name, lesion ids, margin): the viewer
    draws the library's resected-liver map only while it was computed for this same plan."""
    v = case_data.get("volumetry") or {}
    return json.dumps([v.get("planned_resection"), sorted(v.get("resect_lesions") or []), v.get("margin_mm")])


def _build_viewer(data_dir, pk: int, imgs: list[ImageFile], export_dir: Path | None = None,
                  vol: dict | None = None, plan_key: str | None = None) -> dict:
    import numpy as np

    from livermet.imaging.io import read_image, read_label_images
    from livermet.imaging.labelsets import ROLE_CODE, normalise_role, resolve

    base = Path(data_dir)
    ct = None
    roles_arr = None
    grid_affine = None
    for i in imgs:
        if i.role == "ct":
            arr, grid = read_image(base / i.path, what="ct")
            ct = (arr, grid.affine)
    for i in imgs:
        if i.role not in LABEL_ROLES:
            continue
        for li in read_label_images(base / i.path, what=i.role):
            a = np.asarray(li.array)
            if roles_arr is None:
                roles_arr = np.zeros(a.shape, dtype=np.uint8)
                grid_affine = li.grid.affine
            elif a.shape != roles_arr.shape:
                continue  # another grid: the library's volumetry resamples; the viewer skips it
            if i.role == "labels":
                mapping = resolve(i.labelset) if i.labelset else {}
                if not mapping and li.names:
                    mapping = {v: normalise_role(n) for v, n in li.names.items()}
                # liver first, then segments, then tumours on top
                for value, role in sorted(mapping.items(), key=lambda kv: _paint_order(kv[1])):
                    if role in ROLE_CODE:
                        roles_arr[a == value] = ROLE_CODE[role]
            else:
                code = ROLE_CODE.get(i.role)
                if code is not None:
                    m = a > 0
                    if i.role == "liver":
                        m &= roles_arr == 0
                    roles_arr[m] = code
    # What the library derived: segments from landmarks / portal branches, and the resected
    # liver of the planned resection (anatomic and lesions with their margin).
    derived = resection = None
    vol = vol or {}
    if export_dir is not None:
        seg_path, res_path = Path(export_dir) / "segments.nii.gz", Path(export_dir) / "resection.nii.gz"
        if vol.get("segments_method") in ("landmarks", "portal_territories") and seg_path.exists():
            arr, grid = read_image(seg_path, what="segments")
            derived = (np.asarray(arr), grid.affine)
        if res_path.exists() and vol.get("resection"):
            arr, grid = read_image(res_path, what="resection")
            resection = (np.asarray(arr) == 2, grid.affine)
    return viewer.build(Path(data_dir) / "viewer" / str(pk), ct=ct,
                        roles=(roles_arr, grid_affine) if roles_arr is not None else None,
                        derived_segments=derived, resection=resection,
                        segments_method=vol.get("segments_method"),
                        resection_plan=plan_key if resection is not None else None)


def _paint_order(role: str | None) -> int:
    if role == "liver":
        return 0
    if role and role.startswith("segment_"):
        return 1
    if role == "tumour":
        return 3
    return 2


class JobInputError(ValueError):
    """The imaging library's refusal (its message: field, value, what is expected), raised out
    of :func:`compute` so that it pickles from the job process to the server."""


def compute(data: dict, data_dir: str, pk: int, image_rows: list[dict]) -> tuple[dict, dict, str]:
    """Volumetry (imaging library) and the viewer's arrays; runs in the job process."""
    import shutil
    from types import SimpleNamespace

    export_dir = Path(data_dir) / "viewer" / str(pk) / "export"
    shutil.rmtree(export_dir, ignore_errors=True)  # never show an earlier plan's resection
    note = ""
    try:
        filled, vol = library.volumetry_for_case(data, export_dir=export_dir)
    except Exception as exc:  # noqa: BLE001
        from livermet.imaging.errors import ImagingInputError

        if isinstance(exc, ImagingInputError):
            # still show the images: a liver without segment labels and an anatomic plan fails
            # here until landmarks are placed, and they are placed in the viewer
            try:
                _build_viewer(data_dir, pk, [SimpleNamespace(**r) for r in image_rows])
            except Exception as viewer_exc:  # noqa: BLE001  (the library's message is the one to show)
                log.warning("viewer not prepared after a refused volumetry: %s", type(viewer_exc).__name__)
        if isinstance(exc, (ImagingInputError, library.LibraryUnavailable)):
            # by its message: these exceptions cannot be unpickled, and one that cannot cross
            # back from the job process breaks the process pool for every later job
            raise JobInputError(str(exc)) from None
        # the measurement must not fail because its label-map export (DICOM SEG...) did
        shutil.rmtree(export_dir, ignore_errors=True)
        filled, vol = library.volumetry_for_case(data)
        note = (f"the segment and resection label maps could not be exported ({type(exc).__name__}); "
                "the viewer shows the uploaded labels only.")
    vol.pop("files", None)  # server paths: not for the API
    try:
        _build_viewer(data_dir, pk, [SimpleNamespace(**r) for r in image_rows], export_dir, vol,
                      resection_key(data))
    except Exception as exc:  # the numbers matter more than the picture
        note = (note + f" The viewer could not be prepared ({type(exc).__name__}: {exc})").strip()
    return filled, vol, note


HANDLERS = {"volumetry": volumetry_job}
