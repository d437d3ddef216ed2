"""Feeding ``plateau(...)`` the metric a trainer measured: read the monitored
metric from what the trainer logged, say so when it is missing (an error or a
warning, as the trainer's own plateau would), and give it to the schedulers.

Shared by the Keras callbacks (:mod:`lrdsl.emit.keras`,
:mod:`lrdsl.emit.keras_plan`), Lightning's :class:`~lrdsl.lightning.PlateauFeed`,
the HuggingFace :class:`~lrdsl.hf.PlateauCallback` and the timm-style
:class:`~lrdsl.timm.Scheduler`.  Imports no framework.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..language.errors import LrdslError


def monitored(
    metrics: Mapping[str, Any] | None,
    key: str,
    missing: str,
    *,
    strict: bool = False,
    hints: Sequence[str] = (),
    category: type[Warning] = UserWarning,
    stacklevel: int = 2,
) -> Any:
    """``metrics[key]``, or None when it is absent (or None).  Then ``missing``
    (formatted with ``key``, ``names``: the sorted names logged, and
    ``listed``: them as logged, comma-separated) is an
    :class:`~lrdsl.LrdslError` (E0607, with ``hints``) when ``strict``, else a
    warning of ``category`` (``stacklevel`` counts from the caller, as for
    :func:`warnings.warn`)."""
    metrics = metrics if metrics is not None else {}
    value = metrics.get(key)
    if value is None:
        message = missing.format(key=key, names=sorted(metrics), listed=", ".join(metrics))
        if strict:
            raise LrdslError(message, code="E0607", hints=list(hints))
        warnings.warn(message, category, stacklevel=stacklevel + 1)
    return value


def feed(scheds: Iterable[Any], metric: Any) -> bool:
    """``sched.observe(metric)`` for each DSLScheduler (its step does not move; a
    cut applies from the current step); a None metric is no report.  Whether
    it fed them."""
    if metric is None:
        return False
    for sched in scheds:
        sched.observe(metric)
    return True
