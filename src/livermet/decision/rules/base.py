"""Shared plumbing of the option rules: a builder that collects reasons, and common gates.

Every gate reads its cut-off from the knowledge base (``th``) and writes the patient's own
value beside the criterion in the reason text.
"""

from __future__ import annotations

from typing import Any, Mapping

from livermet.calculators.base import Source
from livermet.decision.facts import Facts
from livermet.decision.findings import Missing, OptionAssessment, Reason, status_from
from livermet.decision.knowledge import sources as S
from livermet.decision.knowledge.options import OPTION_SPECS
from livermet.decision.knowledge.thresholds import fmt, value as th

__all__ = ["Builder", "th", "fmt", "S", "num", "Context", "CURATIVE_CODES"]

# Options that aim at cure; palliative options step back while one of them is open.
CURATIVE_CODES: tuple[str, ...] = (
    "resection", "pve_then_resection", "two_stage_hepatectomy", "alpps", "ablation",
    "resection_with_ablation", "transplant",
)

Context = dict[str, OptionAssessment]  # the options already assessed, by code


def num(x: float | None, unit: str = "", near: float | None = None) -> str:
    """A number as the team reads it: 37.6, 2, 0.05 (no float noise).

    With ``near`` (the cut-off it is compared with), more decimals are shown while the
    rounded text would equal the cut-off but the value does not: a KGR of 1.975 %/week
    against 2 reads "1.975", never "2 < 2".
    """
    if x is None:
        return "unknown"
    text = f"{x:.3g}" if abs(x) < 1 else f"{round(x, 1):g}"
    if near is not None and x != near:
        digits = 1
        while float(text) == near and digits < 6:
            digits += 1
            text = f"{round(x, digits):g}"
    return f"{text}{unit}"


class Builder:
    """Collects one option's reasons and missing inputs, then decides its status."""

    def __init__(self, code: str):
        self.code = code
        self.spec = OPTION_SPECS[code]
        self.reasons: list[Reason] = []
        self.missing: list[Missing] = []
        self.details: dict[str, Any] = {}

    def add(self, text: str, effect: str, *sources: Source, criterion: str | None = None) -> None:
        self.reasons.append(Reason(text, effect, tuple(sources), criterion))  # type: ignore[arg-type]

    def key(self, text: str, effect: str, *sources: Source, criterion: str | None = None) -> None:
        """Like :meth:`add`, but listed first among reasons of the same effect (the key one)."""
        self.reasons.insert(0, Reason(text, effect, tuple(sources), criterion))  # type: ignore[arg-type]

    def need(self, field: str, why: str) -> None:
        if all(m.field != field for m in self.missing):
            self.missing.append(Missing(field, why))

    def extend(self, reasons: list[Reason], missing: list[Missing] = ()) -> None:  # type: ignore[assignment]
        self.reasons.extend(reasons)
        for m in missing:
            self.need(m.field, m.why)

    @property
    def excluded(self) -> bool:
        return any(r.effect == "excludes" for r in self.reasons)

    def done(self, recommend: bool = False, intent: str | None = None) -> OptionAssessment:
        if not self.reasons:
            fields = ", ".join(m.field for m in self.missing) or "case data"
            self.add(f"Not assessable from the case: missing {fields}", "against", S.JUDGEMENT,
                     criterion="missing")
        return OptionAssessment(
            code=self.code,
            title=self.spec.title,
            status=status_from(self.reasons, recommend),
            reasons=tuple(self.reasons),
            missing=tuple(self.missing),
            evidence=self.spec.evidence,
            notes=self.spec.notes,
            sources=self.spec.sources,
            intent=intent,
            details=self.details,
        )


# --- Common gates ------------------------------------------------------------------------
def gate_ecog(b: Builder, f: Facts, key: str, what: str) -> None:
    limit = th(key)
    if f.ecog is None:
        b.need("patient.ecog", f"performance status decides fitness for {what}")
    elif f.ecog > limit:
        b.add(f"ECOG {f.ecog} > {fmt(key)}: not fit for {what}", "excludes",
              *_threshold_sources(key), criterion=key)
    else:
        b.add(f"ECOG {f.ecog} <= {fmt(key)}: fit for {what}", "supports",
              *_threshold_sources(key), criterion=key)


def gate_extrahepatic_curative(b: Builder, f: Facts) -> None:
    sites = f", {', '.join(f.extrahepatic_sites)}" if f.extrahepatic_sites else ""
    if f.extrahepatic is None:
        b.need("metastases.extrahepatic.present", "unresectable extrahepatic disease excludes "
               "curative liver treatment")
    elif f.extrahepatic and f.extrahepatic_resectable is False:
        b.add(f"Unresectable extrahepatic disease{sites}: not suitable for curative "
              "liver-directed treatment; systemic therapy is the better option",
              "excludes", S.R_ABSTRACT, criterion="extrahepatic")
    elif f.extrahepatic and f.extrahepatic_resectable is None:
        b.add(f"Extrahepatic disease{sites} of unknown resectability", "against", S.R_ABSTRACT,
              criterion="extrahepatic")
        b.need("metastases.extrahepatic.resectable", "resectable extrahepatic disease keeps "
               "curative treatment open")
    elif f.extrahepatic:
        b.add(f"Resectable extrahepatic disease{sites}: liver surgery only within a plan that "
              "clears all disease", "caution", S.R_ABSTRACT, S.JUDGEMENT, criterion="extrahepatic")
    else:
        b.add("No extrahepatic disease", "supports", S.R_ABSTRACT, criterion="extrahepatic")


