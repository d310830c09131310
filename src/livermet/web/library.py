"""The only place the web app calls the livermet library.

The web app is a thin shell: every clinical computation (validation, scores, options,
volumetry, resections, report, FHIR, CDS Hooks, the MDT's minimum team) comes from the
library. Each wrapper imports its library module lazily and raises ``LibraryUnavailable``
with a clear message when that part of livermet is not installed, so that the pages can say
what is missing instead of failing obscurely.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable

import livermet
from livermet.plain import to_plain  # re-exported: routes call library.to_plain


class LibraryUnavailable(RuntimeError):
    """A part of the livermet library that this page needs is not available."""

    def __init__(self, feature: str, module: str, detail: str = ""):
        self.feature = feature
        self.module = module
        super().__init__(f"{feature} is not available in this installation of livermet "
                         f"(module {module}{': ' + detail if detail else ''}).")


def _attr(module: str, name: str, feature: str) -> Callable:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise LibraryUnavailable(feature, module) from None
        raise
    fn = getattr(mod, name, None)
    if fn is None:
        raise LibraryUnavailable(feature, module, f"no {name}()")
    return fn


# ----------------------------------------------------------------- the case
def case_model():
    from livermet.case.model import Case

    return Case


def parse_case(data: dict):
    """A ``Case`` from a dict (pydantic). Raises pydantic.ValidationError."""
    return case_model().model_validate(data)


def validate_case(data: dict) -> list[dict]:
    """Problems as dicts: path (dotted), value, expected, message, severity, hint.

    Uses ``livermet.case.validate.validate_case``; without it, pydantic's own checks of the
    case model (type errors only) are reported in the same shape.
    """
    try:
        fn = _attr("livermet.case.validate", "validate_case", "Case validation")
    except LibraryUnavailable:
        return _pydantic_problems(data)
    report = fn(data)
    problems = getattr(report, "problems", report)
    if isinstance(problems, dict) and "problems" in problems:
        problems = problems["problems"]
    out = []
    for p in problems or []:
        d = to_plain(p)
        if not isinstance(d, dict):
            d = {"message": str(d)}
        path = d.get("path", "")
        if isinstance(path, (list, tuple)):
            path = ".".join(str(x) for x in path)
        d["path"] = str(path or "")
        d.setdefault("severity", "error")
        d.setdefault("message", "")
        out.append(d)
    return out


def _pydantic_problems(data: dict) -> list[dict]:
    from pydantic import ValidationError

    try:
        parse_case(data)
    except ValidationError as exc:
        return [{"path": ".".join(str(x) for x in e["loc"]), "value": e.get("input"),
                 "expected": e.get("type"), "message": e["msg"], "severity": "error",
                 "hint": None} for e in exc.errors()]
    return []


# ----------------------------------------------------------------- assessment
def assess(data: dict) -> dict:
    return assess_with_json(data)[0]


def assess_with_json(data: dict) -> tuple[dict, bytes]:
    """The assessment as plain data and as JSON bytes (serialised once)."""
    import json

    fn = _attr("livermet.assess", "assess_case", "The assessment (scores and options)")
    case = parse_case(data)
    # Imaging runs in the background job, whose results are stored in the case: the
    # assessment itself never re-measures (it must answer in milliseconds).
    res = fn(case, imaging=False) if "imaging" in inspect.signature(fn).parameters else fn(case)
    # The library's to_dict is already plain JSON data: serialise it directly, and walk it
    # (NaN -> null, odd types -> text) only when that fails.
    # (copy=False: nothing else holds `res`, so its data need not be copied out of it)
    if hasattr(res, "to_dict"):
        try:
            result = res.to_dict(copy=False)
        except TypeError:  # an assessment without that option
            result = res.to_dict()
    else:
        result = res
    try:
        if not isinstance(result, dict):
            raise TypeError
        body = json.dumps(result, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError):
        result = to_plain(result)
        body = json.dumps(result, ensure_ascii=False, allow_nan=False).encode()
    return result, body


_KNOWLEDGE: list = []  # the knowledge base module, once fully imported


def library_stamp() -> tuple:
    """What a case's assessment and validation depend on besides the case document: the
    livermet release (calculators, rules and validation code) and the decision knowledge
    base's version. Part of every per-version cache key, so a result computed by other code
    or from other knowledge is never served. Read at each lookup (two attribute reads)."""
    if not _KNOWLEDGE:
        try:  # import_module waits while another thread is still importing it
            _KNOWLEDGE.append(importlib.import_module("livermet.decision.knowledge"))
        except ModuleNotFoundError:
            return (livermet.__version__, None)
    return (livermet.__version__, getattr(_KNOWLEDGE[0], "KNOWLEDGE_VERSION", None))


class VersionCache:
    """Values computed from one stored version of a case, by (case number, version, library
    stamp). A stored version never changes (every write goes through ``services.update_case``,
    which increments it), and the stamp changes with the code or the knowledge base, so an
    entry can never be stale; an edit makes a new key and the old entry ages out (LRU).
    Thread-safe; per process (each server process keeps its own)."""

    def __init__(self, size: int = 1024):
        import threading
        from collections import OrderedDict

        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    @staticmethod
    def key(pk: int, version: int) -> tuple:
        return (pk, version, library_stamp())

    def peek(self, pk: int, version: int):
        """The cached value, or None."""
        key = self.key(pk, version)
        with self._lock:
            value = self._d.get(key)
            if value is not None:
                self._d.move_to_end(key)
        return value

    def put(self, pk: int, version: int, value) -> None:
        self._store(self.key(pk, version), value)

    def _store(self, key: tuple, value) -> None:
        with self._lock:
            self._d[key] = value
            while len(self._d) > self._size:
                self._d.popitem(last=False)

    def __len__(self) -> int:
        return len(self._d)


def assessment_json(data: dict) -> bytes:
    """The assessment as JSON bytes only (what a computing process sends back: bytes cross a
    process boundary far cheaper than the nested data)."""
    return assess_with_json(data)[1]


def preload() -> None:
    """Import the assessment's library modules (run in a fresh computing process, so that its
    first assessment does not wait for them)."""
    importlib.import_module("livermet.assess")
    importlib.import_module("livermet.decision")


def stop_process_pool(pool) -> None:
    """Shut a process pool down without waiting for its work, and end its processes.

    ``shutdown(wait=False)`` alone can leave a spawned worker behind when the server exits
    first: it then waits forever on a pipe whose write end it holds itself. A volumetry job
    cut short this way is re-queued when the server starts again (``JobQueue.recover``)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


