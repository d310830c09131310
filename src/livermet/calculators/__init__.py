"""livermet.calculators: the clinical calculators, one module per domain, and their runner.

Importing this package imports every domain module, so :data:`REGISTRY` is complete.
Call a calculator directly with canonical units
(``sflr(remnant_ml=620, total_liver_ml=1650, tumour_ml=45)``) or through :func:`run`
(``run("sflr", {"remnant_ml": "0.62 L", ...})``), which converts units, checks every input and
resolves alternative parameter sets. :func:`missing_inputs` says what a calculator lacks.

Modules: ``volume`` (bsa, standard_liver_volume, sflr, kgr), ``liver_function`` (icg, icgk_f,
makuuchi, child_pugh, meld, meld_na, meld_3, albi), ``prognosis`` (fong, tumour_burden_score,
game, nordlinger), ``transplant`` (milan_net, transmet, oslo), ``response`` (recist, choi,
margin, pathological_response), ``radiation`` (bed, sirt_bsa, sirt_mird).
"""

from livermet.calculators.base import (
    REGISTRY,
    Calculator,
    CalculatorInputError,
    Example,
    Param,
    Result,
    Source,
    calculator,
)
from livermet.calculators.runner import (
    alternatives,
    coerce_param,
    describe_param,
    get_calculator,
    list_calculators,
    missing_inputs,
    prepare,
    run,
)
from livermet.calculators import (  # noqa: E402  (importing registers every calculator)
    liver_function,
    prognosis,
    radiation,
    response,
    transplant,
    volume,
)
from livermet.calculators.liver_function import (
    albi,
    child_pugh,
    icg,
    icgk_f,
    makuuchi,
    meld,
    meld_3,
    meld_na,
)
from livermet.calculators.prognosis import fong, game, nordlinger, tumour_burden_score
from livermet.calculators.radiation import bed, sirt_bsa, sirt_mird
from livermet.calculators.response import choi, margin, pathological_response, recist
from livermet.calculators.transplant import milan_net, oslo, transmet
from livermet.calculators.volume import bsa, kgr, sflr, standard_liver_volume

__all__ = [
    "REGISTRY", "Calculator", "CalculatorInputError", "Example", "Param", "Result", "Source",
    "calculator", "alternatives", "coerce_param", "describe_param", "get_calculator",
    "list_calculators", "missing_inputs", "prepare", "run",
    "liver_function", "prognosis", "radiation", "response", "transplant", "volume",
    "bsa", "standard_liver_volume", "sflr", "kgr",
    "icg", "icgk_f", "makuuchi", "child_pugh", "meld", "meld_na", "meld_3", "albi",
    "fong", "tumour_burden_score", "game", "nordlinger",
    "milan_net", "transmet", "oslo",
    "recist", "choi", "margin", "pathological_response",
    "bed", "sirt_bsa", "sirt_mird",
]
