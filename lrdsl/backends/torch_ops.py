"""Evaluation stage: the array namespace on torch tensors, for the on-device
evaluator (:mod:`lrdsl.emit.torch_fn`).

:func:`torch_lib` adapts ``torch`` to the numpy-style module that
:class:`~lrdsl.backends.tensor.TensorOps` calls (``minimum``, ``expand_dims``,
``floor_divide``, ``take``...), so the per-primitive formulas run on torch
tensors exactly as they run on ``keras.ops`` and ``jax.numpy``: one chain of
``where`` over pieces, integers for everything discrete, no Python branch on a
value and no host synchronisation, which is what ``torch.compile(fullgraph=True)``
and CUDA-graph capture need.  Python numbers meeting a tensor become 0-d
tensors of the namespace's types (``torch.minimum`` and ``torch.where`` take
no Python float for a float64 result otherwise), tables become tensors on the
device of the steps.  torch is imported only when :func:`torch_lib` is called.
"""

from __future__ import annotations

import math

import numpy as np

from .tensor import Lib, TensorOps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _TorchModule:
    """The numpy-style calls :class:`~lrdsl.backends.tensor.TensorOps` makes,
    on torch, with constants made on ``device`` in the namespace's dtypes."""

    def __init__(self, torch: Any, device: Any, fdtype: str, idtype: str) -> None:
        self.torch = torch
        self.device = device
        self.fdtype = getattr(torch, fdtype)
        self.idtype = getattr(torch, idtype)
        for name in ("sin", "cos", "exp", "log", "sqrt", "floor", "log1p", "logical_and", "logical_or", "zeros_like"):
            setattr(self, name, getattr(torch, name))

    def _t(self, x: Any) -> Any:
        """A Python number as a 0-d tensor (float: the float type; int: the step type)."""
        if isinstance(x, self.torch.Tensor):
            return x
        if isinstance(x, (bool, np.bool_)):
            return self.torch.tensor(bool(x), device=self.device)
        if isinstance(x, (int, np.integer)):
            return self.torch.tensor(int(x), dtype=self.idtype, device=self.device)
        return self.torch.tensor(float(x), dtype=self.fdtype, device=self.device)

    def where(self, c: Any, a: Any, b: Any) -> Any:
        return self.torch.where(self._t(c), self._t(a), self._t(b))

    def minimum(self, a: Any, b: Any) -> Any:
        return self.torch.minimum(self._t(a), self._t(b))

    def maximum(self, a: Any, b: Any) -> Any:
        return self.torch.maximum(self._t(a), self._t(b))

    def power(self, a: Any, b: Any) -> Any:
        return self.torch.pow(self._t(a), self._t(b))

    def floor_divide(self, a: Any, b: Any) -> Any:
        return self.torch.div(self._t(a), b, rounding_mode="floor")

    def clip(self, x: Any, lo: Any, hi: Any) -> Any:
        return self.torch.clamp(x, lo, hi)

    def expand_dims(self, x: Any, axis: int) -> Any:
        return self.torch.unsqueeze(self._t(x), axis)

    def sum(self, x: Any, axis: int) -> Any:
        return self.torch.sum(x, dim=axis, dtype=x.dtype)

    def take(self, table: Any, i: Any) -> Any:
        # through a 1-d index: a 0-d one is read as a Python int (data-dependent) by
        # dynamo in table[i] and by inductor's decomposition of torch.take
        i = self._t(i).long()
        return self.torch.index_select(table, 0, i.reshape(-1)).reshape(i.shape)


class TorchOps(TensorOps):
    """:class:`~lrdsl.backends.tensor.TensorOps` with its tables and constant
    tests in plain Python (lists, :func:`math.frexp`), not numpy: dynamo folds
    those into the graph, where a numpy call inside a traced function breaks it."""

    def searchsorted(self, table: Any, t: Any, side: str) -> Any:
        m = self.lib.m
        entries = [int(v) for v in table if v <= self.top]  # past the step type's range: never reached
        if not entries:
            return m.zeros_like(t)
        tab = self.lib.constant(entries, self.idtype)
        hit = (tab <= m.expand_dims(t, -1)) if side == "right" else (tab < m.expand_dims(t, -1))
        return m.sum(self.lib.to(hit, self.idtype), axis=-1)

    def take(self, table: Any, i: Any) -> Any:
        return self.lib.m.take(self.lib.constant([float(v) for v in table], self.fdtype), i)

    def power(self, a: Any, b: Any) -> Any:
        if self.fdtype == "float32" and _drifts_in_float32(a):
            return self.lib.m.exp(self.f(b) * math.log(a))  # the log in float64 (see lrdsl.backends.tensor)
        return self.lib.m.power(self.f(a), self.f(b))


def _drifts_in_float32(a: Any) -> bool:
    """``lrdsl.backends.tensor``'s test, with float32 rounding done by
    :func:`math.frexp` (only normal numbers reach it: ``|log a| < 1``)."""
    if not isinstance(a, (int, float)) or a <= 0 or abs(math.log(a)) >= 1:
        return False
    mant, exp = math.frexp(a)
    return math.ldexp(round(mant * 2.0**24) / 2.0**24, exp) != a  # round() is round-half-even, as IEEE


def torch_lib(device: Any = None, fdtype: str = "float64", idtype: str = "int64") -> Lib:
    """The :class:`~lrdsl.backends.tensor.Lib` over torch for :class:`TensorOps`
    computing in ``fdtype`` with steps of ``idtype``, its constants on ``device``."""
    import torch

    m = _TorchModule(torch, device, fdtype, idtype)

    def to(x: Any, dtype: str) -> Any:
        return m._t(x).to(getattr(torch, dtype))

    def constant(x: Any, dtype: str) -> Any:
        return torch.tensor(x, dtype=getattr(torch, dtype), device=device)

    return Lib(m, to, constant)


__all__ = ["TorchOps", "torch_lib"]
