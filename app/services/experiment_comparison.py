"""What an experiment shows: every loss against the baseline, and why they differ or not.

Per other loss: the per-epoch gaps (the mean over seeds), the gradient check the worker made
at each seed's initial weights, the test-accuracy gap paired by seed with a 95% t interval,
and a verdict in words. For KL divergence against cross-entropy the per-epoch training-loss
gap is checked against the identity ``H(y, q) = H(y) + D(y || q)``: the two differ by the
targets' entropy ``H(y)``, which the model cannot change, so their gradients are the same.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np

from app import infotheory as it
from app.catalog import DATASETS
from app.schemas.experiments import (
    CROSS_ENTROPY,
    KL,
    AccuracyGap,
    Comparison,
    ComparisonEpoch,
    ExperimentConfig,
    GradientCheck,
    LossComparison,
    RunResult,
    SeedRun,
)
from app.services.experiment_stats import mean_interval

__all__ = ["comparison", "target_entropy"]

# Gradients whose cosine is at least this close to 1 point the same way (float32 gradients
# of the same function agree to about 1e-7 in each component).
SAME_DIRECTION = 1.0 - 1e-6


def target_entropy(config: ExperimentConfig) -> float | None:
    """The entropy H(y) in nats of every training target: (1 - s) * one_hot + s / classes;
    None with mixup, whose targets' entropy varies from row to row (the worker measures it)."""
    if config.mixup > 0:
        return None
    classes = DATASETS[config.dataset].classes
    s = config.label_smoothing
    row = np.full(classes, s / classes)
    row[0] += 1.0 - s
    return float(it.entropy(row))


