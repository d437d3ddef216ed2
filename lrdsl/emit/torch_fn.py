"""PyTorch emitter, on-device: a schedule as a function of a step tensor.

    fn = lrdsl.compile("warmup(500) >> cosine(9500, min=1e-6)", base_lr=3e-4).to_torch_fn()
    lr = fn(torch.tensor(1234))          # a 0-d float64 tensor; any shape of steps works

The function evaluates the compiled program with torch operations through the
same per-primitive formulas as the numpy reference (the array namespace of
:mod:`lrdsl.backends.torch_ops`): integers for segments, cycles and stairs, a
chain of ``torch.where`` over pieces, no Python branch on a value, no
``.item()``.  So ``torch.compile(fn, fullgraph=True)`` traces it into one graph,
and a whole training step that computes its lr from a step counter can be
compiled and captured with it.  In float64 (the default) it is within 1e-12
relative of ``Schedule.values``; in float32 (``dtype=torch.float32``, steps in
int32) within the emitters' float32 bound (1e-6 relative, 1e-9 absolute, or
two float32 ulps of the peak where a formula subtracts nearly equal values).
Steps outside ``[0, 2**53)`` give NaN (a Python int is checked and refused,
E0401).  ``plateau`` is refused (E0801): a function of the step never sees a
metric; use :class:`lrdsl.torch.DSLScheduler`, which updates a tensor lr in place.

CUDA graphs: keep the step and the lr as static device tensors and update
them in place inside the compiled (captured) region, so each replay advances
the schedule with no host work and no host synchronisation::

    step = torch.zeros((), dtype=torch.int64, device="cuda")
    opt = torch.optim.AdamW(params, lr=torch.tensor(3e-4, device="cuda"), capturable=True)
    lr_of = sched.to_torch_fn()

    @torch.compile(mode="reduce-overhead")   # CUDA graphs through torch.compile
    def opt_step():
        opt.param_groups[0]["lr"].copy_(lr_of(step))   # the lr of the step about to run
        opt.step()
        step.add_(1)

Never rebind ``step`` or the lr (``step = step + 1`` makes a tensor the
captured graph does not read); ``copy_``/``add_`` write into the captured
memory.  Called eagerly, the function makes its constant tables on each call
(a host-to-device copy), which a manual ``torch.cuda.graph`` capture does not
allow: capture the function compiled by ``torch.compile`` (run once before
capture, as capture needs anyway), whose constants live in the compiled graph.  (Checked on
the CPU under ``torch.compile``; no GPU was at hand for the capture itself.)
Importing this module imports torch.
"""

from __future__ import annotations

from typing import Any

import torch

from ..backends.tensor import guarded
from ..backends.torch_ops import TorchOps, torch_lib
from ..reactive import refuse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..schedule import Schedule

__all__ = ["to_torch_fn"]

_TYPES = {torch.float64: ("float64", "int64"), torch.float32: ("float32", "int32")}


def to_torch_fn(schedule: Schedule, *, dtype: torch.dtype = torch.float64, device: Any = None) -> Callable[[Any], Any]:
    """``fn(step) -> lr``: the schedule at a step tensor (or a Python int), as a
    tensor of ``dtype`` (float64 with int64 steps, or float32 with int32 steps)
    in the shape of the steps.  Its constant tables are made on ``device``
    (default: torch's default device); called eagerly on steps of another
    device it makes tables there too, but under ``torch.compile`` pass the
    device the steps live on."""
    refuse(schedule, "a torch function of the step", "use lrdsl.torch.DSLScheduler (it updates a tensor lr in place)")
    if dtype not in _TYPES:
        from ..language.errors import LrdslError

        raise LrdslError(f"to_torch_fn computes in torch.float64 or torch.float32, not {dtype}", code="E0305")
    fdtype, idtype = _TYPES[dtype]
    root = schedule.program.root
    home = torch.device(device) if device is not None else torch.get_default_device()
    # made before any trace: dynamo reads the namespace objects, it does not build them
    made = {home: TorchOps(torch_lib(home, fdtype, idtype), fdtype, idtype)}

    def lr(step: Any) -> Any:
        dev = step.device if isinstance(step, torch.Tensor) else home
        ops = made.get(dev)
        if ops is None:  # eager use on another device: its own constants
            ops = made[dev] = TorchOps(torch_lib(dev, fdtype, idtype), fdtype, idtype)
        return guarded(ops, root, step)

    lr.__doc__ = f"The lrdsl schedule {schedule.canonical!r} (base_lr={schedule.base_lr!r}) at a step tensor."
    return lr
