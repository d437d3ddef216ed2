"""JAX / optax emitter: a jit-traceable ``step -> lr`` function.

    sched = lrdsl.compile("warmup(1000) >> cosine(9000, min=1e-6)", base_lr=3e-4)
    tx = optax.adamw(learning_rate=sched.to_optax())
    # or optax.inject_hyperparams(optax.adamw)(learning_rate=sched.to_optax())

The function evaluates the compiled program with ``jax.numpy`` through the same
per-primitive formulas as the numpy reference, so it works under ``jax.jit``
and ``jax.vmap`` and inside optax's update.  Integer parts (segments, cycles,
stairs) stay integers, so restart boundaries are exact.  It computes in float64
when ``jax_enable_x64`` is on (within 1e-13 of the reference), else in float32:
within 1e-6 relative of the float64 reference, or two float32 ulps of the
schedule's peak where a formula subtracts nearly equal values (1cycle's rising
cosine phase).

A plan (several hyperparameters) becomes the keyword arguments of
``optax.inject_hyperparams``: ``lrdsl.jax.hyperparams(plan, optax.adamw,
learning_rate=3e-4, b1=0.9)`` or ``lrdsl.jax.inject_hyperparams(optax.adamw,
plan, ...)``, in :mod:`lrdsl.emit.jax_plan`.
Importing this module imports jax.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..backends.tensor import TensorOps, guarded, jax_lib
from ..reactive import refuse
from .jax_plan import hyperparams, inject_hyperparams, optax_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..schedule import Schedule

__all__ = ["hyperparams", "inject_hyperparams", "optax_name", "to_optax"]


def to_optax(schedule: Schedule) -> Callable[[Any], Any]:
    """An optax-style schedule: ``fn(count) -> lr`` for a step count (array or scalar)."""
    refuse(schedule, "an optax schedule", "use optax.contrib.reduce_on_plateau, or lrdsl.torch / lrdsl.keras")
    root = schedule.program.root
    x64 = bool(jax.config.jax_enable_x64)  # type: ignore[attr-defined]
    fdtype, idtype = ("float64", "int64") if x64 else ("float32", "int32")
    ops = TensorOps(jax_lib(), fdtype, idtype)

    def lr(count: Any) -> Any:
        return guarded(ops, root, count if isinstance(count, (int, np.integer, np.ndarray)) else jnp.asarray(count))

    lr.__doc__ = f"The lrdsl schedule {schedule.canonical!r} (base_lr={schedule.base_lr!r}) at step `count`."
    return lr
