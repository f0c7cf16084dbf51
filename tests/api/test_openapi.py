"""The committed OpenAPI document is what the app generates, and its examples all work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.measures import MEASURES
from app.openapi import render

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_document_is_current() -> None:
    assert COMMITTED.read_text() == render(), "run `make openapi` and commit openapi/openapi.json"


def _examples() -> list[tuple[str, str, dict[str, Any]]]:
    document = json.loads(render())
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            for name, example in content.get("application/json", {}).get("examples", {}).items():
                found.append((f"{method.upper()} {path}", name, example["value"]))
    return found


EXAMPLES = _examples()


def test_every_body_operation_has_examples() -> None:
    """Every operation that takes a body shows at least one realistic example."""
    document = json.loads(render())
    with_body = {
        f"{m.upper()} {p}"
        for p, item in document["paths"].items()
        for m, op in item.items()
        if "requestBody" in op
    }
    assert with_body == {op for op, _, _ in EXAMPLES}
    # the measures of the registry among them
    assert {f"POST {m.route}" for m in MEASURES} <= with_body


@pytest.mark.parametrize(
    ("operation", "name", "body"), EXAMPLES, ids=[f"{o} {n}" for o, n, _ in EXAMPLES]
)
def test_example_succeeds(
    client: TestClient, operation: str, name: str, body: dict[str, Any]
) -> None:
    method, path = operation.split(" ")
    r = client.request(method, path, json=body)
    if path == "/v1/experiments":
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "queued" and r.json()["config"]["dataset"] == body["dataset"]
        return
    if path.startswith("/v1/drift/references"):  # 201; a check needs the example reference
        from app.api.drift import REFERENCE_EXAMPLE

        made = client.post("/v1/drift/references", json=REFERENCE_EXAMPLE)
        assert made.status_code == 201, made.text
        r = client.request(method, path.replace("{name}", REFERENCE_EXAMPLE["name"]), json=body)
        assert r.status_code == 201 and r.json()["version"] >= 1, r.text
        return
    assert r.status_code == 200, r.text
    if r.headers["content-type"] == "image/svg+xml":
        assert r.text.startswith("<svg")
        return
    body = r.json()
    # the headline of the answer; answers of several quantities (joint tables, histograms)
    # have none, and must then not be empty
    value = body["best"] if path == "/v1/model-fit" else body.get("value", body)
    assert value is not None and value != [] and value != {}


def test_problem_responses_are_documented() -> None:
    document = json.loads(render())
    operation = document["paths"]["/v1/kl-divergence"]["post"]
    assert "application/problem+json" in operation["responses"]["422"]["content"]
    assert "Problem" in document["components"]["schemas"]


def test_operation_titles_read_as_words() -> None:
    """Swagger shows each operation's summary: "KL divergence", never "Kl Divergence"."""
    import re

    from app.main import create_app

    for path, operations in create_app().openapi()["paths"].items():
        for method, operation in operations.items():
            summary = operation["summary"]
            assert summary[0].isupper(), (method, path, summary)
            assert not re.search(r"\b(Kl|Js|Svg|Png)\b", summary), (method, path, summary)