class AssessmentProcess:
    """A process of its own that computes assessments for one server process.

    The assessment is pure-Python library work (milliseconds); computed in the server's
    threads it competes with every request for the server's GIL, whose hand-overs cost more
    than the work. Here it runs beside the server, on another core, and only the case (a
    small dict) and the answer (JSON bytes) cross over. The process is spawned (no state
    inherited), started by ``start()`` or the first assessment, and replaced if it dies."""

    def __init__(self, timeout_s: float = 120.0):
        import threading

        self.timeout_s = timeout_s
        self._pool = None
        self._lock = threading.Lock()

    def _executor(self):
        with self._lock:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def start(self) -> None:
        """Spawn the process and import the library there now (not at the first assessment)."""
        self._executor().submit(preload)

    def compute(self, data: dict) -> bytes:
        """The assessment's JSON, computed in the process. Raises what went wrong there."""
        from concurrent.futures.process import BrokenProcessPool

        pool = self._executor()
        try:
            return pool.submit(assessment_json, data).result(self.timeout_s)
        except BrokenProcessPool:  # the process died (killed, out of memory): a new one next time
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            stop_process_pool(pool)


class _Computed:
    """An assessment computed in the assessment process: its JSON bytes, and the plain data
    parsed from them only when a page asks for it."""

    __slots__ = ("body", "_data")

    def __init__(self, body: bytes):
        self.body = body
        self._data = None

    def __getitem__(self, i):
        if i == 1:
            return self.body
        if self._data is None:
            import json

            self._data = json.loads(self.body)
        return self._data


