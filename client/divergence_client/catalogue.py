"""The measure catalogue: one entry per numeric endpoint of the service, as data.

Each :class:`Measure` names its endpoint (``POST /v1/{path}``), its client method (``name``,
on both clients; also the service's function), its CLI command (``command``), its arity (one
distribution or a pair), whether it has a unit, its bounds, its parameters beyond the common
options, its documentation (a one-line summary and the exact formula) and its response model.
The client methods (``divergence_client._measures``) and the CLI commands
(``divergence_client.cli``) are made from it; the server builds its measure registry
(``app.measures``: request models, routes, OpenAPI operations, the docs' table) from the same
entries, and a drift test ties them together.

Data only: no HTTP, no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from divergence_client.models.measures import (
    CompareResponse,
    DivergenceResponse,
    EntropyResponse,
    InformationResponse,
    JSResponse,
    PsiResponse,
    RenyiDivergenceResponse,
    RenyiEntropyResponse,
    SymmetricDivergenceResponse,
    TsallisDivergenceResponse,
    TsallisEntropyResponse,
    UnitlessDivergenceResponse,
    ValueResponse,
    WeightedJSResponse,
)

__all__ = ["MEASURES", "Measure", "Parameter", "by_name", "by_route"]


@dataclass(frozen=True)
class Parameter:
    """A parameter of a measure beyond the common options (Rényi's ``alpha``, ...).

    It is a field of the measure's request model, a query parameter of its ``.npy`` form
    (lists comma-separated), a keyword of its client method and an option of its CLI command
    (``--alpha 2``, ``--weights 0.3,0.7``)."""

    name: str
    kind: Literal["number", "numbers", "names"]  # a float, a list of floats, a list of names
    required: bool
    help: str


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
    infinite: str = "never"  # where its value is +inf, for the docs ("p > 0 = q")
    parameters: tuple[Parameter, ...] = ()

    @property
    def route(self) -> str:
        return f"/v1/{self.path}"

    @property
    def description(self) -> str:
        """The operation's description in the docs: summary, formula, bounds, unit."""
        unit = "bits, nats (default) or bans" if self.has_unit else "unitless: takes no `unit`"
        text = f"{self.summary}\n\n`{self.formula}`, in {self.bounds}; {unit}."
        if self.infinite != "never":
            text += f" Infinite {self.infinite}."
        if self.parameters:
            names = ", ".join(f"`{p.name}`" for p in self.parameters)
            text += f" Parameters: {names} (in the body, or the query with a `.npy` body)."
        return text


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
        infinite="where p = 0",
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
        infinite="where p > 0 = q",
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
        infinite="where p > 0 = q",
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
        summary="Several measures of a pair in one answer, in both directions where they are not "
        "symmetric: by default entropy, cross-entropy, KL and JS; any subset of the family with "
        "`measures`.",
        formula="H(p), H(q), H(p, q), H(q, p), D(p || q), D(q || p), JS(p, q), sqrt(JS(p, q))",
        response=CompareResponse,
        infinite="as each of its measures",
        parameters=(
            Parameter(
                "measures",
                "names",
                required=False,
                help="the measures to compute (default: entropy, cross_entropy, kl_divergence, "
                "js_divergence)",
            ),
        ),
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
        response=UnitlessDivergenceResponse,
        infinite="where q = 0 < p",
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
        response=UnitlessDivergenceResponse,
        infinite="where p = 0 < q",
    ),
    Measure(
        name="jeffreys_divergence",
        path="jeffreys-divergence",
        command="jeffreys",
        title="Jeffreys divergence",
        arity=2,
        has_unit=True,
        bounds="[0, inf]",
        summary="Jeffreys divergence, the symmetrised KL: infinite where exactly one of p and q "
        "is 0.",
        formula="J(p, q) = D(p || q) + D(q || p) = sum_x (p(x) - q(x)) log(p(x) / q(x))",
        response=SymmetricDivergenceResponse,
        infinite="where exactly one of p, q is 0",
    ),
    Measure(
        name="population_stability_index",
        path="population-stability-index",
        command="psi",
        title="Population stability index",
        arity=2,
        has_unit=False,
        bounds="[0, inf]",
        summary="Population stability index of a current distribution p against a baseline q "
        "(symmetric; the Jeffreys divergence in nats), with its customary band: below 0.1 no "
        "significant change, 0.1 to 0.25 moderate, 0.25 and above significant.",
        formula="PSI(p, q) = sum_x (p(x) - q(x)) ln(p(x) / q(x))",
        response=PsiResponse,
        infinite="where exactly one of p, q is 0",
    ),
    Measure(
        name="bhattacharyya_distance",
        path="bhattacharyya-distance",
        command="bhattacharyya-distance",
        title="Bhattacharyya distance",
        arity=2,
        has_unit=True,
        bounds="[0, inf]",
        summary="Bhattacharyya distance: minus the log of the overlap; infinite for disjoint "
        "supports (not a metric: the triangle inequality fails).",
        formula="D_B(p, q) = -log sum_x sqrt(p(x) q(x))",
        response=DivergenceResponse,
        infinite="for disjoint supports",
    ),
    Measure(
        name="renyi_divergence",
        path="renyi-divergence",
        command="renyi",
        title="Rényi divergence",
        arity=2,
        has_unit=True,
        bounds="[0, inf]",
        summary="Rényi divergence of order alpha in [0, inf], non-decreasing in alpha: alpha = 0 "
        "is -log Q(supp p), 1 is KL, 1/2 is twice the Bhattacharyya distance, inf is "
        "log max p/q. Infinite for alpha >= 1 where p > 0 = q, for alpha < 1 only for disjoint "
        "supports.",
        formula="D_a(p || q) = log(sum_x p(x)^a q(x)^(1-a)) / (a - 1)",
        response=RenyiDivergenceResponse,
        infinite="a >= 1: where p > 0 = q; a < 1: for disjoint supports",
        parameters=(Parameter("alpha", "number", required=True, help="the order, in [0, inf]"),),
    ),
    Measure(
        name="renyi_entropy",
        path="renyi-entropy",
        command="renyi-entropy",
        title="Rényi entropy",
        arity=1,
        has_unit=True,
        bounds="[0, log n]",
        summary="Rényi entropy of order alpha in [0, inf], non-increasing in alpha: Hartley "
        "(alpha = 0, log of the support's size), Shannon (1), collision (2), min-entropy (inf).",
        formula="H_a(p) = log(sum_x p(x)^a) / (1 - a)",
        response=RenyiEntropyResponse,
        parameters=(Parameter("alpha", "number", required=True, help="the order, in [0, inf]"),),
    ),
    Measure(
        name="tsallis_entropy",
        path="tsallis-entropy",
        command="tsallis-entropy",
        title="Tsallis entropy",
        arity=1,
        has_unit=False,
        bounds="[0, (n^(1-q) - 1) / (1 - q)]",
        summary="Tsallis entropy of entropic index q > 0 (the request's `order`); the Shannon "
        "entropy in nats at q = 1. A number without a unit: no log base rescales it.",
        formula="S_q(p) = (1 - sum_x p(x)^q) / (q - 1)",
        response=TsallisEntropyResponse,
        parameters=(Parameter("order", "number", required=True, help="the index q, > 0"),),
    ),
    Measure(
        name="tsallis_divergence",
        path="tsallis-divergence",
        command="tsallis",
        title="Tsallis relative entropy",
        arity=2,
        has_unit=False,
        bounds="[0, 1 / (1 - q)] for q < 1, [0, inf] for q >= 1",
        summary="Tsallis relative entropy of index q > 0 (the request's `order`); KL in nats at "
        "q = 1; infinite for q >= 1 where p > 0 = q.",
        formula="D_q(p || r) = (sum_x p(x)^q r(x)^(1-q) - 1) / (q - 1)",
        response=TsallisDivergenceResponse,
        infinite="q >= 1: where p > 0 = r",
        parameters=(Parameter("order", "number", required=True, help="the index q, > 0"),),
    ),
    Measure(
        name="weighted_js_divergence",
        path="weighted-js-divergence",
        command="weighted-js",
        title="Weighted Jensen-Shannon divergence",
        arity=1,
        has_unit=True,
        bounds="[0, H(w)]",
        summary="Jensen-Shannon divergence of k distributions, the rows of p, with weights w "
        "(equal by default): never infinite, at most the entropy of the weights; the pair JS is "
        "its k = 2 case with equal weights.",
        formula="JS_w(P_1..P_k) = H(sum_i w_i P_i) - sum_i w_i H(P_i)",
        response=WeightedJSResponse,
        parameters=(
            Parameter("weights", "numbers", required=False, help="one weight per row, sum 1"),
        ),
    ),
    Measure(
        name="perplexity",
        path="perplexity",
        command="perplexity",
        title="Perplexity",
        arity=1,
        has_unit=False,
        bounds="[1, n]",
        summary="Perplexity, the effective number of equally likely events: b^H in any base b, "
        "1 for a one-hot distribution, n for the uniform one.",
        formula="PP(p) = exp(H(p)), H in nats",
        response=ValueResponse,
    ),
    Measure(
        name="cross_perplexity",
        path="cross-perplexity",
        command="cross-perplexity",
        title="Cross-perplexity",
        arity=2,
        has_unit=False,
        bounds="[1, inf]",
        summary="Cross-perplexity, the perplexity a model q has on data from p: infinite where "
        "p > 0 = q (and where exp overflows, above about 709.78 nats of cross-entropy).",
        formula="PP(p, q) = exp(H(p, q)), H in nats",
        response=UnitlessDivergenceResponse,
        infinite="where p > 0 = q; where exp overflows (H(p, q) > 709.78 nats)",
    ),
    Measure(
        name="wasserstein_distance",
        path="wasserstein-distance",
        command="wasserstein",
        title="Wasserstein distance",
        arity=2,
        has_unit=False,
        bounds="[0, x_(n-1) - x_0]",
        summary="1-D Wasserstein-1 (earth mover's) distance on an ordered support, in the units "
        "of the positions (default 0, 1, ..., n-1); never infinite.",
        formula="W_1(p, q) = sum_i |F_p(i) - F_q(i)| (x_(i+1) - x_i), F the cumulative sums",
        response=ValueResponse,
        parameters=(
            Parameter("positions", "numbers", required=False, help="strictly increasing positions"),
        ),
    ),
)

_BY_NAME = {measure.name: measure for measure in MEASURES}
_BY_ROUTE = {measure.route: measure for measure in MEASURES}


def by_name(name: str) -> Measure:
    """The measure whose client method is ``name`` (KeyError if none)."""
    return _BY_NAME[name]


def by_route(route: str) -> Measure | None:
    """The measure served at ``route`` ("/v1/kl-divergence"), or None."""
    return _BY_ROUTE.get(route)
