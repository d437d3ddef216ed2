"""Evaluation stage: backend selection.

The compiled C kernel (``lrdsl._kernel``, built from ``ext/``) evaluates
programs when it is importable; otherwise the numpy reference evaluator does,
and :func:`backend_reason` says why the kernel is missing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..ir import Node, Program

_STATE: dict[str, object] = {}


def _load() -> object:
    if "kernel" not in _STATE:
        try:
            from .. import _kernel  # type: ignore[attr-defined]

            _STATE["kernel"] = _kernel
            _STATE["reason"] = ""
        except ImportError as err:
            _STATE["kernel"] = None
            _STATE["reason"] = f"the C extension lrdsl._kernel is not built ({err})"
    return _STATE["kernel"]


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

    return kernel.Program(*lower(program.root))  # type: ignore[attr-defined]


def reference_values(node: Node, steps: object, out: object) -> object:
    from .reference import values_numpy

    return values_numpy(node, steps, out)
