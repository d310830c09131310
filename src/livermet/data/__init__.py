"""Data bundled with livermet.

``demo_case.json``: the example case of issue 2 (a fictitious 61-year-old man with two
metachronous colorectal liver metastases in segments 6 and 7), used by ``livermet demo``, the
README and the tests. It describes no real patient.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["data_path", "demo_case_path", "load_demo_case"]


def data_path(name: str) -> Path:
    """Path of a bundled data file."""
    return Path(str(resources.files(__name__).joinpath(name)))


def demo_case_path() -> Path:
    """Path of the bundled demo case (JSON)."""
    return data_path("demo_case.json")


def load_demo_case() -> Any:
    """The demo case, validated (:class:`livermet.case.Case`)."""
    from livermet.case import load_case

    return load_case(demo_case_path())
