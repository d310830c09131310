"""The one JSON conversion (livermet.plain.to_plain): every kind of result becomes JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from livermet.calculators import run
from livermet.plain import to_plain


def test_calculator_result_round_trips_through_json():
    result = run("child_pugh", {"bilirubin": "34.2umol/L", "albumin": 3.0, "inr": 1.2,
                                "ascites": "none", "encephalopathy": "none"})
    plain = to_plain(result)
    assert json.loads(json.dumps(plain)) == plain
    # 34.2 umol/L = 2.0 mg/dL (2 points, middle band inclusive), albumin 3.0 (2), INR 1 -> 7, B
    assert plain["value"] == 7 and plain["category"] == "B"
    assert plain["inputs"]["bilirubin"] == pytest.approx(2.0)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_non_finite_numbers_become_null(value):
    assert to_plain({"x": value}) == {"x": None}


def test_numpy_mappings_sets_dates_paths_dataclasses():
    @dataclasses.dataclass
    class Box:
        size: np.ndarray

    obj = {
        1: np.int64(3), "f": np.float32(0.5), "a": np.arange(3), "m": MappingProxyType({"k": (1, 2)}),
        "s": {"b", "a"}, "d": dt.date(2026, 11, 27), "p": Path("/x/y.nii.gz"), "box": Box(np.ones(2)),
    }
    assert to_plain(obj) == {
        "1": 3, "f": 0.5, "a": [0, 1, 2], "m": {"k": [1, 2]}, "s": ["a", "b"],
        "d": "2026-11-27", "p": "/x/y.nii.gz", "box": {"size": [1.0, 1.0]},
    }
    assert type(to_plain(np.int64(3))) is int
