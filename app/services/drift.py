"""Drift monitoring: references, checks of windows against them, their history and pictures.

Every reference belongs to the client that made it (a :class:`Caller`) and is addressed by
its name in that client's namespace; another client's reference answers 404 as a missing one
does. An admin key lists everybody's and addresses another client's with ``owner``.
Creating a name again makes its next version; reads and checks use the newest version
unless one is named; deleting a name deletes every version and its checks (or one version).

A check is computed (``drift_features``, then the kernels in one vectorised pass), stored
with its reference version, and returned; beyond ``DIVERGENCE_DRIFT_MAX_CHECKS`` checks of
a version the oldest is dropped. Verdicts: a measure's value falls in a band of its
thresholds (below ``moderate``: no drift; from ``drift``: drift); with a bootstrap, a band
other than no drift counts only when the value is significant (``p_value <= 1 -
confidence``), so that sampling noise alone raises a false alarm in at most about
``1 - confidence`` of windows. A feature's verdict is the worst of its measures', the
check's the worst of its features'.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from app.config import Settings
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.infotheory.drift import drift, padded_slots
from app.jobs.drift_store import DriftStore, ReferenceQuotaError
from app.jobs.models import DriftReferenceRow
from app.jobs.transitions import utcnow
from app.schemas.drift import (
    DEFAULT_THRESHOLDS,
    VERDICTS,
    CheckList,
    CheckRequest,
    DriftCheck,
    FeatureCheck,
    MeasureCheck,
    Reference,
    ReferenceCreate,
    ReferenceList,
    ReferenceSummary,
    StoredFeature,
    Thresholds,
    dump,
)
from app.services.callers import Caller
from app.services.drift_features import (
    applies,
    build_feature,
    drift_feature,
    measure_at,
    slot_names,
    window_counts,
)
from app.services.drift_plot import drift_svg

__all__ = ["Drift", "worst"]


def worst(verdicts: list[str | None]) -> str | None:
    """The worst of some verdicts (None: none given)."""
    ranked = [VERDICTS.index(v) for v in verdicts if v is not None]
    return VERDICTS[max(ranked)] if ranked else None


def _band(value: float, thresholds: Thresholds) -> str:
    if value >= thresholds.drift:
        return "drift"
    return "moderate" if value >= thresholds.moderate else "no drift"


def _base(name: str) -> str:
    return f"/v1/drift/references/{name}"


class Drift:
    """The drift references and checks of one deployment, as a caller may see and change
    them."""

    def __init__(self, store: DriftStore, settings: Settings) -> None:
        self.store, self.settings = store, settings

    # -- references ------------------------------------------------------------------------

    def create(self, request: ReferenceCreate, who: Caller) -> Reference:
        """A new reference (or the next version of its name); 422 beyond the caps, 409 beyond
        the client's quota."""
        limit = self.settings.drift_max_features
        if len(request.features) > limit:
            msg = f"has {len(request.features)} features, more than {limit} "
            raise InvalidInputError(
                ["features"], msg + "(DIVERGENCE_DRIFT_MAX_FEATURES)", "too_large"
            )
        features = {
            name: build_feature(name, spec, self.settings)
            for name, spec in request.features.items()
        }
        spec = {
            "description": request.description,
            "thresholds": None
            if request.thresholds is None
            else {m: t.model_dump() for m, t in request.thresholds.items()},
            "features": {name: dump(f) for name, f in features.items()},
        }
        quota = self.settings.drift_max_references
        try:
            row = self.store.create(who.owner, request.name, spec, quota)
        except ReferenceQuotaError:
            detail = (
                f"you store {quota} drift reference versions already "
                "(DIVERGENCE_DRIFT_MAX_REFERENCES): delete some first"
            )
            raise ConflictError(detail) from None
        return self._resource(row, who, self.store.versions(who.owner, row.name))

    def page(self, who: Caller, limit: int, cursor: str | None) -> ReferenceList:
        """``who``'s references (an admin's: everybody's), the newest version of each name."""
        try:
            rows, next_cursor = self.store.page(who.scope, limit, cursor)
        except ValueError as exc:
            raise InvalidInputError(["cursor"], str(exc), "cursor") from None
        return ReferenceList(items=[self._summary(r, who) for r in rows], next_cursor=next_cursor)

    def get(
        self, name: str, who: Caller, version: int | None = None, owner: str | None = None
    ) -> Reference:
        """The reference (newest version unless one is named), or 404."""
        row = self._row(name, who, version, owner)
        return self._resource(row, who, self.store.versions(row.owner, name))

    def delete(
        self, name: str, who: Caller, version: int | None = None, owner: str | None = None
    ) -> None:
        """Delete every version of ``name`` (or one) and their checks; 404 if none."""
        if not self.store.delete(self._owner(who, owner), name, version):
            raise _missing(name, version)

    def _owner(self, who: Caller, owner: str | None) -> str:
        """Whose namespace a name is looked up in: one's own, or (admins) ``owner``'s."""
        if owner is None or owner == who.owner:
            return who.owner
        if not who.admin:
            raise NotFoundError("no such drift reference")  # another client's: as if absent
        return owner

    def _row(
        self, name: str, who: Caller, version: int | None, owner: str | None
    ) -> DriftReferenceRow:
        row = self.store.get(self._owner(who, owner), name, version)
        if row is None:
            raise _missing(name, version)
        return row

    def _summary(self, row: DriftReferenceRow, who: Caller) -> ReferenceSummary:
        latest = row.latest or {}
        return ReferenceSummary(
            name=row.name,
            version=row.version,
            owner=row.owner if who.admin else None,
            created_at=row.created_at,
            description=row.spec.get("description"),
            features=list(row.spec["features"]),
            latest_check=row.latest_at,
            latest_verdict=latest.get("verdict"),
            links=_links(row.name),
        )

    def _resource(self, row: DriftReferenceRow, who: Caller, versions: list[int]) -> Reference:
        summary = self._summary(row, who)
        return Reference(
            **summary.model_dump(exclude={"features"}),
            thresholds=row.spec.get("thresholds"),
            versions=versions,
            features={n: StoredFeature.model_validate(f) for n, f in row.spec["features"].items()},
        )

    # -- checks ----------------------------------------------------------------------------

    def check(
        self,
        name: str,
        request: CheckRequest,
        who: Caller,
        version: int | None = None,
        owner: str | None = None,
    ) -> DriftCheck:
        """Compare a window with the reference, store the check, and return it."""
        row = self._row(name, who, version, owner)
        check = compute_check(row, request, self.settings)
        stored = self.store.add_check(
            row,
            check.verdict,
            dump(check),
            _latest(check),
            self.settings.drift_max_checks,
            check.created_at,
            check.id,
        )
        if not stored:
            raise _missing(name, version)
        return check

    def checks(
        self,
        name: str,
        who: Caller,
        since: datetime | None,
        limit: int,
        cursor: str | None,
        version: int | None = None,
        owner: str | None = None,
    ) -> CheckList:
        """The stored checks of ``name`` (all versions, or one), newest first."""
        ids = self._ids(name, who, version, owner)
        try:
            rows, next_cursor = self.store.checks(ids, since, limit, cursor)
        except ValueError as exc:
            raise InvalidInputError(["cursor"], str(exc), "cursor") from None
        items = [DriftCheck.model_validate(r.result) for r in rows]
        return CheckList(items=items, next_cursor=next_cursor)

    def get_check(
        self, name: str, check_id: str, who: Caller, owner: str | None = None
    ) -> DriftCheck:
        row = self.store.check(self._ids(name, who, None, owner), check_id)
        if row is None:
            raise NotFoundError(f"no check {check_id} of drift reference {name}")
        return DriftCheck.model_validate(row.result)

    def _ids(self, name: str, who: Caller, version: int | None, owner: str | None) -> list[str]:
        ids = self.store.reference_ids(self._owner(who, owner), name, version)
        if not ids:
            raise _missing(name, version)
        return ids

    def plot(
        self,
        name: str,
        feature: str,
        who: Caller,
        limit: int,
        version: int | None = None,
        owner: str | None = None,
    ) -> str:
        """The feature's measures over its newest ``limit`` checks, with thresholds, as SVG."""
        row = self._row(name, who, version, owner)
        if feature not in row.spec["features"]:
            raise InvalidInputError(
                ["feature"], f"reference {name} has no feature {feature!r}", "unknown_feature"
            )
        ids = self.store.reference_ids(row.owner, name, version)
        rows, _ = self.store.checks(ids, None, limit, None)
        checks = [DriftCheck.model_validate(r.result) for r in reversed(rows)]
        return drift_svg(name, feature, checks)


