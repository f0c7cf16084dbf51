"""The rest of the family over HTTP: Rényi, Tsallis, Jeffreys, PSI, Bhattacharyya distance,
weighted JS, perplexity, Wasserstein and `compare`'s `measures`, against sums written out
here with the math module or against scipy's same-work call; their parameters in JSON and
in the query string of a `.npy` body; bad parameters named in the 422."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from scipy.spatial import distance
from scipy.special import rel_entr

from divergence_client import DivergenceClient, cli

P = [0.1, 0.2, 0.3, 0.4]
Q = [0.25, 0.25, 0.25, 0.25]
PZ = [0.5, 0.3, 0.2, 0.0]  # zeros in different places: infinities both ways
QZ = [0.4, 0.4, 0.0, 0.2]


def _renyi(p: list[float], q: list[float], a: float) -> float:
    """D_a by its definition, with the math module (a not in {0, 1, inf})."""
    total = math.fsum(x**a * y ** (1 - a) for x, y in zip(p, q, strict=True) if x > 0)
    return math.log(total) / (a - 1)


def _post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


@pytest.mark.parametrize("alpha", [0.25, 0.5, 2.0, 7.5])
def test_renyi_divergence_against_its_definition(client: TestClient, alpha: float) -> None:
    answer = _post(client, "/v1/renyi-divergence", {"p": P, "q": Q, "alpha": alpha})
    assert answer["value"] == pytest.approx(_renyi(P, Q, alpha), rel=1e-12)
    assert answer["alpha"] == alpha and answer["infinite_events"] == []
    bits = _post(client, "/v1/renyi-divergence", {"p": P, "q": Q, "alpha": alpha, "unit": "bits"})
    assert bits["value"] == pytest.approx(_renyi(P, Q, alpha) / math.log(2), rel=1e-12)


def test_renyi_divergence_special_orders(client: TestClient) -> None:
    def value(alpha: Any, p: list[float] = P, q: list[float] = Q) -> Any:
        return _post(client, "/v1/renyi-divergence", {"p": p, "q": q, "alpha": alpha})

    assert value(1)["value"] == pytest.approx(float(rel_entr(P, Q).sum()), rel=1e-12)
    # alpha = inf: log max p/q, written "Infinity" both ways
    top = value("Infinity")
    assert top["alpha"] == "Infinity" and top["value"] == pytest.approx(math.log(0.4 / 0.25))
    # alpha = 0: -log Q(supp p); finite although q misses an event of p
    assert value(0, PZ, QZ)["value"] == pytest.approx(-math.log(0.4 + 0.4 + 0.0), rel=1e-12)
    # alpha >= 1 with p > 0 = q: infinite, and the event is named
    infinite = value(2, PZ, QZ)
    assert infinite["value"] == "Infinity" and infinite["infinite_events"] == [2]
    # alpha < 1 is finite unless the supports are disjoint
    assert value(0.5, PZ, QZ)["value"] == pytest.approx(_renyi(PZ, QZ, 0.5), rel=1e-12)
    disjoint = value(0.5, [1.0, 0.0], [0.0, 1.0])
    assert disjoint["value"] == "Infinity" and disjoint["infinite_events"] == [0]


def test_renyi_entropy_special_cases(client: TestClient) -> None:
    def value(alpha: Any) -> float:
        answer = _post(client, "/v1/renyi-entropy", {"p": PZ, "alpha": alpha, "unit": "bits"})
        return float(answer["value"])

    assert value(0) == pytest.approx(math.log2(3), rel=1e-12)  # Hartley: support of 3
    assert value(1) == pytest.approx(stats.entropy(PZ, base=2), rel=1e-12)
    assert value(2) == pytest.approx(-math.log2(0.25 + 0.09 + 0.04), rel=1e-12)
    assert value("Infinity") == pytest.approx(1.0, rel=1e-12)  # -log2 max p = -log2 0.5


def test_tsallis_entropy_and_divergence(client: TestClient) -> None:
    q = 2.0
    s = _post(client, "/v1/tsallis-entropy", {"p": P, "order": q})
    assert s["value"] == pytest.approx((1 - math.fsum(x**q for x in P)) / (q - 1), rel=1e-12)
    assert s["order"] == q and "unit" not in s
    d = _post(client, "/v1/tsallis-divergence", {"p": P, "q": Q, "order": 0.5})
    power = math.fsum(x**0.5 * y**0.5 for x, y in zip(P, Q, strict=True))
    assert d["value"] == pytest.approx((power - 1) / (0.5 - 1), rel=1e-12)
    # the Shannon/KL limit at 1, in nats
    one = _post(client, "/v1/tsallis-divergence", {"p": P, "q": Q, "order": 1})
    assert one["value"] == pytest.approx(float(rel_entr(P, Q).sum()), rel=1e-12)
    infinite = _post(client, "/v1/tsallis-divergence", {"p": PZ, "q": QZ, "order": 2})
    assert infinite["value"] == "Infinity" and infinite["infinite_events"] == [2]
    refused = client.post("/v1/tsallis-entropy", json={"p": P, "order": 2, "unit": "bits"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "unit"]


def test_jeffreys_psi_and_bhattacharyya_distance(client: TestClient) -> None:
    jeffreys = float(rel_entr(P, Q).sum() + rel_entr(Q, P).sum())
    j = _post(client, "/v1/jeffreys-divergence", {"p": P, "q": Q, "unit": "bits"})
    assert j["value"] == pytest.approx(jeffreys / math.log(2), rel=1e-12)
    psi = _post(client, "/v1/population-stability-index", {"p": P, "q": Q})
    by_hand = math.fsum((a - b) * math.log(a / b) for a, b in zip(P, Q, strict=True))
    assert psi["value"] == pytest.approx(by_hand, rel=1e-12)
    assert psi["band"] == "moderate" and 0.1 <= by_hand < 0.25  # 0.2308...
    assert psi["bands"] == {"no significant change": 0.0, "moderate": 0.1, "significant": 0.25}
    batch = _post(
        client, "/v1/population-stability-index", {"p": [Q, P, [0.7, 0.1, 0.1, 0.1]], "q": Q}
    )
    assert batch["band"] == ["no significant change", "moderate", "significant"]
    bc = math.fsum(math.sqrt(a * b) for a, b in zip(P, Q, strict=True))
    d = _post(client, "/v1/bhattacharyya-distance", {"p": P, "q": Q})
    assert d["value"] == pytest.approx(-math.log(bc), rel=1e-12)
    # D_1/2 is twice the Bhattacharyya distance
    half = _post(client, "/v1/renyi-divergence", {"p": P, "q": Q, "alpha": 0.5})
    assert half["value"] == pytest.approx(2 * d["value"], rel=1e-12)


def test_symmetric_measures_name_the_zeros_of_both_sides(client: TestClient) -> None:
    j = _post(client, "/v1/jeffreys-divergence", {"p": PZ, "q": QZ})
    assert j["value"] == "Infinity" and j["infinite_events"] == [2, 3]
    labels = {"p": {"a": 0.5, "b": 0.5}, "q": {"b": 0.5, "c": 0.5}}
    psi = _post(client, "/v1/population-stability-index", labels)
    assert psi["value"] == "Infinity" and psi["band"] == "significant"
    assert psi["infinite_events"] == ["a", "c"]
    chi = _post(client, "/v1/neyman-chi-square", {"p": PZ, "q": QZ})
    assert chi["value"] == "Infinity" and chi["infinite_events"] == [3]  # p = 0 < q
    chi = _post(client, "/v1/pearson-chi-square", {"p": PZ, "q": QZ})
    assert chi["value"] == "Infinity" and chi["infinite_events"] == [2]  # q = 0 < p


def test_weighted_js(client: TestClient) -> None:
    rows = [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]
    w = [0.2, 0.3, 0.5]
    mixture = np.average(rows, axis=0, weights=w)
    expected = stats.entropy(mixture) - math.fsum(
        wi * stats.entropy(r) for wi, r in zip(w, rows, strict=True)
    )
    answer = _post(client, "/v1/weighted-js-divergence", {"p": rows, "weights": w})
    assert answer["value"] == pytest.approx(expected, rel=1e-12)
    assert answer["bound"] == pytest.approx(stats.entropy(w), rel=1e-12)
    assert answer["weights"] == w
    # two rows with equal weights (the default): the pair JS, scipy's distance squared
    pair = _post(client, "/v1/weighted-js-divergence", {"p": [P, Q], "unit": "bits"})
    assert pair["value"] == pytest.approx(distance.jensenshannon(P, Q, base=2) ** 2, rel=1e-10)
    assert pair["weights"] == [0.5, 0.5] and pair["bound"] == pytest.approx(1.0)
    # disjoint rows reach the bound H(w)
    top = _post(
        client, "/v1/weighted-js-divergence", {"p": [[1, 0], [0, 1]], "weights": [0.25, 0.75]}
    )
    assert top["value"] == pytest.approx(stats.entropy([0.25, 0.75]), rel=1e-12)


def test_perplexity_and_wasserstein(client: TestClient) -> None:
    pp = _post(client, "/v1/perplexity", {"p": P})
    assert pp["value"] == pytest.approx(math.exp(stats.entropy(P)), rel=1e-12)
    assert _post(client, "/v1/perplexity", {"p": [1, 0, 0]})["value"] == 1.0
    cross = _post(client, "/v1/cross-perplexity", {"p": P, "q": Q})
    assert cross["value"] == pytest.approx(4.0, rel=1e-12)  # exp(ln 4): q uniform on 4
    infinite = _post(client, "/v1/cross-perplexity", {"p": PZ, "q": QZ})
    assert infinite["value"] == "Infinity" and infinite["infinite_events"] == [2]
    x = [0.0, 1.0, 2.5, 10.0]
    w = _post(client, "/v1/wasserstein-distance", {"p": P, "q": Q, "positions": x})
    assert w["value"] == pytest.approx(stats.wasserstein_distance(x, x, P, Q), rel=1e-12)
    default = _post(client, "/v1/wasserstein-distance", {"p": P, "q": Q})
    assert default["value"] == pytest.approx(stats.wasserstein_distance(range(4), range(4), P, Q))


def test_compare_answers_the_measures_asked_for(client: TestClient) -> None:
    names = ["kl_divergence", "hellinger_distance", "population_stability_index", "perplexity"]
    answer = _post(client, "/v1/compare", {"p": P, "q": Q, "measures": names, "unit": "bits"})
    value = answer["value"]
    assert set(value) == {"kl_pq", "kl_qp", "hellinger_distance", "population_stability_index",
                          "perplexity_p", "perplexity_q"}  # fmt: skip
    assert value["kl_pq"] == pytest.approx(float(rel_entr(P, Q).sum()) / math.log(2), rel=1e-12)
    single = _post(client, "/v1/hellinger-distance", {"p": P, "q": Q})
    assert value["hellinger_distance"] == single["value"]
    psi = _post(client, "/v1/population-stability-index", {"p": P, "q": Q})
    assert value["population_stability_index"] == psi["value"]  # nats whatever the unit
    assert value["perplexity_q"] == pytest.approx(4.0, rel=1e-12)
    # the default set, unchanged
    default = _post(client, "/v1/compare", {"p": P, "q": Q})["value"]
    assert set(default) == {"entropy_p", "entropy_q", "cross_entropy_pq", "cross_entropy_qp",
                            "kl_pq", "kl_qp", "js_divergence", "js_distance"}  # fmt: skip
    # events listed when a value of the answer is infinite
    zeros = _post(client, "/v1/compare", {"p": PZ, "q": QZ, "measures": ["pearson_chi_square"]})
    assert zeros["value"] == {
        "pearson_chi_square_pq": "Infinity",
        "pearson_chi_square_qp": "Infinity",
    }
    assert zeros["infinite_events_pq"] == [2] and zeros["infinite_events_qp"] == [3]
    finite = _post(client, "/v1/compare", {"p": PZ, "q": QZ, "measures": ["total_variation"]})
    assert finite["value"] == {"total_variation": pytest.approx(0.3)}
    assert finite["infinite_events_pq"] == [] and finite["infinite_events_qp"] == []


def _npy(array: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float64))
    return buffer.getvalue()


def test_parameters_in_the_query_of_a_npy_body(client: TestClient) -> None:
    headers = {"content-type": "application/x-npy"}
    r = client.post("/v1/renyi-divergence?alpha=2&unit=bits", content=_npy([P, Q]), headers=headers)
    assert r.status_code == 200 and r.json()["alpha"] == 2.0
    assert r.json()["value"] == pytest.approx(_renyi(P, Q, 2.0) / math.log(2), rel=1e-12)
    r = client.post("/v1/renyi-divergence?alpha=inf", content=_npy([PZ, QZ]), headers=headers)
    assert r.json()["value"] == "Infinity" and r.json()["alpha"] == "Infinity"
    r = client.post(
        "/v1/weighted-js-divergence?weights=0.25,0.75",
        content=_npy([[1, 0], [0, 1]]),
        headers=headers,
    )
    assert r.json()["value"] == pytest.approx(stats.entropy([0.25, 0.75]), rel=1e-12)
    r = client.post(
        "/v1/wasserstein-distance?positions=0,1,2.5,10", content=_npy([P, Q]), headers=headers
    )
    x = [0.0, 1.0, 2.5, 10.0]
    assert r.json()["value"] == pytest.approx(stats.wasserstein_distance(x, x, P, Q), rel=1e-12)
    r = client.post(
        "/v1/compare?measures=total_variation,jeffreys_divergence",
        content=_npy([P, Q]),
        headers=headers,
    )
    assert set(r.json()["value"]) == {"total_variation", "jeffreys_divergence"}
    for query, loc in [
        ("alpha=two", ["query", "alpha"]),
        ("alpha=-1", ["query", "alpha"]),
        ("", ["body", "alpha"]),  # missing: there is no query to name
    ]:
        r = client.post(f"/v1/renyi-divergence?{query}", content=_npy([P, Q]), headers=headers)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == loc, (query, r.text)
    # given twice, differently
    r = client.post("/v1/renyi-divergence?alpha=3", json={"p": P, "q": Q, "alpha": 2})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "alpha"]


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/renyi-divergence", {"p": P, "q": Q, "alpha": -0.5}, ["body", "alpha"]),
        ("/v1/renyi-divergence", {"p": P, "q": Q, "alpha": "NaN"}, ["body", "alpha"]),
        ("/v1/renyi-divergence", {"p": P, "q": Q}, ["body", "alpha"]),
        ("/v1/renyi-entropy", {"p": P, "alpha": True}, ["body", "alpha"]),
        ("/v1/tsallis-entropy", {"p": P, "order": 0}, ["body", "order"]),
        ("/v1/tsallis-divergence", {"p": P, "q": Q, "order": -1}, ["body", "order"]),
        ("/v1/weighted-js-divergence", {"p": [P, Q], "weights": [0.5, 0.6]}, ["body", "weights"]),
        ("/v1/weighted-js-divergence", {"p": [P, Q], "weights": [1.0]}, ["body", "weights"]),
        ("/v1/weighted-js-divergence", {"p": [P, Q], "weights": [1.5, -0.5]}, ["body", "weights", 1]),
        ("/v1/weighted-js-divergence", {"p": P}, ["body", "p"]),
        ("/v1/wasserstein-distance", {"p": P, "q": Q, "positions": [0, 1, 1, 2]}, ["body", "positions"]),
        ("/v1/wasserstein-distance", {"p": P, "q": Q, "positions": [0, 1, 2]}, ["body", "positions"]),
        ("/v1/wasserstein-distance", {"p": P, "q": Q, "positions": [0, 1, 2, 1e308 * 10]}, ["body", "positions", 3]),
        ("/v1/wasserstein-distance", {"p": P, "q": Q, "unit": "bits"}, ["body", "unit"]),
        ("/v1/compare", {"p": P, "q": Q, "measures": ["renyi"]}, ["body", "measures", 0]),
        ("/v1/compare", {"p": P, "q": Q, "measures": []}, ["body", "measures"]),
    ],
)  # fmt: skip
def test_bad_parameters_are_named(
    client: TestClient, path: str, body: dict[str, Any], loc: list[Any]
) -> None:
    r = client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc


class _Server:
    """The client's requests answered by the app in-process."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def __call__(self, request: Any) -> Any:
        import httpx

        answer = self.client.request(
            request.method, request.url.path, content=request.content, headers=request.headers
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def test_client_and_cli_pass_parameters(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import httpx

    transport = httpx.MockTransport(_Server(client))
    with DivergenceClient("http://test", transport=transport) as c:
        top = c.renyi_divergence(np.array(PZ), np.array(QZ), alpha=math.inf)
        assert top.value == math.inf and top.alpha == math.inf and top.infinite_events == [2]
        w = c.wasserstein_distance(P, Q, positions=np.array([0.0, 1.0, 2.5, 10.0]))
        x = [0.0, 1.0, 2.5, 10.0]
        assert w.value == pytest.approx(stats.wasserstein_distance(x, x, P, Q), rel=1e-12)

    real = DivergenceClient.__init__

    def offline(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, "http://test", transport=transport)

    monkeypatch.setattr(DivergenceClient, "__init__", offline)
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([[1, 0], [0, 1]]))
    out = io.StringIO()
    assert cli.main(["weighted-js", str(rows), "--weights", "0.25,0.75", "--json"], out=out) == 0
    assert json.loads(out.getvalue())["value"] == pytest.approx(stats.entropy([0.25, 0.75]))
    p, q = tmp_path / "p.json", tmp_path / "q.json"
    p.write_text(json.dumps(PZ))
    q.write_text(json.dumps(QZ))
    out = io.StringIO()
    assert cli.main(["renyi", str(p), str(q), "--alpha", "inf", "--json"], out=out) == 0
    assert json.loads(out.getvalue())["value"] == "Infinity"
    out = io.StringIO()
    measures = ["compare", str(p), str(q), "--measures", "total_variation,hellinger_distance"]
    assert cli.main(measures, out=out) == 0
    text = out.getvalue()
    assert "total_variation" in text and "hellinger_distance" in text and "kl_pq" not in text
