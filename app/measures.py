"""The measure registry: the client's measure catalogue, bound to the server's request models.

The catalogue (``divergence_client.catalogue``) holds each measure as data: name, endpoint,
CLI command, arity, unit or not, bounds, parameters, documentation, response model. This
module adds what only the server needs: each entry's request model (which parses into
numpy). The service function is ``app.services.measures.{name}``; the routes and their
OpenAPI operations (``app.api.measures``) and the endpoint table of ``docs/api.md`` follow
from the registry, the client methods and CLI commands from the catalogue, and
``tests/test_measure_registry.py`` fails when any of them drifts from it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path

from app.config import between_markers
from app.schemas.common import UnitlessOptions
from app.schemas.measures import (
    CompareRequest,
    PairRequest,
    RenyiEntropyRequest,
    RenyiPairRequest,
    SingleRequest,
    TsallisEntropyRequest,
    TsallisPairRequest,
    UnitlessPairRequest,
    UnitlessSingleRequest,
    WassersteinRequest,
    WeightedJSRequest,
)
from divergence_client import catalogue
from divergence_client.catalogue import Parameter

__all__ = [
    "MEASURES",
    "REQUEST_MODELS",
    "Measure",
    "Parameter",
    "by_name",
    "by_route",
    "measures_table",
    "with_measures_table",
]

# The request model of each measure with parameters (its fields are the parameters); the
# others take the common options, their model following from arity and unit.
REQUEST_MODELS: dict[str, type[UnitlessOptions]] = {
    "compare": CompareRequest,
    "renyi_divergence": RenyiPairRequest,
    "renyi_entropy": RenyiEntropyRequest,
    "tsallis_entropy": TsallisEntropyRequest,
    "tsallis_divergence": TsallisPairRequest,
    "weighted_js_divergence": WeightedJSRequest,
    "wasserstein_distance": WassersteinRequest,
}


@dataclass(frozen=True)
class Measure(catalogue.Measure):
    """A catalogue entry with its request model, as the server sees it."""

    request_model: type[UnitlessOptions] | None = None  # when it has parameters

    @property
    def request(self) -> type[UnitlessOptions]:
        """The request model: p (and q) and the options; ``unit`` only where it has one;
        the parameters where it has any."""
        if self.request_model is not None:
            return self.request_model
        if self.has_unit:
            return SingleRequest if self.arity == 1 else PairRequest
        return UnitlessSingleRequest if self.arity == 1 else UnitlessPairRequest


def _bound(entry: catalogue.Measure) -> Measure:
    data = {field.name: getattr(entry, field.name) for field in fields(entry)}
    return Measure(**data, request_model=REQUEST_MODELS.get(entry.name))


MEASURES: tuple[Measure, ...] = tuple(_bound(entry) for entry in catalogue.MEASURES)
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
        "| Endpoint | Measure | Formula | Values | Infinite | Unit | Parameters | Client, CLI |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in MEASURES:
        unit = "bits, nats, bans" if m.has_unit else "none (refused)"
        formula = m.formula.replace("|", "\\|")
        infinite = m.infinite.replace("|", "\\|")
        parameters = ", ".join(
            f"`{p.name}`" + ("" if p.required else " (optional)") for p in m.parameters
        )
        rows.append(
            f"| `POST {m.route}` | {m.title} | `{formula}` | {m.bounds} | {infinite} | {unit} "
            f"| {parameters or '-'} | `{m.name}()`, `divergence {m.command}` |"
        )
    return "\n".join(rows)


def with_measures_table(document: str) -> str:
    """``document`` with the text between its measures-table markers replaced by the table."""
    return between_markers(document, _TABLE_START, _TABLE_END, measures_table())


if __name__ == "__main__":  # `make docs`: python -m app.measures FILE rewrites FILE's table
    target = Path(sys.argv[1])
    target.write_text(with_measures_table(target.read_text()))
