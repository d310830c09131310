"""The shape every calculator shares: sources, parameters, frozen results and one registry.

A calculator is a pure function taking keyword arguments in livermet's canonical units
(see ``livermet.units``) and returning a frozen :class:`Result`. It is registered once with
:func:`calculator`; the CLI (`livermet calc`), `livermet assess`, the report and the web
service all read :data:`REGISTRY`, so they can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from livermet.plain import to_plain


@dataclass(frozen=True)
class Source:
    """Where a formula, threshold or rule comes from.

    ``citation`` is the primary paper ("Pugh, Br J Surg 1973;60:646"); ``review_section`` and
    ``review_ref`` point into the bundled review (section title, reference number in brackets).
    ``check`` marks definitions the reference notes flag as not confirmed against the paper.
    """

    citation: str
    review_section: str | None = None
    review_ref: int | None = None
    doi: str | None = None
    check: bool = False

    def __str__(self) -> str:
        text = self.citation
        if self.review_section:
            ref = f" [{self.review_ref}]" if self.review_ref is not None else ""
            text += f"; review: {self.review_section}{ref}"
        if self.check:
            text += " (definition not confirmed against the primary paper)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "citation": self.citation,
            "review_section": self.review_section,
            "review_ref": self.review_ref,
            "doi": self.doi,
            "check": self.check,
            "text": str(self),
        }


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Result:
    """A calculator's answer: value, category, the inputs it used, how, and from where."""

    name: str
    value: Any
    unit: str | None = None
    category: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    formula: str = ""
    notes: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _freeze(self.inputs))
        object.__setattr__(self, "details", _freeze(self.details))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "sources", tuple(self.sources))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "category": self.category,
            "inputs": dict(self.inputs),
            "formula": self.formula,
            "notes": list(self.notes),
            "sources": [s.to_dict() for s in self.sources],
            "details": to_plain(dict(self.details)),
        }


class CalculatorInputError(ValueError):
    """A parameter is missing, of the wrong kind or outside what the calculator accepts.

    The message names the parameter, the value received and what was expected.
    """

    def __init__(self, calculator: str, parameter: str, value: Any, expected: str):
        self.calculator = calculator
        self.parameter = parameter
        self.value = value
        self.expected = expected
        super().__init__(f"{calculator}: {parameter}={value!r}: expected {expected}")


@dataclass(frozen=True)
class Param:
    """One calculator parameter.

    ``kind`` is one of float, int, bool, choice. ``quantity`` names the physical quantity for
    unit conversion (``livermet.units``), e.g. "bilirubin", "length", "volume"; ``unit`` is the
    canonical unit. ``group`` marks alternatives: of the parameters sharing a group, one set
    suffices (e.g. icg_r15 | icg_k | icg_pdr). ``minimum``/``maximum`` are hard limits.
    """

    name: str
    kind: str = "float"
    unit: str | None = None
    quantity: str | None = None
    help: str = ""
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()
    group: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    # True: the value must be strictly greater than ``minimum`` (e.g. a volume > 0).
    exclusive_minimum: bool = False


@dataclass(frozen=True)
class Example:
    """A published worked example: inputs, the expected value/category and where it is printed."""

    inputs: Mapping[str, Any]
    value: Any = None
    category: str | None = None
    tolerance: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class Calculator:
    name: str
    title: str
    func: Callable[..., Result]
    params: tuple[Param, ...]
    sources: tuple[Source, ...]
    domain: str = ""
    unit: str | None = None
    examples: tuple[Example, ...] = ()

    def __call__(self, **kwargs: Any) -> Result:
        return self.func(**kwargs)


REGISTRY: dict[str, Calculator] = {}


def calculator(
    name: str,
    title: str,
    params: list[Param] | tuple[Param, ...],
    sources: list[Source] | tuple[Source, ...],
    domain: str = "",
    unit: str | None = None,
    examples: list[Example] | tuple[Example, ...] = (),
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Register a calculator function under ``name`` (the public CLI name)."""

    def register(func: Callable[..., Result]) -> Callable[..., Result]:
        if name in REGISTRY:
            raise RuntimeError(f"calculator {name!r} registered twice")
        REGISTRY[name] = Calculator(
            name=name,
            title=title,
            func=func,
            params=tuple(params),
            sources=tuple(sources),
            domain=domain,
            unit=unit,
            examples=tuple(examples),
        )
        return func

    return register
