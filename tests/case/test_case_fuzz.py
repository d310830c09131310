"""Property: whatever a case holds, validation answers with a report and never raises.

Each example replaces one field of the demo case (or adds one) with an arbitrary JSON value;
when the result is valid, the assessment must run too (calculators that reject an input are
reported in ``failed``, not raised).
"""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livermet.assess import assess_case
from livermet.case import validate_case
from livermet.data import demo_case_path

DEMO = json.loads(demo_case_path().read_text(encoding="utf-8"))


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


PATHS = list(_paths(DEMO)) + [("labs", "extra_lab"), ("radiotherapy",), ("sirt",), ("pathology",)]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["value", "unit", "id", "segments", "x"]), children,
                      max_size=3),
    max_leaves=6,
)
numbers = st.integers(-1000, 100_000) | st.floats(-1e4, 1e6, allow_nan=False)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=json_values | numbers)
def test_validation_never_raises(path, value):
    doc = copy.deepcopy(DEMO)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    report = validate_case(doc)
    json.dumps(report.to_dict())  # always serialisable
    assert report.ok == (report.case is not None)
    for p in report.problems:
        assert p.severity in ("error", "warning") and p.message
    if report.ok:
        json.dumps(assess_case(report.case, decision=False).to_dict())
