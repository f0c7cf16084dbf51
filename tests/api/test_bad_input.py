"""Every class of bad input gets 422 problem+json that names the field (and index)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
OK_PAIR = {"p": [0.5, 0.5], "q": [0.25, 0.75]}


def _problem(client: TestClient, path: str, body: Any, raw: bytes | None = None) -> dict[str, Any]:
    if raw is not None:
        r = client.post(path, content=raw, headers={"content-type": "application/json"})
    else:
        r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == 422
    assert problem["title"] == "Unprocessable Content"
    assert problem["instance"] == path
    return problem


CASES: list[tuple[str, dict[str, Any], list[Any], str]] = [
    ("negative", {"p": [0.5, -0.1, 0.6]}, ["body", "p", 1], "negative"),
    ("negative in batch", {"p": [[0.5, 0.5], [1.2, -0.2]]}, ["body", "p", 1, 1], "negative"),
    ("negative label", {"p": {"a": 1.1, "b": -0.1}}, ["body", "p", "b"], "negative"),
    ("empty array", {"p": []}, ["body", "p"], "empty"),
    ("empty rows", {"p": [[], []]}, ["body", "p", 0], "empty"),
    ("empty map", {"p": {}}, ["body", "p"], "empty"),
    ("ragged batch", {"p": [[0.5, 0.5], [1.0]]}, ["body", "p", 1], "ragged_batch"),
    ("mixed batch", {"p": [[0.5, 0.5], 1.0]}, ["body", "p", 1], "batch_shape"),
    ("string number", {"p": ["0.5", 0.5]}, ["body", "p", 0], "number_type"),
    ("boolean", {"p": [True, 0.0]}, ["body", "p", 0], "number_type"),
    ("null", {"p": [0.5, None]}, ["body", "p", 1], "number_type"),
    ("nested too deep", {"p": [[[0.5]], [[0.5]]]}, ["body", "p", 0, 0], "number_type"),
    ("not a distribution", {"p": "0.5,0.5"}, ["body", "p"], "distribution_type"),
    ("huge integer", {"p": [10**400, 0]}, ["body", "p", 0], "number_range"),
    ("sum off one", {"p": [0.5, 0.6]}, ["body", "p"], "sum_not_one"),
    ("batch row off one", {"p": [[0.5, 0.5], [0.5, 0.6]]}, ["body", "p", 1], "sum_not_one"),
    ("all zero normalised", {"p": [0, 0], "normalize": True}, ["body", "p"], "zero_sum"),
    (
        "zero row normalised",
        {"p": [[1, 1], [0, 0]], "normalize": True},
        ["body", "p", 1],
        "zero_sum",
    ),
    ("unknown unit", {"p": [1.0], "unit": "dits"}, ["body", "unit"], "literal_error"),
    (
        "wrong type of option",
        {"p": [1.0], "normalize": "maybe"},
        ["body", "normalize"],
        "bool_type",
    ),
    (
        "negative tolerance",
        {"p": [1.0], "tolerance": -1},
        ["body", "tolerance"],
        "greater_than_equal",
    ),
    ("unknown field", {"p": [1.0], "base": 2}, ["body", "base"], "extra_forbidden"),
    ("missing p", {"unit": "bits"}, ["body", "p"], "missing"),
    (
        "bad smoothing",
        {"p": [1.0], "smoothing": {"alpha": 0}},
        ["body", "smoothing", "alpha"],
        "greater_than",
    ),
    (
        "unknown smoothing",
        {"p": [1.0], "smoothing": {"method": "kneser-ney", "alpha": 1}},
        ["body", "smoothing", "method"],
        "literal_error",
    ),
]


@pytest.mark.parametrize(("body", "loc", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_single_distribution_problems(
    client: TestClient, body: dict[str, Any], loc: list[Any], kind: str
) -> None:
    problem = _problem(client, "/v1/entropy", body)
    assert problem["errors"][0]["loc"] == loc
    assert problem["errors"][0]["type"] == kind
    assert problem["detail"]


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_nan_and_infinity_tokens(client: TestClient, token: bytes) -> None:
    raw = b'{"p": [0.5, ' + token + b"]}"
    problem = _problem(client, "/v1/entropy", None, raw=raw)
    assert problem["errors"][0]["loc"] == ["body", "p", 1]
    assert problem["errors"][0]["type"] == "not_finite"


def test_malformed_json(client: TestClient) -> None:
    problem = _problem(client, "/v1/entropy", None, raw=b'{"p": [0.5, 0.5')
    assert problem["errors"][0]["type"] == "json_invalid"


def test_body_not_an_object(client: TestClient) -> None:
    problem = _problem(client, "/v1/kl-divergence", [0.5, 0.5])
    assert problem["errors"][0]["loc"] == ["body"]


PAIR_CASES: list[tuple[str, dict[str, Any], list[Any], str]] = [
    ("lengths differ", {"p": [0.5, 0.5], "q": [1.0]}, ["body", "q"], "length_mismatch"),
    ("rows differ", {"p": [[1, 0]] * 2, "q": [[1, 0]] * 3}, ["body", "q"], "rows_mismatch"),
    ("map against array", {"p": {"a": 1.0}, "q": [1.0]}, ["body", "q"], "form_mismatch"),
    ("q sum off one", {"p": [0.5, 0.5], "q": [0.5, 0.4]}, ["body", "q"], "sum_not_one"),
    ("q negative", {"p": [0.5, 0.5], "q": [1.5, -0.5]}, ["body", "q", 1], "negative"),
    ("q missing", {"p": [1.0]}, ["body", "q"], "missing"),
]


@pytest.mark.parametrize(
    "path", ["/v1/cross-entropy", "/v1/kl-divergence", "/v1/js-divergence", "/v1/compare"]
)
@pytest.mark.parametrize(
    ("body", "loc", "kind"), [c[1:] for c in PAIR_CASES], ids=[c[0] for c in PAIR_CASES]
)
def test_pair_problems(
    client: TestClient, path: str, body: dict[str, Any], loc: list[Any], kind: str
) -> None:
    problem = _problem(client, path, body)
    assert problem["errors"][0]["loc"] == loc
    assert problem["errors"][0]["type"] == kind


def test_unknown_route_and_method_are_problems_too(client: TestClient) -> None:
    r = client.get("/v1/nothing-here")
    assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM)
    r = client.get("/v1/entropy")
    assert (r.status_code, r.headers["content-type"]) == (405, PROBLEM)
    assert r.json()["title"] == "Method Not Allowed"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/entropy", "POST"),
        ("PUT", "/v1/experiments", "GET, POST"),
        ("PUT", "/v1/experiments/some-id", "DELETE, GET"),
        ("POST", "/healthz", "GET"),
    ],
)
def test_405_names_every_allowed_method(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow


def test_the_service_still_answers_after_bad_input(client: TestClient) -> None:
    _problem(client, "/v1/kl-divergence", {"p": [0.5, "x"], "q": [1, 0]})
    assert client.post("/v1/kl-divergence", json=OK_PAIR).status_code == 200
