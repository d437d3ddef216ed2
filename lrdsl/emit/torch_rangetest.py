"""Smith's learning-rate range test on a PyTorch model: :func:`range_test`.

One batch per step, the lr of every param group raised along an lrdsl ramp
until the smoothed loss diverges; :mod:`lrdsl.tools.rangetest` runs the
ramp, smooths the losses and makes the suggestions, and this module supplies
the training step.  The model's and the optimizer's state (weights,
buffers, momenta, lrs, train/eval mode) are copied first and restored
afterwards, whether the test finishes, stops early or fails.  Importing this
module imports torch; it is public as ``lrdsl.torch.range_test``.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from ..language.errors import LrdslError
from ..tools.rangetest import RangeTestResult, run
from .torch_state import plain_float

__all__ = ["range_test"]


def range_test(
    model: torch.nn.Module,
    loss_fn: Any,
    loader: Any,
    optimizer: torch.optim.Optimizer,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    schedule: str = "exp",
    *,
    device: Any = None,
    beta: float = 0.98,
    diverge: float = 4.0,
) -> RangeTestResult:
    """The LR range test: one batch per step from ``loader`` (cycled if it runs
    out) with the lr of every param group raised from ``start`` to ``end`` along
    an lrdsl ramp, until the smoothed loss exceeds ``diverge`` times its best.

    Each batch is ``(inputs, targets)``; the loss is ``loss_fn(model(inputs),
    targets)`` (``model(*inputs)`` when ``inputs`` is a tuple or list), moved to
    ``device`` if given.  The model's and optimizer's state (weights, buffers,
    momenta, lrs, train/eval mode) are restored afterwards.  See
    :mod:`lrdsl.tools.rangetest` for how the suggestions are made.
    """
    model_state = copy.deepcopy(model.state_dict())
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    batches = _cycle(loader)

    def train_step(lr: float) -> float:
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = _to(next(batches), device)
        optimizer.zero_grad()
        outputs = model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        return plain_float(loss.detach())

    model.train()
    try:
        return run(train_step, start, end, steps, schedule, beta=beta, diverge=diverge)
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        optimizer.zero_grad()
        model.train(was_training)


def _cycle(loader: Any) -> Any:
    """The loader's batches, over and over; an empty loader is an error."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise LrdslError("the range test's loader yielded no batches", code="E0401")


def _to(batch: Any, device: Any) -> tuple[Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise LrdslError(f"the range test needs (inputs, targets) batches, got {type(batch).__name__}", code="E0305")
    if device is None:
        return batch[0], batch[1]

    def move(x: Any) -> Any:
        return x.to(device) if isinstance(x, torch.Tensor) else type(x)(map(move, x))

    return move(batch[0]), move(batch[1])