def compute_check(row: DriftReferenceRow, request: CheckRequest, settings: Settings) -> DriftCheck:
    """The check of ``request``'s window against reference version ``row`` (not stored)."""
    stored = {n: StoredFeature.model_validate(f) for n, f in row.spec["features"].items()}
    window = request.window
    if len(window) > settings.drift_max_features:
        msg = f"has {len(window)} features, more than {settings.drift_max_features} "
        raise InvalidInputError(["window"], msg + "(DIVERGENCE_DRIFT_MAX_FEATURES)", "too_large")
    for name in window:
        if name not in stored:
            msg = f"reference {row.name} (version {row.version}) has no feature {name!r}"
            raise InvalidInputError(["window", name], msg, "unknown_feature")
    boot = request.bootstrap
    if boot.resamples > settings.drift_max_resamples:
        msg = f"at most {settings.drift_max_resamples} (DIVERGENCE_DRIFT_MAX_RESAMPLES)"
        raise InvalidInputError(["bootstrap", "resamples"], msg, "too_large")
    slots = sum(padded_slots(_slots(stored[n])) for n in window)
    work, cap = boot.resamples * slots, settings.drift_max_bootstrap_work
    if work > cap:
        msg = (
            f"resamples x slots = {boot.resamples} x {slots} = {work}, more than {cap} "
            "(DIVERGENCE_DRIFT_MAX_BOOTSTRAP_WORK): fewer resamples or features"
        )
        raise InvalidInputError(["bootstrap", "resamples"], msg, "too_large")
    names = list(window)
    counted = [window_counts(n, stored[n], window[n], settings) for n in names]
    features = [drift_feature(stored[n], c) for n, (c, _) in zip(names, counted, strict=True)]
    seed = boot.seed if boot.seed is not None else secrets.randbelow(2**63)
    echo = boot.model_copy(update={"seed": seed})
    alpha = 0.0 if request.smoothing is None else request.smoothing.alpha
    measures = list(dict.fromkeys(request.measures))
    results = drift(
        features,
        measures,
        alpha=alpha,
        resamples=boot.resamples,
        confidence=boot.confidence,
        seed=seed,
    )
    shared = row.spec.get("thresholds") or {}
    checked: dict[str, FeatureCheck] = {}
    for i, name in enumerate(names):
        feature, extra = stored[name], counted[i][1]
        own = feature.thresholds or {}
        per_measure: dict[str, MeasureCheck] = {}
        for m in measures:
            if not applies(m, feature):
                continue
            found = own.get(m) or shared.get(m) or DEFAULT_THRESHOLDS.get(m)
            limits = None if found is None else Thresholds.model_validate(found)
            value, low, high, p_value = measure_at(results[m], i)
            significant = None if p_value is None else p_value <= 1.0 - boot.confidence
            verdict = None if limits is None else _band(value, limits)
            if verdict is not None and significant is False:
                verdict = "no drift"
            blamed = results[m].infinite[i]
            per_measure[m] = MeasureCheck(
                value=value,
                interval=None if low is None else (low, high or 0.0),
                p_value=p_value,
                significant=significant,
                thresholds=limits,
                verdict=verdict,
                infinite_bins=slot_names(feature, blamed) if blamed else None,
            )
        checked[name] = FeatureCheck(
            kind=feature.kind,
            verdict=worst([c.verdict for c in per_measure.values()]),
            measures=per_measure,
            **extra,
        )
    check_id = str(uuid.uuid4())
    return DriftCheck(
        id=check_id,
        reference=row.name,
        version=row.version,
        created_at=utcnow(),
        verdict=worst([f.verdict for f in checked.values()]),
        measures=measures,
        bootstrap=echo,
        smoothing=request.smoothing,
        features=checked,
        links={"self": f"{_base(row.name)}/checks/{check_id}", "reference": _base(row.name)},
    )


def _slots(feature: StoredFeature) -> int:
    return len(feature.counts) + (2 if feature.kind == "numeric" else 1)


def _latest(check: DriftCheck) -> dict[str, Any]:
    """What the gauges read of a reference's newest check."""
    return {
        "verdict": check.verdict,
        "at": check.created_at.timestamp(),
        "features": {
            name: {
                "verdict": f.verdict,
                "values": {m: c.model_dump(mode="json")["value"] for m, c in f.measures.items()},
            }
            for name, f in check.features.items()
        },
    }


def _links(name: str) -> dict[str, str]:
    base = _base(name)
    return {"self": base, "checks": f"{base}/checks", "plot": f"{base}/plot"}


def _missing(name: str, version: int | None) -> NotFoundError:
    which = "" if version is None else f" version {version}"
    return NotFoundError(f"no drift reference {name}{which}")
