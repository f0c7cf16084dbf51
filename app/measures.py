"""The measure registry: one entry per numeric endpoint, and everything derived from it.

Each :class:`Measure` names its endpoint (``POST /v1/{path}``), its service function
(``app.services.measures.{name}``), its client method (``name``, on both clients), its CLI
command (``command``), its arity (one distribution or a pair), whether it has a unit, its
bounds, and its documentation (a one-line summary and the exact formula). The routes and
their OpenAPI operations (``app.api.measures``), the client methods (``app.client``), the CLI
commands (``app.cli``) and the endpoint table of ``docs/api.md`` follow from it, and
``tests/test_measure_registry.py`` fails when any of them drifts from it.

This module holds data only (no HTTP, no numpy): the client imports it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from app.config import between_markers
from app.schemas.common import UnitlessOptions
from app.schemas.measures import (
    CompareResponse,
    DivergenceResponse,
    EntropyResponse,
    InformationResponse,
    JSResponse,
    PairRequest,
    SingleRequest,
    UnitlessPairRequest,
    UnitlessSingleRequest,
    ValueResponse,
)

__all__ = ["MEASURES", "Measure", "by_name", "by_route", "measures_table", "with_measures_table"]


@dataclass(frozen=True)
class Measure:
    """One measure of the service, as every layer sees it."""

    name: str  # the service function and the client method: a Python identifier
    path: str  # the endpoint is POST /v1/{path}
    command: str  # the CLI command: divergence {command} p.json [q.json]
    title: str  # the operation's title in the docs ("KL divergence")
    arity: Literal[1, 2]  # 1: p alone; 2: p and q
    has_unit: bool  # takes and echoes `unit` (bits, nats, bans); unitless measures neither
    bounds: str  # the range of its values, for the docs ("[0, 1]", "[0, inf]")
    summary: str  # one line
    formula: str  # the exact formula, as the docs show it
    response: type[BaseModel]

    @property
    def route(self) -> str:
        return f"/v1/{self.path}"

    @property
    def request(self) -> type[UnitlessOptions]:
        """The request model: p (and q) and the options; ``unit`` only where it has one."""
        if self.has_unit:
            return SingleRequest if self.arity == 1 else PairRequest
        return UnitlessSingleRequest if self.arity == 1 else UnitlessPairRequest

    @property
    def description(self) -> str:
        """The operation's description in the docs: summary, formula, bounds, unit."""
        unit = "bits, nats (default) or bans" if self.has_unit else "unitless: takes no `unit`"
        return f"{self.summary}\n\n`{self.formula}`, in {self.bounds}; {unit}."


