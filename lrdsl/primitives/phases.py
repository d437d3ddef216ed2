"""Registry stage, phases: :attr:`lrdsl.Schedule.phases`, each top-level
segment's first value and its exact min and max (:mod:`.extent`), with every
phase's steps evaluated in one kernel call.
"""

from __future__ import annotations

import math
from functools import partial

from .. import backends
from ..language.domain import STEP_LIMIT
from ..language.ir import Phase, Program
from .extent import Extent, Inexact
from .ranges import BREAKS, MONOTONE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..schedule import Schedule

#: Phases longer than this are sampled, not evaluated at every step, for lo/hi
#: (with both ends): a phase costs at most this many evaluations.
_PHASE_EXACT = 1 << 12
#: ... and at most about this many node evaluations (a segment of many nodes, such
#: as a sum of 100 restart schedules, gets fewer samples, but at least _PHASE_MIN).
_PHASE_BUDGET = 1 << 16
_PHASE_MIN = 256
#: Pieces a phase's structure may be cut into (shared out among a chain's
#: segments, at least _PHASE_MIN_BUDGET each) before periodic parts are reduced.
_PHASE_MIN_BUDGET = 1 << 10
#: Node-steps a schedule's phases may evaluate one by one where their structure
#: does not give the extremes (a sum of two periodic schedules): beyond, sampled.
_PHASE_DENSE = 1 << 20
#: Steps sampled for a sampled segment that runs on with no total to stop it.
_PHASE_WINDOW = 1 << 20


def compute_phases(self: Schedule) -> tuple[Phase, ...]:
    """Each phase's min and max from its structure (:mod:`lrdsl.primitives.extent`:
    the steps where they are taken, O(pieces) whatever the length), sampled
    (and marked inexact) only where that is not known.  Every phase's steps
    are evaluated in one kernel call."""
    import numpy as np

    segments = self.program.segments()
    ext = Extent(partial(node_values, self), budget=max(_PHASE_MIN_BUDGET, _PHASE_BUDGET // len(segments)))
    ext.dense_left = _PHASE_DENSE
    spans: list[tuple[int, Any, int, int, bool]] = []  # (start, node, first sample, samples, exact)
    chunks: list[Any] = []
    offset = 0
    for start, node in segments:
        length = node.length  # type: ignore[attr-defined]
        if length is not None:
            stop = start + length
        elif self.total_steps is not None:
            stop = max(self.total_steps, start + 1)
        else:  # runs on: its range over every step lrdsl evaluates
            stop = STEP_LIMIT
        stop = min(stop, STEP_LIMIT)  # steps past the domain are never evaluated
        steps, exact = _phase_steps(np, ext, node, start, stop, length is None and self.total_steps is None)
        spans.append((start, node, offset, len(steps), exact))
        chunks.append(steps)
        offset += len(steps)
    vals = self.values(np.concatenate(chunks)) if offset else np.empty(0)
    out = []
    for start, node, first, count, exact in spans:
        length = node.length  # type: ignore[attr-defined]
        end = None if length is None else start + length
        if count == 0:
            out.append(Phase(start, end, node.op, node.label, math.nan, math.nan, math.nan, True))  # type: ignore[attr-defined]
            continue
        v = vals[first : first + count]
        out.append(Phase(start, end, node.op, node.label, float(v[0]), float(v.min()), float(v.max()), exact))  # type: ignore[attr-defined]
    return tuple(out)


def node_values(self: Schedule, node: Any) -> Any:
    """A function from local steps (int64, any order) to ``node``'s values:
    the C kernel for the node's subtree, or the reference backend."""
    import numpy as np

    if self._kernel is None:
        return lambda steps: backends.reference_values(node, steps, None)
    kernel = self._kernel if node is self.program.root else backends.kernel_for(Program(node, 1.0, None, None))

    def values(steps: Any) -> Any:
        flat = np.ascontiguousarray(steps, dtype=np.int64).reshape(-1)
        out = np.empty(flat.shape, dtype=np.float64)
        if kernel.values(flat, out) == 1:  # type: ignore[union-attr]
            order = np.argsort(flat, kind="stable")
            tmp = np.empty(flat.shape, dtype=np.float64)
            kernel.values(flat[order], tmp)  # type: ignore[union-attr]
            out[order] = tmp
        return out

    return values


def _monotone_breaks(node: Any) -> list[int] | None:
    """The breaks of a monotone or piecewise-monotone primitive (``None``: another kind)."""
    if node.op in MONOTONE:
        return []
    breaks = BREAKS.get(node.op)
    return None if breaks is None else breaks(node.params)


def _phase_steps(np: Any, ext: Extent, node: Any, start: int, stop: int, open_: bool) -> tuple[Any, bool]:
    """The global steps to evaluate for a phase over ``[start, stop)``, and
    whether they hold its exact min and max (else they are samples)."""
    n = stop - start
    if n <= 0:  # starts past the step domain: never reached
        return np.empty(0, dtype=np.int64), True
    if node.length is None or n <= node.length:  # a plain primitive: its ends and breaks, no arrays to build
        breaks = _monotone_breaks(node)
        if breaks is not None:
            local = {0, n - 1, *(b + d for b in breaks if 0 < b < n for d in (-1, 0, 1) if 0 <= b + d < n)}
            return np.asarray(sorted(local), dtype=np.int64) + start, True
    ext.used = 0
    try:
        local = ext.candidates(node, 0, n)
        return np.union1d(local, [0]).astype(np.int64) + start, True
    except Inexact:
        pass
    size = sum(1 for _ in node.walk())
    if n * size <= ext.dense_left:  # short enough to evaluate whole, in chunks: exact
        ext.dense_left -= n * size
        keep = [0]
        for lo in range(0, n, 1 << 16):
            v = ext.evaluate(node, np.arange(lo, min(n, lo + (1 << 16)), dtype=np.int64))
            keep += [lo + int(np.argmin(v)), lo + int(np.argmax(v))]
        return np.unique(np.asarray(keep, dtype=np.int64)) + start, True
    if open_:  # runs on without a total: sample a window
        stop = start + min(n, _PHASE_WINDOW)
    # each sample evaluates the segment's whole tree: a large tree gets fewer samples
    samples = max(_PHASE_MIN, min(_PHASE_EXACT, _PHASE_BUDGET // sum(1 for _ in node.walk())))
    if stop - start <= samples:
        return np.arange(start, stop, dtype=np.int64), True
    return np.unique(np.linspace(start, stop - 1, samples).astype(np.int64)), False
