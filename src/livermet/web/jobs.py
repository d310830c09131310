"""A small job queue kept in the database: requests enqueue, a worker thread runs.

Jobs survive restarts: a job left ``running`` by a stopped server is queued again at start-up.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from livermet.web.models import Job, utcnow

log = logging.getLogger("livermet.web.jobs")

Handler = Callable[["JobContext"], dict]


class JobContext:
    def __init__(self, job_id: int, kind: str, case_pk: int, params: dict, Session: sessionmaker, env):
        self.job_id, self.kind, self.case_pk, self.params = job_id, kind, case_pk, params or {}
        self.Session = Session
        self.env = env  # the app's state (settings, data paths)

    def progress(self, fraction: float, message: str = "") -> None:
        with self.Session() as db:
            db.execute(update(Job).where(Job.id == self.job_id)
                       .values(progress=float(max(0.0, min(1.0, fraction))), message=message))
            db.commit()


class JobQueue:
    def __init__(self, Session: sessionmaker, env, handlers: dict[str, Handler]):
        self.Session, self.env, self.handlers = Session, env, handlers
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(self, db, kind: str, case_pk: int, params: dict | None, user_id: int | None) -> Job:
        """Queue a job; an identical job still waiting in the queue is reused."""
        waiting = db.scalar(select(Job).where(Job.kind == kind, Job.case_pk == case_pk, Job.status == "queued")
                            .order_by(Job.id.desc()).limit(1))
        if waiting is not None and (waiting.params or {}) == (params or {}):
            self._wake.set()
            return waiting
        job = Job(kind=kind, case_pk=case_pk, status="queued", progress=0.0, message="queued",
                  params=params or {}, created_at=utcnow(), created_by=user_id)
        db.add(job)
        db.commit()
        self._wake.set()
        return job

    def recover(self) -> None:
        with self.Session() as db:
            db.execute(update(Job).where(Job.status == "running")
                       .values(status="queued", message="re-queued after a restart"))
            db.commit()

    def start(self) -> None:
        if self._thread is not None:
            return
        self.recover()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="livermet-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _claim(self) -> Job | None:
        with self.Session() as db:
            for job in db.scalars(select(Job).where(Job.status == "queued").order_by(Job.id).limit(5)):
                res = db.execute(update(Job).where(Job.id == job.id, Job.status == "queued")
                                 .values(status="running", started_at=utcnow(), message="running"))
                db.commit()
                if res.rowcount == 1:
                    return job
        return None

    def run_pending(self) -> int:
        """Run queued jobs until none is left (the worker loop; tests may call it directly)."""
        n = 0
        while not self._stop.is_set():
            job = self._claim()
            if job is None:
                return n
            self._run(job)
            n += 1
        return n

    def _run(self, job: Job) -> None:
        ctx = JobContext(job.id, job.kind, job.case_pk, job.params, self.Session, self.env)
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise RuntimeError(f"no handler for job kind {job.kind!r}")
            result = handler(ctx)
            values = dict(status="done", progress=1.0, message="done", result=result)
        except Exception as exc:  # a job failure is reported in its row, the worker goes on
            # Log the type and place only: messages may quote case data.
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
            log.warning("job %s (%s) failed: %s at %s", job.id, job.kind, type(exc).__name__, where)
            values = dict(status="failed", message=_user_message(exc), result=None)
        with self.Session() as db:
            db.execute(update(Job).where(Job.id == job.id).values(finished_at=utcnow(), **values))
            db.commit()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception as exc:  # pragma: no cover - database hiccup; retry
                log.warning("job worker error: %s", type(exc).__name__)
            self._wake.wait(1.0)
            self._wake.clear()


def _user_message(exc: Exception) -> str:
    msg = str(exc) or type(exc).__name__
    return msg[:2000]
