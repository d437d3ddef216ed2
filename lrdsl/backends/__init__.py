"""Evaluation stage: backend selection.

The compiled C kernel (``lrdsl._kernel``, built from ``ext/``) evaluates
programs when it is importable; otherwise the numpy reference evaluator does,
and :func:`backend_reason` says why the kernel is missing.  ``LRDSL_BACKEND=numpy``
in the environment (or :func:`force` in tests) selects the reference backend
even when the kernel is built.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..language.ir import Node, Program

_STATE: dict[str, object] = {}


def _load() -> object:
    if "kernel" not in _STATE:
        if os.environ.get("LRDSL_BACKEND", "").lower() == "numpy":
            _STATE["kernel"] = None
            _STATE["reason"] = "LRDSL_BACKEND=numpy selects the reference evaluator"
            return None
        try:
            from .. import _kernel  # type: ignore[attr-defined]

            _STATE["kernel"] = _kernel
            _STATE["reason"] = ""
        except ImportError as err:
            _STATE["kernel"] = None
            _STATE["reason"] = f"the C extension lrdsl._kernel is not built ({err})"
    return _STATE["kernel"]


def force(name: str | None) -> None:
    """Select ``'numpy'`` or ``'cython'`` for schedules compiled from now on
    (``None``: back to the default).  For tests and benchmarks."""
    _STATE.clear()
    if name == "numpy":
        _STATE["kernel"] = None
        _STATE["reason"] = "the reference backend was selected"
    elif name == "cython":
        if _load() is None:
            raise RuntimeError(f"the C kernel is not available: {_STATE['reason']}")
    elif name is not None:
        raise ValueError(f"unknown backend {name!r}")


def backend() -> str:
    """``'cython'`` when the C kernel evaluates schedules, else ``'numpy'``."""
    return "cython" if _load() is not None else "numpy"


def backend_reason() -> str:
    """Why the reference backend is active ('' when the kernel is)."""
    _load()
    return str(_STATE["reason"])


def kernel_for(program: Program) -> object:
    """The kernel's evaluator for ``program``, or ``None`` on the reference backend."""
    kernel = _load()
    if kernel is None:
        return None
    from .lower import lower

    return kernel.Program(*lower(program.root))  # type: ignore[attr-defined]  # validates the tables


def reference_values(node: Node, steps: object, out: object) -> object:
    from .reference import values_numpy

    return values_numpy(node, steps, out)
