"""Liver transplantation: NET by the Milan criteria as the review lists them, colorectal by
TRANSMET. The calculators ``milan_net`` and ``transmet`` give the verdict where the case holds
their inputs; the criteria are also checked here one by one so that each reason states the
patient's value, and any disagreement between the two is reported.
"""

from __future__ import annotations

from livermet.decision.facts import Facts
from livermet.decision.findings import OptionAssessment
from livermet.decision.rules.base import S, Builder, Context, fmt, num, site_name, th, tsrc


def _verdict(b: Builder, f: Facts, name: str, passed: bool, checked_all: bool,
             relative: frozenset[str] = frozenset()) -> None:
    sc = f.score(name)
    if sc is None:
        return
    verdict = str(sc.category or sc.value or "")
    b.details[f"{name}_verdict"] = verdict
    failed = sc.failed()
    if failed:
        b.details[f"{name}_failed"] = failed
    if verdict == "not_eligible" and passed and failed and set(failed) <= relative:
        b.add(f"{name} calculator flags {', '.join(failed)} (a relative criterion, see above)",
              "info", S.MAZZAFERRO_2007, criterion=name)
    elif verdict == "not_eligible" and passed:
        b.add(f"{name} calculator: not eligible ({'; '.join(failed) or 'see calculator'})",
              "excludes", *(S.MAZZAFERRO_2007,) if name == "milan_net" else (S.TRANSMET_2024,),
              criterion=name)
    elif verdict == "eligible" and not passed and checked_all:
        b.add(f"{name} calculator says eligible but a criterion here fails: check the inputs",
              "caution", S.JUDGEMENT, criterion=name)


def _milan(b: Builder, f: Facts, ctx: Context) -> bool:
    ok = True
    unknown = False

    def check(value, field, ok_when, text_ok, text_fail, key=None, effect="excludes"):
        nonlocal ok, unknown
        srcs = tsrc(key) if key else (S.R_TRANSPLANT, S.MAZZAFERRO_2007)
        if value is None:
            unknown = True
            b.need(field, "Milan criterion for transplant")
            return
        if ok_when(value):
            b.add(text_ok, "supports", *srcs, criterion=key or field)
        else:
            if effect == "excludes":
                ok = False
            b.add(text_fail, effect, *srcs, criterion=key or field)

    k = "milan_ki67_max"
    check(f.ki67, "primary.ki67_percent", lambda v: v < th(k),
          f"Ki-67 {num(f.ki67)}% < {fmt(k)} (well differentiated)",
          f"Ki-67 {num(f.ki67)}% >= {fmt(k)}: outside the Milan criteria", k)
    k = "milan_involvement_max"
    check(f.involvement, "metastases.liver_involvement_percent", lambda v: v < th(k),
          f"Liver involvement {num(f.involvement)}% < {fmt(k)}",
          f"Liver involvement {num(f.involvement)}% >= {fmt(k)}: outside the Milan criteria", k)
    k = "milan_age_max"
    relative: frozenset[str] = frozenset()
    if f.age is not None and th(k) <= f.age < th("milan_age_relative_max"):
        relative = frozenset({"age"})
        b.details["age_relative"] = True
        b.add(f"Age {num(f.age)} >= {fmt(k)}: outside the review's Milan limit, but a relative "
              "criterion (later series used 60)", "against", *tsrc(k), criterion=k)
    elif f.age is not None and f.age >= th("milan_age_relative_max"):
        ok = False
        b.add(f"Age {num(f.age)} >= {fmt('milan_age_relative_max')}: beyond the Milan limit of "
              f"{fmt(k)} and the later series' {th('milan_age_relative_max'):g} (a hard line by "
              "livermet convention)", "excludes",
              *dict.fromkeys((*tsrc(k), *tsrc("milan_age_relative_max"))), criterion=k)
    else:
        check(f.age, "patient.age", lambda v: v < th(k), f"Age {num(f.age)} < {fmt(k)}",
              f"Age {num(f.age)} >= {fmt(k)}: outside the Milan criteria", k)
    check(f.extrahepatic, "metastases.extrahepatic.present", lambda v: v is False,
          "No extrahepatic disease", "Extrahepatic disease: transplant not suitable")
    check(f.primary_resected, "primary.resected", lambda v: v is True,
          "Primary tumour resected", "Primary not yet resected: it must be removed (curatively) "
          "before transplant")
    check(f.portal_drainage, "primary.portal_drainage", lambda v: v is True,
          "Primary drained by the portal system", "Primary not portal-drained: outside Milan")
    k = "milan_stable_months"
    check(f.stable_months, "metastases.stable_months", lambda v: v >= th(k),
          f"Stable for {num(f.stable_months)} months >= {fmt(k)}",
          f"Stable for {num(f.stable_months)} months < {fmt(k)}: wait and re-assess", k)
    _verdict(b, f, "milan_net", ok, not unknown, relative)
    return ok and not unknown