def gate_extrahepatic_any(b: Builder, f: Facts, what: str) -> None:
    """The review's abstract: extrahepatic disease excludes regional ablation (any)."""
    if f.extrahepatic is None:
        b.need("metastases.extrahepatic.present", f"extrahepatic disease excludes {what}")
    elif f.extrahepatic:
        sites = f" ({', '.join(f.extrahepatic_sites)})" if f.extrahepatic_sites else ""
        b.add(f"Extrahepatic disease present{sites}: not a candidate for {what}", "excludes",
              S.R_ABSTRACT, criterion="extrahepatic")
    else:
        b.add("No extrahepatic disease", "supports", S.R_ABSTRACT, criterion="extrahepatic")


def gate_extrahepatic_regional(b: Builder, f: Facts) -> None:
    """Palliative liver-directed therapy with disease elsewhere: only if the liver dominates."""
    if f.extrahepatic is None:
        b.need("metastases.extrahepatic.present", "liver-directed therapy needs liver-only or "
               "liver-dominant disease")
    elif f.unresectable_extrahepatic:
        b.add("Unresectable extrahepatic disease: liver-directed therapy only if the liver "
              "dominates symptoms or prognosis (team decision)", "against", S.R_ABSTRACT,
              S.JUDGEMENT, criterion="extrahepatic")
    elif not f.extrahepatic:
        b.add("Liver-only disease", "supports", S.R_ABSTRACT, criterion="extrahepatic")


def gate_pattern(b: Builder, f: Facts, what: str) -> None:
    if f.diffuse:
        src = S.R_UVEAL if f.site == "uveal_melanoma" else S.R_NET
        b.add(f"{f.pattern.capitalize()} pattern of liver metastases: cannot be cleared by "
              f"{what}", "excludes", src, criterion="pattern")


def gate_decompensation_regional(b: Builder, f: Facts) -> None:
    """Arterial/regional therapies with a failing liver (livermet convention, see knowledge)."""
    cp = f.score("child_pugh")
    if f.ascites == "refractory":
        b.add("Refractory ascites: decompensated liver, liver-directed therapy not "
              "suitable (liver failure is a reported complication)", "excludes", S.JUDGEMENT,
              S.R_TACE, criterion="ascites")
    if cp is not None and cp.category == "C":
        b.add(f"Child-Pugh C ({num(cp.value)} points): liver-directed therapy not suitable",
              "excludes", S.JUDGEMENT, S.PUGH_1973, criterion="child_pugh")
    key = "bilirubin_caution_regional"
    if f.bilirubin is None:
        b.need("labs.bilirubin", "liver function limits arterial therapy")
    elif f.bilirubin >= th(key):
        b.add(f"Bilirubin {num(f.bilirubin)} mg/dL >= {fmt(key)}: hepatology review before "
              "liver-directed therapy", "caution", *_threshold_sources(key), criterion=key)


SURGICAL_ROUTES: tuple[str, ...] = ("resection", "pve_then_resection", "two_stage_hepatectomy")


def surgical_route(ctx: Context) -> str | None:
    """The first recommended curative surgical route, if any."""
    for code in SURGICAL_ROUTES:
        o = ctx.get(code)
        if o is not None and o.status == "recommended":
            return code
    return None


def resectable_first(b: Builder, ctx: Context) -> None:
    code = surgical_route(ctx)
    if code is not None:
        b.key(f"{ctx[code].title} is recommended: palliative liver-directed therapy is kept for "
              "unresectable disease", "excludes", S.R_HAI, S.R_TACE, criterion="resectable")


def curative_open(ctx: Context) -> list[str]:
    return [c for c in CURATIVE_CODES if c in ctx and ctx[c].status != "not_suitable"]


def _threshold_sources(key: str) -> tuple[Source, ...]:
    from livermet.decision.knowledge.thresholds import THRESHOLDS

    return THRESHOLDS[key].sources


def tsrc(key: str) -> tuple[Source, ...]:
    """The sources of threshold ``key``."""
    return _threshold_sources(key)


def site_name(site: str | None) -> str:
    return {None: "unknown primary", "gist": "GIST", "uveal_melanoma": "uveal melanoma",
            "neuroendocrine": "neuroendocrine tumour"}.get(site, str(site))


def mapping_get(m: Mapping[str, Any] | None, key: str) -> Any:
    return (m or {}).get(key)