def _gap(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if len(present) == len(values) and present else None


def _per_epoch(
    pairs: list[tuple[RunResult, RunResult]],
    identity_sign: float | None,
    entropy: float | None,
) -> list[ComparisonEpoch]:
    """Epoch by epoch, the mean gap over the seeds whose two runs both finished it."""
    out: list[ComparisonEpoch] = []
    epochs = sorted({e.epoch for run, _ in pairs for e in run.history})
    for epoch in epochs:
        matched = []
        for run, base in pairs:
            a = next((e for e in run.history if e.epoch == epoch), None)
            b = next((e for e in base.history if e.epoch == epoch), None)
            if a is not None and b is not None:
                matched.append((a, b))
        if not matched:
            continue
        loss_gap = statistics.fmean(a.loss - b.loss for a, b in matched)
        out.append(
            ComparisonEpoch(
                epoch=epoch,
                loss_gap=loss_gap,
                accuracy_gap=statistics.fmean(a.accuracy - b.accuracy for a, b in matched),
                val_loss_gap=_mean([_gap(a.val_loss, b.val_loss) for a, b in matched]),
                val_accuracy_gap=_mean([_gap(a.val_accuracy, b.val_accuracy) for a, b in matched]),
                identity_residual=(
                    None
                    if identity_sign is None or entropy is None
                    else loss_gap + identity_sign * entropy
                ),
            )
        )
    return out


def _accuracy_gap(
    pairs: list[tuple[RunResult, RunResult]], loss: str, baseline: str
) -> AccuracyGap:
    runs = [
        SeedRun(
            seed=run.seed or 0,
            test_accuracy=run.test_accuracy,
            baseline_test_accuracy=base.test_accuracy,
            gap=run.test_accuracy - base.test_accuracy,
        )
        for run, base in pairs
        if run.test_accuracy is not None and base.test_accuracy is not None
    ]
    if not runs:
        return AccuracyGap(
            runs=[], mean=None, sd=None, interval=None, seed_sd=None, distinguishable=None
        )
    mean, sd, interval = mean_interval([r.gap for r in runs])
    several = len(runs) >= 2
    seed_sd = None
    if several:
        seed_sd = {
            loss: statistics.stdev(r.test_accuracy for r in runs),
            baseline: statistics.stdev(r.baseline_test_accuracy for r in runs),
        }
    return AccuracyGap(
        runs=runs,
        mean=mean,
        sd=sd if several else None,
        interval=interval,
        seed_sd=seed_sd,
        distinguishable=None if interval is None else not (interval[0] <= 0.0 <= interval[1]),
    )


def _verdict(
    loss: str,
    baseline: str,
    checks: list[GradientCheck],
    gap: AccuracyGap,
    entropy: float | None,
) -> str:
    words: list[str] = []
    identity_pair = {loss, baseline} == {KL, CROSS_ENTROPY}
    cosines = [c.cosine for c in checks if c.cosine is not None]
    if checks and cosines:
        worst = min(cosines)
        largest = max(c.max_abs_difference for c in checks)
        norm = max(c.baseline_norm for c in checks)
        same = "the same gradient" if worst >= SAME_DIRECTION else "different gradients"
        words.append(
            f"At the initial weights {loss} and {baseline} have {same} (cosine {worst:.8f}, "
            f"largest difference {largest:.2g} in a gradient of norm {norm:.2g})."
        )
    elif not checks:
        words.append("No gradient check was made (it needs the TensorFlow backend).")
    if identity_pair:
        here = "measured when the job ends" if entropy is None else f"here {entropy:.4g} nats"
        words.append(
            f"They must: H(y, q) = H(y) + D(y || q), and H(y) ({here}) does "
            "not depend on the model, so minimising either is the same objective; what "
            "differs between the runs comes from Keras' implementation (KLDivergence clips y "
            "and q to [1e-7, 1], cross-entropy goes through the logits) and floating point."
        )
    if gap.mean is not None:
        n = len(gap.runs)
        if gap.interval is None:
            words.append(
                f"With one seed the test-accuracy gap is {gap.mean:+.4f}; train with "
                "repeats of 2 or more to tell a gap from seed noise."
            )
        else:
            low, high = gap.interval
            noise = ", ".join(f"{k} {v:.4f}" for k, v in (gap.seed_sd or {}).items())
            judged = (
                "a difference beyond seed noise"
                if gap.distinguishable
                else "no difference beyond seed noise"
            )
            words.append(
                f"Over {n} seeds the test-accuracy gap ({loss} minus {baseline}) is "
                f"{gap.mean:+.4f}, 95% interval {low:+.4f} to {high:+.4f} (sd across seeds: "
                f"{noise}): the interval {'excludes' if gap.distinguishable else 'contains'} "
                f"0, {judged}."
            )
    return " ".join(words)


def comparison(
    config: ExperimentConfig, runs: list[RunResult], train_target_entropy: float | None = None
) -> Comparison | None:
    """Every other loss against the baseline; None until one pair has finished epochs.

    ``train_target_entropy`` is the mean H(y) of the training targets as the worker measured
    it (in the finished job's result); without it the closed form of the configuration is
    used, and with mixup, which has none, the identity residuals stay None."""
    baseline = config.comparison_baseline()
    by_run = {(r.loss, r.seed): r for r in runs}
    entropy = target_entropy(config) if train_target_entropy is None else train_target_entropy
    against: list[LossComparison] = []
    for loss in config.losses:
        if loss == baseline:
            continue
        pairs = [
            (by_run[(loss, seed)], by_run[(baseline, seed)])
            for seed in config.run_seeds()
            if (loss, seed) in by_run and (baseline, seed) in by_run
        ]
        pairs = [(a, b) for a, b in pairs if a.history and b.history]
        if not pairs:
            continue
        sign = {(KL, CROSS_ENTROPY): 1.0, (CROSS_ENTROPY, KL): -1.0}.get((loss, baseline))
        checks = [run.gradient_check for run, _ in pairs if run.gradient_check is not None]
        gap = _accuracy_gap(pairs, loss, baseline)
        against.append(
            LossComparison(
                loss=loss,
                baseline=baseline,
                per_epoch=_per_epoch(pairs, sign, entropy),
                test_accuracy_gap=gap,
                gradient_checks=checks,
                verdict=_verdict(loss, baseline, checks, gap, entropy),
            )
        )
    if not against:
        return None
    accuracy: dict[str, float] = {}
    for loss in config.losses:
        values = [r.test_accuracy for r in runs if r.loss == loss and r.test_accuracy is not None]
        if values:
            accuracy[loss] = statistics.fmean(values)
    identities = [r.identity for r in runs if r.identity is not None]
    return Comparison(
        baseline=baseline,
        against_baseline=against,
        verdict=" ".join(c.verdict for c in against),
        per_epoch=against[0].per_epoch,
        test_accuracy=accuracy,
        test_accuracy_gap=_gap(accuracy.get(KL), accuracy.get(CROSS_ENTROPY)),
        label_entropy=identities[0].label_entropy if identities else None,
        cross_entropy_minus_kl_equals_label_entropy=(
            all(i.holds for i in identities) if identities else None
        ),
    )
