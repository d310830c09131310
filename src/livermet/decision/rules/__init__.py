"""The executable rules: one plain function per option code, run in this order (later rules
read the statuses of earlier ones, e.g. palliative options step back while resection is open).
"""

from __future__ import annotations

from typing import Callable

from livermet.decision.facts import Facts
from livermet.decision.findings import OptionAssessment
from livermet.decision.rules import regional, surgery, systemic, transplant
from livermet.decision.rules.base import Context

__all__ = ["assess_all", "RULE_ORDER"]

RULE_ORDER: tuple[str, ...] = (
    "resection", "pve_then_resection", "two_stage_hepatectomy", "alpps", "ablation",
    "resection_with_ablation", "transplant", "systemic_therapy", "hai", "tace", "deb_tace",
    "ihp", "sirt", "sbrt", "whole_liver_rt", "best_supportive_care",
)


def assess_all(f: Facts) -> dict[str, OptionAssessment]:
    liver = surgery.analyse(f)
    surgical: dict[str, Callable[..., OptionAssessment]] = {
        "resection": surgery.resection,
        "pve_then_resection": surgery.pve_then_resection,
        "two_stage_hepatectomy": surgery.two_stage,
        "alpps": surgery.alpps,
        "ablation": surgery.ablation,
        "resection_with_ablation": surgery.resection_with_ablation,
    }
    later: dict[str, Callable[[Facts, Context], OptionAssessment]] = {
        "transplant": transplant.transplant,
        "systemic_therapy": systemic.systemic,
        "hai": regional.hai,
        "tace": regional.tace,
        "deb_tace": regional.deb_tace,
        "ihp": regional.ihp,
        "sirt": regional.sirt,
        "sbrt": regional.sbrt,
        "whole_liver_rt": regional.whole_liver_rt,
        "best_supportive_care": regional.best_supportive_care,
    }
    ctx: Context = {}
    for code in RULE_ORDER:
        if code in surgical:
            ctx[code] = surgical[code](f, liver, ctx)
        else:
            ctx[code] = later[code](f, ctx)
    return ctx