MEASURES: tuple[Measure, ...] = (
    Measure(
        name="information",
        path="information",
        command="information",
        title="Information",
        arity=1,
        has_unit=True,
        bounds="[0, inf]",
        summary="Self-information -log p(x) of every event: rare events carry more information.",
        formula="I(x) = -log p(x)",
        response=InformationResponse,
    ),
    Measure(
        name="entropy",
        path="entropy",
        command="entropy",
        title="Entropy",
        arity=1,
        has_unit=True,
        bounds="[0, log n]",
        summary="Shannon entropy H(p) = -sum p log p, the expected self-information.",
        formula="H(p) = -sum_x p(x) log p(x)",
        response=EntropyResponse,
    ),
    Measure(
        name="cross_entropy",
        path="cross-entropy",
        command="cross-entropy",
        title="Cross entropy",
        arity=2,
        has_unit=True,
        bounds="[0, inf]",
        summary="Cross-entropy H(p, q) = -sum p log q: infinite where p > 0 and q = 0.",
        formula="H(p, q) = -sum_x p(x) log q(x)",
        response=DivergenceResponse,
    ),
    Measure(
        name="kl_divergence",
        path="kl-divergence",
        command="kl",
        title="KL divergence",
        arity=2,
        has_unit=True,
        bounds="[0, inf]",
        summary="Kullback-Leibler divergence D(p || q) = sum p log(p / q), not symmetric.",
        formula="D(p || q) = sum_x p(x) log(p(x) / q(x))",
        response=DivergenceResponse,
    ),
    Measure(
        name="js_divergence",
        path="js-divergence",
        command="js",
        title="JS divergence",
        arity=2,
        has_unit=True,
        bounds="[0, ln 2] nats",
        summary="Jensen-Shannon divergence (as `value`) and distance (its square root).",
        formula="JS(p, q) = (D(p || m) + D(q || m)) / 2, m = (p + q) / 2",
        response=JSResponse,
    ),
    Measure(
        name="compare",
        path="compare",
        command="compare",
        title="Compare",
        arity=2,
        has_unit=True,
        bounds="each measure's bounds",
        summary="Every measure of a pair in both directions: entropy, cross-entropy, KL and JS.",
        formula="H(p), H(q), H(p, q), H(q, p), D(p || q), D(q || p), JS(p, q), sqrt(JS(p, q))",
        response=CompareResponse,
    ),
    Measure(
        name="hellinger_distance",
        path="hellinger-distance",
        command="hellinger",
        title="Hellinger distance",
        arity=2,
        has_unit=False,
        bounds="[0, 1]",
        summary="Hellinger distance: a symmetric metric, 0 for identical inputs and 1 for "
        "disjoint supports (the convention without a factor sqrt 2).",
        formula="H(p, q) = sqrt(1 - sum_x sqrt(p(x) q(x)))",
        response=ValueResponse,
    ),
    Measure(
        name="total_variation",
        path="total-variation",
        command="tv",
        title="Total variation",
        arity=2,
        has_unit=False,
        bounds="[0, 1]",
        summary="Total variation distance: half the L1 distance, the largest difference in "
        "probability the two give any event.",
        formula="TV(p, q) = 1/2 sum_x |p(x) - q(x)|",
        response=ValueResponse,
    ),
    Measure(
        name="bhattacharyya_coefficient",
        path="bhattacharyya-coefficient",
        command="bhattacharyya",
        title="Bhattacharyya coefficient",
        arity=2,
        has_unit=False,
        bounds="[0, 1]",
        summary="Bhattacharyya coefficient: the overlap of two distributions, 1 for identical "
        "inputs and 0 for disjoint supports.",
        formula="BC(p, q) = sum_x sqrt(p(x) q(x))",
        response=ValueResponse,
    ),
    Measure(
        name="pearson_chi_square",
        path="pearson-chi-square",
        command="pearson",
        title="Pearson chi-square",
        arity=2,
        has_unit=False,
        bounds="[0, inf]",
        summary="Pearson chi-square divergence of p from q: infinite where q = 0 < p.",
        formula="chi2_P(p, q) = sum_x (p(x) - q(x))^2 / q(x)",
        response=ValueResponse,
    ),
    Measure(
        name="neyman_chi_square",
        path="neyman-chi-square",
        command="neyman",
        title="Neyman chi-square",
        arity=2,
        has_unit=False,
        bounds="[0, inf]",
        summary="Neyman chi-square divergence: Pearson's with the roles swapped, infinite where "
        "p = 0 < q.",
        formula="chi2_N(p, q) = sum_x (p(x) - q(x))^2 / p(x)",
        response=ValueResponse,
    ),
)

_BY_NAME = {measure.name: measure for measure in MEASURES}
_BY_ROUTE = {measure.route: measure for measure in MEASURES}


def by_name(name: str) -> Measure:
    """The measure whose service function and client method is ``name`` (KeyError if none)."""
    return _BY_NAME[name]


def by_route(route: str) -> Measure | None:
    """The measure served at ``route`` ("/v1/kl-divergence"), or None."""
    return _BY_ROUTE.get(route)


_TABLE_START = "<!-- measures table: make docs -->"
_TABLE_END = "<!-- end of measures table -->"


def measures_table() -> str:
    """The endpoint table of docs/api.md: one row per measure of the registry."""
    rows = [
        "| Endpoint | Measure | Formula | Values | Unit | Client, CLI |",
        "|---|---|---|---|---|---|",
    ]
    for m in MEASURES:
        unit = "bits, nats, bans" if m.has_unit else "none (refused)"
        formula = m.formula.replace("|", "\\|")
        rows.append(
            f"| `POST {m.route}` | {m.title} | `{formula}` | {m.bounds} | {unit} "
            f"| `{m.name}()`, `divergence {m.command}` |"
        )
    return "\n".join(rows)


def with_measures_table(document: str) -> str:
    """``document`` with the text between its measures-table markers replaced by the table."""
    return between_markers(document, _TABLE_START, _TABLE_END, measures_table())


if __name__ == "__main__":  # `make docs`: python -m app.measures FILE rewrites FILE's table
    target = Path(sys.argv[1])
    target.write_text(with_measures_table(target.read_text()))