class AssessmentCache(VersionCache):
    """Assessments (plain data and JSON bytes) by case version and library stamp: a stored
    case version never changes, so its assessment is reused until the case is edited (the
    library is deterministic). Concurrent readers of a new version share one computation.

    With ``process`` (an ``AssessmentProcess``), the library computes there. Should that
    fail, the assessment is computed again here, so that the caller meets the library's own
    exception with its context (the log names only the exception's type)."""

    def __init__(self, size: int = 512, process: AssessmentProcess | None = None):
        super().__init__(size)
        self._pending: dict = {}
        self.process = process

    def _compute(self, data: dict):
        if self.process is not None:
            try:
                return _Computed(self.process.compute(data))
            except Exception as exc:  # noqa: BLE001 - computed again below, where the error keeps its type
                import logging

                logging.getLogger("livermet.web").warning(
                    "assessment process: %s; computing this assessment in the server process", type(exc).__name__)
        return assess_with_json(data)

    def get(self, pk: int, version: int, data: dict) -> dict:
        return self._entry(pk, version, data)[0]

    def peek_json(self, pk: int, version: int) -> bytes | None:
        """The cached JSON, or None (then ``get_json`` computes it: do that off the event loop)."""
        entry = self.peek(pk, version)
        return entry[1] if entry is not None else None

    def get_json(self, pk: int, version: int, data: dict) -> bytes:
        """The assessment serialised once (JSON bytes), for the API."""
        return self._entry(pk, version, data)[1]

    def _entry(self, pk: int, version: int, data: dict) -> tuple[dict, bytes]:
        import threading

        key = self.key(pk, version)
        with self._lock:
            entry = self._d.get(key)
            if entry is not None:
                self._d.move_to_end(key)
                return entry
            # single flight: concurrent requests for the same version wait for one computation
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = threading.Event()
        if not owner:
            pending.wait(60)
            with self._lock:
                entry = self._d.get(key)
            if entry is not None:
                return entry
            # the computation failed: compute here (its exception reaches this caller too)
        try:
            entry = self._compute(data)
            self._store(key, entry)
        finally:
            if owner:
                with self._lock:
                    self._pending.pop(key, None)
                pending.set()
        return entry

    def warm(self, pk: int, version: int, data: dict) -> None:
        """Compute a new version's assessment ahead of its readers (after an edit); errors are
        left for the reader to meet."""
        try:
            self._entry(pk, version, data)
        except Exception:  # noqa: BLE001 - the reader gets the error with its context
            pass


class ProblemsCache(VersionCache):
    """The library's validation problems by case version and library stamp: reading a case
    shows them, and a stored version never changes (so they are computed once per edit)."""

    def get(self, pk: int, version: int, data: dict) -> list[dict]:
        problems = self.peek(pk, version)
        if problems is None:
            problems = validate_case(data)
            self.put(pk, version, problems)
        return problems


def missing_team_members(attendees: list[dict], case_data: dict | None = None) -> dict | None:
    """Who of the review's minimum MDT is absent, from the decision library (None if absent)."""
    for module, name in (("livermet.decision.mdt", "missing_members"),
                         ("livermet.decision.mdt", "missing_team_members"),
                         ("livermet.decision.mdt", "team_gaps"),
                         ("livermet.decision", "missing_members")):
        try:
            fn = _attr(module, name, "MDT composition")
        except LibraryUnavailable:
            continue
        params = list(inspect.signature(fn).parameters)
        res = fn(attendees) if len(params) <= 1 or case_data is None else fn(attendees, case_data)
        res = to_plain(res)
        if isinstance(res, list):
            return {"missing": res}
        return res if isinstance(res, dict) else {"missing": res}
    return None


def minimum_team() -> list | None:
    for module, name in (("livermet.decision.mdt", "MINIMUM_TEAM"), ("livermet.decision.mdt", "minimum_team")):
        try:
            val = _attr(module, name, "MDT composition")
        except LibraryUnavailable:
            continue
        return to_plain(val() if callable(val) else val)
    return None


# ----------------------------------------------------------------- report
def report_html(data: dict, *, volumetry: dict | None = None, figures: dict | None = None,
                deidentify: bool = False) -> str:
    """The self-contained HTML report (livermet.report.build_report + render_html)."""
    build = _attr("livermet.report", "build_report", "The report")
    render = _attr("livermet.report", "render_html", "The HTML report")
    try:
        assessment = assess(data)
    except LibraryUnavailable:
        assessment = None
    doc = build(parse_case(data), assessment, figures=figures, deidentify=deidentify, volumetry=volumetry)
    return render(doc)


def report_pdf(data: dict, **kw) -> bytes:
    render = _attr("livermet.report", "render_pdf", "The PDF report")
    return render(report_html(data, **kw))


