"""livermet.calculators: the clinical calculators, one module per domain, and their runner.

Importing this package imports every domain module, so :data:`REGISTRY` is complete.
Call a calculator directly (``sflr(remnant_ml=620, total_liver_ml=1650, tumour_ml=45)``, canonical
units) or through :func:`run` (``run("sflr", {"remnant_ml": "0.62 L", ...})``), which converts
units, checks every input and resolves alternative parameter sets.
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
    coerce_param,
    get_calculator,
    list_calculators,
    missing_inputs,
    prepare,
    run,
)
from livermet.calculators import volume  # noqa: E402  (registers bsa ... kgr)
from livermet.calculators.volume import bsa, kgr, sflr, standard_liver_volume

__all__ = [
    "REGISTRY",
    "Calculator",
    "CalculatorInputError",
    "Example",
    "Param",
    "Result",
    "Source",
    "calculator",
    "coerce_param",
    "get_calculator",
    "list_calculators",
    "missing_inputs",
    "prepare",
    "run",
    "volume",
    "bsa",
    "kgr",
    "sflr",
    "standard_liver_volume",
]
