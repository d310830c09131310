"""RECIST 1.1 per time point from the case's serial lesion measurements.

Target lesions are those marked ``target: true``; when none is marked, the largest measurable
lesions at baseline (>= 10 mm), at most two because the liver is one organ (RECIST 1.1). Each
time point is scored afresh by the ``recist`` calculator with the nadir so far (smallest sum
of the earlier time points, baseline included): a PR never "sticks". A lesion first measured
after baseline is a new lesion from that time point on.
"""

from __future__ import annotations

from typing import Any

from livermet.decision.findings import Finding
from livermet.decision.knowledge import sources as S
from livermet.decision.knowledge.thresholds import fmt, value as th


def _gone(m: Any) -> bool:
    return m.visible is False or (m.diameter_mm is not None and m.diameter_mm == 0)


def recist_timeline(case: Any) -> Finding:
    lesions = [l for l in case.metastases.lesions if l.measurements]
    title = "Response (RECIST 1.1 per time point)"
    if not lesions:
        return Finding("recist", "not_assessable", title,
                       ("No serial lesion measurements in the case "
                        "(metastases.lesions[].measurements)",), (S.RECIST_2009,))
    dates = sorted({m.date for l in lesions for m in l.measurements})
    if len(dates) < 2:
        return Finding("recist", "not_assessable", title,
                       (f"Only one time point ({dates[0]}): response needs a follow-up",),
                       (S.RECIST_2009,))
    baseline = dates[0]
    by_lesion = {l.id: {m.date: m for m in l.measurements} for l in lesions}
    first_date = {l.id: min(m.date for m in l.measurements) for l in lesions}
    measurable = th("recist_measurable_mm")
    max_targets = int(th("recist_max_targets_per_organ"))
    reasons: list[str] = []
    marked = [l.id for l in lesions if l.target]
    if marked:
        targets = marked
        if len(targets) > max_targets:
            reasons.append(f"{len(targets)} target lesions marked in the liver; RECIST 1.1 allows "
                           f"{max_targets} per organ")
    else:
        cands = []
        for l in lesions:
            m = by_lesion[l.id].get(baseline)
            if m is not None and not _gone(m) and (m.diameter_mm or 0) >= measurable:
                cands.append((m.diameter_mm, l.id))
        targets = [i for _, i in sorted(cands, reverse=True)[:max_targets]]
        if targets:
            reasons.append(f"Targets chosen automatically: {', '.join(targets)} (largest "
                           f"measurable >= {fmt('recist_measurable_mm')} at baseline, at most "
                           f"{max_targets} per organ)")
    if not targets:
        return Finding("recist", "not_assessable", title,
                       (f"No measurable target lesion (>= {fmt('recist_measurable_mm')}) at "
                        f"baseline {baseline}",), (S.RECIST_2009,))
    try:
        from livermet.calculators import run
        from livermet.calculators.base import CalculatorInputError
    except ImportError:  # pragma: no cover
        return Finding("recist", "not_assessable", title, ("recist calculator unavailable",),
                       (S.RECIST_2009,))

    def total(date: str) -> float | None:
        s = 0.0
        for t in targets:
            m = by_lesion[t].get(date)
            if m is None:
                return None
            if _gone(m):
                continue
            if m.diameter_mm is None:
                return None
            s += m.diameter_mm
        return s

    base_sum = total(baseline)
    if base_sum is None or base_sum <= 0:
        return Finding("recist", "not_assessable", title,
                       (f"Target lesions not all measured at baseline {baseline}",),
                       (S.RECIST_2009,))
    sums = [base_sum]
    points: list[dict[str, Any]] = [{"date": baseline, "sum_mm": base_sum, "response": "baseline"}]
    latest_new = bool(getattr(case.metastases, "new_lesions", False))
    for i, date in enumerate(dates[1:], start=1):
        cur = total(date)
        new_ids = [lid for lid, d0 in first_date.items()
                   if lid not in targets and baseline < d0 <= date
                   and any(not _gone(m) and d <= date for d, m in by_lesion[lid].items())]
        new = bool(new_ids) or (latest_new and i == len(dates) - 1)
        if cur is None:
            points.append({"date": date, "sum_mm": None, "response": "NE",
                           "reason": "a target lesion was not measured"})
            continue
        nadir = min(sums)
        gone = all(_gone(by_lesion[t][date]) for t in targets)
        try:
            res = run("recist", {"baseline_sum_mm": base_sum, "nadir_sum_mm": nadir,
                                 "current_sum_mm": cur, "new_lesions": new,
                                 "all_targets_gone": gone})
        except CalculatorInputError as exc:
            points.append({"date": date, "sum_mm": cur, "response": "NE", "reason": str(exc)})
            continue
        points.append({"date": date, "sum_mm": cur, "nadir_mm": nadir, "response": res.category,
                       "new_lesions": new_ids or ([] if not new else ["metastases.new_lesions"]),
                       "reason": res.details.get("reason"),
                       "change_from_baseline_percent": res.details.get(
                           "change_from_baseline_percent")})
        sums.append(cur)
    latest = points[-1]
    reasons.insert(0, f"Latest ({latest['date']}): {latest['response']}"
                   + (f" ({latest.get('reason')})" if latest.get("reason") else ""))
    reasons.append("Target lesions only: non-target progression also counts as PD")
    return Finding("recist", "assessed", title, tuple(reasons), (S.RECIST_2009,),
                   details={"targets": targets, "time_points": points,
                            "latest": latest["response"]})
