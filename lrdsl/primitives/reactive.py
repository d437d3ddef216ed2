"""Registry stage: the reactive primitive, ``plateau``.

A plateau holds its level and cuts it by ``factor`` when a monitored metric
stops improving, exactly as torch's ``ReduceLROnPlateau`` decides (mode,
threshold, threshold_mode, patience, cooldown, min_lr, eps).  Its value needs
feedback: the compiled program records the reductions so far as ``cuts``
(local steps) and ``levels``, so every evaluator sees a staircase; the torch
scheduler, the Keras callback and ``lrdsl eval --metrics`` feed it (see
:mod:`lrdsl.reactive`).  Without feedback it holds its start value.
"""

from __future__ import annotations

from .base import BASE, ENUM, INT, NONNEGATIVE, REAL, VALUE, Domain, Param, Primitive
from .common import steps_param
from .kernel import table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def plateau_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in a.items() if not k.startswith("_")}
    out.setdefault("cuts", ())
    out.setdefault("levels", ())
    return out


def plateau_formula(xp, t, p):  # type: ignore[no-untyped-def]
    return xp.take((p.start, *p.levels), xp.searchsorted(p.cuts, t, "right"))


PLATEAU = Primitive(
    "plateau",
    (
        Param(
            "factor", REAL, 0.1, "multiply the lr by this on a plateau", domain=Domain(0, 1, lo_open=True, hi_open=True)
        ),
        Param("patience", INT, 10, "reports without improvement before a cut", domain=NONNEGATIVE),
        Param("mode", ENUM, "min", "whether lower or higher metric values are better", choices=("min", "max")),
        Param("threshold", REAL, 1e-4, "how much better counts as better", domain=NONNEGATIVE),
        Param("threshold_mode", ENUM, "rel", "threshold relative to the best, or absolute", choices=("rel", "abs")),
        Param("cooldown", INT, 0, "reports to wait after a cut", domain=NONNEGATIVE),
        Param("min_lr", VALUE, 0.0, "the lr never goes below this"),
        Param("eps", REAL, 1e-8, "cuts smaller than this are skipped", domain=NONNEGATIVE),
        Param("start", VALUE, BASE, "the level before any cut", positional=False),
        steps_param(),
    ),
    "reduce the lr when a metric stops improving (needs feedback)",
    """start until the metric stalls for more than `patience` reports, then
    max(level*factor, min_lr), as torch's ReduceLROnPlateau; fed by
    DSLScheduler.step(metric), the Keras callback or lrdsl eval --metrics.

    >>> lrdsl.compile("warmup(2) >> plateau(patience=3)")(2)
    1.0
    """,
    matches="torch ReduceLROnPlateau(mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps); Keras ReduceLROnPlateau",
    opcode=16,
    slots=lambda p: ([p["start"], *p["levels"]], list(p["cuts"])),
    check=table(1),
    formula=plateau_formula,
    prepare=plateau_prepare,
    length=lambda a: a["steps"],
    end="stair",
    kind="reactive",
)

ALL = (PLATEAU,)
