"""Realistic request examples, shown in the OpenAPI document and sent by the tests."""

from __future__ import annotations

from typing import Any

__all__ = ["MEASURE_EXAMPLES", "PAIR_EXAMPLES", "PARAMETER_EXAMPLES", "SINGLE_EXAMPLES"]

# The article's space worms: observed teeth counts 0..10 as probabilities, and a
# uniform model over the same 11 events.
WORMS = [0.02, 0.03, 0.05, 0.14, 0.16, 0.15, 0.12, 0.08, 0.1, 0.08, 0.07]
UNIFORM_11 = [1 / 11] * 11

SINGLE_EXAMPLES: dict[str, dict[str, Any]] = {
    "coin": {
        "summary": "A biased coin, in bits",
        "value": {"p": [0.9, 0.1], "unit": "bits"},
    },
    "labels": {
        "summary": "Labelled events",
        "value": {"p": {"sunny": 0.6, "cloudy": 0.3, "rain": 0.1}},
    },
    "counts": {
        "summary": "Raw counts, normalised",
        "value": {"p": [12, 30, 58], "normalize": True, "unit": "bits"},
    },
    "batch": {
        "summary": "A batch: one distribution per row",
        "value": {"p": [[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]]},
    },
}

PAIR_EXAMPLES: dict[str, dict[str, Any]] = {
    "worms": {
        "summary": "Observed worm teeth against a uniform model",
        "value": {"p": WORMS, "q": UNIFORM_11, "unit": "bits"},
    },
    "labels": {
        "summary": "Label maps, aligned on the union of labels",
        "value": {
            "p": {"cat": 0.7, "dog": 0.2, "bird": 0.1},
            "q": {"cat": 0.5, "dog": 0.3, "bird": 0.15, "fish": 0.05},
        },
    },
    "smoothed": {
        "summary": "A model that misses an event, with opt-in additive smoothing",
        "value": {
            "p": [0.5, 0.3, 0.2],
            "q": [0.6, 0.4, 0.0],
            "smoothing": {"method": "additive", "alpha": 0.01, "apply_to": "q"},
        },
    },
    "batch": {
        "summary": "A batch of predictions against one target",
        "value": {"p": [[0.8, 0.2], [0.6, 0.4]], "q": [0.5, 0.5], "unit": "nats"},
    },
}

# Fields a measure's parameters add to every example of its arity.
PARAMETER_EXAMPLES: dict[str, dict[str, Any]] = {
    "renyi_divergence": {"alpha": 2},
    "renyi_entropy": {"alpha": 2},
    "tsallis_entropy": {"order": 2},
    "tsallis_divergence": {"order": 2},
}

# Measures whose examples are their own rather than those of their arity.
MEASURE_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "weighted_js_divergence": {
        "three": {
            "summary": "Three distributions, equal weights, in bits",
            "value": {"p": [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]], "unit": "bits"},
        },
        "weighted": {
            "summary": "Two distributions, unequal weights",
            "value": {"p": [[0.9, 0.1], [0.2, 0.8]], "weights": [0.25, 0.75]},
        },
    },
    "wasserstein_distance": {
        "positions": {
            "summary": "Mass moved along positions 0, 1, 5",
            "value": {"p": [0.5, 0.5, 0.0], "q": [0.0, 0.5, 0.5], "positions": [0, 1, 5]},
        },
        "default": {
            "summary": "Events at 0, 1, ..., n-1 by default",
            "value": {"p": WORMS, "q": UNIFORM_11},
        },
    },
    "compare": {
        **PAIR_EXAMPLES,
        "chosen": {
            "summary": "A chosen set of measures",
            "value": {
                "p": WORMS,
                "q": UNIFORM_11,
                "measures": ["kl_divergence", "hellinger_distance", "population_stability_index"],
            },
        },
    },
}