# ----------------------------------------------------------------- FHIR / CDS Hooks
def fhir_to_case(bundle: dict) -> tuple[dict, list]:
    """A case dict and the list of what could not be mapped."""
    fn = _attr("livermet.interop.fhir", "bundle_to_case", "FHIR import")
    res = fn(bundle)
    unmapped: list = []
    if isinstance(res, tuple):
        res, unmapped = res[0], list(res[1]) if len(res) > 1 else []
    elif hasattr(res, "case") and not hasattr(res, "model_dump"):
        unmapped = list(getattr(res, "unmapped", []) or [])
        res = res.case
    return to_plain(res), to_plain(unmapped)


def cds_discovery() -> dict:
    return to_plain(_attr("livermet.interop.cdshooks", "discovery", "CDS Hooks")())


def cds_response(request_json: dict, get_case: Callable[[str], Any], service_id: str | None = None) -> dict:
    fn = _attr("livermet.interop.cdshooks", "cds_service_response", "CDS Hooks")
    params = inspect.signature(fn).parameters
    if "service_id" in params and service_id is not None:
        return to_plain(fn(request_json, get_case, service_id=service_id))
    return to_plain(fn(request_json, get_case))


# ----------------------------------------------------------------- imaging
def volumetry_for_case(case_data: dict, export_dir=None) -> tuple[dict, dict]:
    """Run the imaging library on the case's ``imaging`` files.

    ``export_dir``: where the library writes its label maps of segments and of the
    resection (shown by the viewer). Returns (the case with its volumetry and lesions filled
    by the library, the volumetry result as ``VolumetryResult.to_dict``)."""
    fn = _attr("livermet.imaging.pipeline", "volumetry_for_case", "CT volumetry")
    case = parse_case(case_data)
    kw = {"export_dir": export_dir} if export_dir is not None else {}
    vol = to_plain(fn(case, **kw))
    filled = case.model_dump(mode="json")
    out = dict(case_data)
    out["volumetry"] = filled.get("volumetry")
    out["metastases"] = dict(case_data.get("metastases") or {},
                             lesions=(filled.get("metastases") or {}).get("lesions") or [])
    return out, vol


def resection_names() -> list[str]:
    """Named resections the imaging library knows (segmentectomy_N expanded)."""
    try:
        fn = _attr("livermet.imaging.resection", "resection_names", "Resections")
    except LibraryUnavailable:
        return []
    names = []
    for n in fn():
        if n == "segmentectomy_N":
            names.extend(f"segmentectomy_{k}" for k in range(1, 9))
        elif ":" in n or n == "lesions":
            continue
        else:
            names.append(n)
    return names


def resection_segments(name: str | None) -> tuple[int, ...]:
    """The Couinaud segments a named resection removes (imaging library), () if unknown."""
    if not name:
        return ()
    try:
        fn = _attr("livermet.imaging.resection", "parse_resection", "Resections")
    except LibraryUnavailable:
        return ()
    try:
        plan = fn(name, None)
    except Exception:  # an unknown name or one needing lesion ids: nothing to draw
        return ()
    return tuple(plan.segments) if plan is not None else ()


def check_resection(name: str | None, resect_lesions: list[str] | None, margin_mm: float | None) -> dict:
    """Check a planned resection with the imaging library's parser; the normalised plan as
    {"name", "segments", "lesion_ids", "margin_mm"}. Raises ``ValueError`` with the
    library's message (which names the field, the value and what is expected)."""
    fn = _attr("livermet.imaging.resection", "parse_resection", "Resections")
    kw = {} if margin_mm is None else {"margin_mm": margin_mm}
    plan = fn(name or None, list(resect_lesions or []), **kw)
    if plan is None:
        raise ValueError("planned_resection=(empty): expected a resection name, or lesion ids to remove")
    return {"name": plan.name, "segments": list(plan.segments), "lesion_ids": list(plan.lesion_ids),
            "margin_mm": plan.margin_mm}


def default_margin_mm() -> float | None:
    try:
        return float(_attr("livermet.imaging.resection", "DEFAULT_MARGIN_MM", "Resections"))
    except LibraryUnavailable:
        return None


def write_phantom(out_dir):
    return _attr("livermet.imaging.phantom", "write_phantom", "The CT phantom")(out_dir)