def _transmet(b: Builder, f: Facts, ctx: Context) -> bool:
    ok = True
    unknown = False

    def fail(text, key=None):
        nonlocal ok
        ok = False
        b.add(text, "excludes", *(tsrc(key) if key else (S.TRANSMET_2024,)),
              criterion=key or "transmet")

    def good(text, key=None):
        b.add(text, "supports", *(tsrc(key) if key else (S.TRANSMET_2024,)),
              criterion=key or "transmet")

    def missing(field, why="TRANSMET criterion"):
        nonlocal unknown
        unknown = True
        b.need(field, why)

    lo, hi = "transmet_age_min", "transmet_age_max"
    if f.age is None:
        missing("patient.age")
    elif not th(lo) <= f.age <= th(hi):
        fail(f"Age {num(f.age)} outside {th(lo):g}-{th(hi):g} (TRANSMET)", hi)
    else:
        good(f"Age {num(f.age)} within {th(lo):g}-{th(hi):g}", hi)
    k = "ecog_max_transplant"
    if f.ecog is None:
        missing("patient.ecog")
    elif f.ecog > th(k):
        fail(f"ECOG {f.ecog} > {th(k):g} (TRANSMET requires 0-1)", k)
    else:
        good(f"ECOG {f.ecog} <= {th(k):g}", k)
    if f.braf is None:
        missing("primary.biomarkers.braf_v600e")
    elif f.braf:
        fail("BRAF V600E mutation: excluded from transplant (TRANSMET)")
    else:
        good("BRAF wild-type")
    if f.primary_resected is None:
        missing("primary.resected")
    elif not f.primary_resected:
        fail("Primary not resected (TRANSMET requires a resected primary)")
    if f.extrahepatic is None:
        missing("metastases.extrahepatic.present")
    elif f.extrahepatic:
        fail("Extrahepatic disease: transplant needs liver-only disease")
    res = [ctx[c] for c in ("resection", "pve_then_resection", "two_stage_hepatectomy")
           if c in ctx]
    if any(o.status == "recommended" for o in res):
        fail("Liver disease is resectable: resection is the standard, transplant is for "
             "permanently unresectable disease")
    elif any(o.status == "consider" for o in res[:2]):
        fail("Liver disease may still be resectable (resection or PVE under discussion): "
             "transplant is for permanently unresectable disease")
    elif any(o.status == "consider" for o in res):
        b.add("Staged resection still under discussion: transplant only once the disease is "
              "judged permanently unresectable", "against", S.TRANSMET_2024,
              criterion="resectable")
    if f.response is None:
        missing("metastases.response_to_chemotherapy")
    elif f.response == "progressive":
        fail("Progressing on chemotherapy (TRANSMET requires response or stability)")
    k = "transmet_chemo_months_min"
    months = f.stable_months
    if months is None:
        missing("metastases.stable_months", "TRANSMET needs response or stability on "
                "chemotherapy for >= 3 months")
    elif months < th(k):
        fail(f"{num(months)} months of response/stability < {fmt(k)}", k)
    k = "transmet_lines_max"
    if f.chemo_lines is None:
        missing("liver.chemotherapy_lines")
    elif f.chemo_lines > th(k):
        fail(f"{f.chemo_lines} lines of chemotherapy > {th(k):g}", k)
    oslo = f.score("oslo")
    if oslo is not None and oslo.value is not None:
        b.add(f"Oslo score {num(float(oslo.value))} (prognosis after transplant)", "info",
              S.OSLO, criterion="oslo")
    _verdict(b, f, "transmet", ok, not unknown)
    return ok and not unknown


def transplant(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("transplant")
    recommend = False
    if f.site == "neuroendocrine":
        b.add("Neuroendocrine metastases: Milan criteria (as listed in the review)", "info",
              S.R_TRANSPLANT)
        eligible = _milan(b, f, ctx)
        res = ctx.get("resection")
        if eligible and res is not None and res.status == "not_suitable":
            met = "All Milan criteria met" if not b.details.get("age_relative") else \
                "Milan criteria met except the relative age limit"
            b.key(f"{met} and the liver disease is unresectable: refer to a transplant centre",
                  "supports", S.R_TRANSPLANT)
            recommend = True
        elif eligible:
            b.add("Milan criteria met, but resection is still open: transplant if the disease "
                  "proves unresectable", "caution", S.R_TRANSPLANT, criterion="resectable")
    elif f.site == "colorectal":
        b.add("Colorectal metastases: TRANSMET eligibility", "info", S.TRANSMET_2024)
        if _transmet(b, f, ctx):
            b.key("TRANSMET eligibility met: discuss referral to a transplant centre",
                  "supports", S.TRANSMET_2024)
    elif f.site is None:
        b.need("primary.site", "transplant criteria exist only for NET (Milan) and colorectal "
               "(TRANSMET) metastases")
        b.add("Primary unknown: no transplant criteria apply", "against", S.R_TRANSPLANT)
        if f.extrahepatic:
            b.add("Extrahepatic disease: transplant needs liver-only disease", "excludes",
                  S.R_TRANSPLANT, S.TRANSMET_2024, criterion="extrahepatic")
    else:
        b.add(f"{site_name(f.site).capitalize()} metastases: no transplant criteria in the "
              "review (only neuroendocrine, and colorectal by TRANSMET)", "excludes",
              S.R_TRANSPLANT, S.TRANSMET_2024, criterion="primary")
    return b.done(recommend, intent="curative")
