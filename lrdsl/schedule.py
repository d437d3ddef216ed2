"""The public object: a compiled :class:`Schedule`.

``lrdsl.compile`` runs the stages (parse, check, compile) and wraps the
resulting :class:`~lrdsl.language.ir.Program`.  A schedule is immutable; calling it
evaluates one step, ``values`` evaluates arrays.  Evaluation goes to the C
kernel when it is built, else to the reference evaluator (numpy for arrays,
plain Python for single steps).
"""

from __future__ import annotations

from operator import attrgetter

from . import backends
from .backends.ops import ScalarOps
from .backends.reference import evaluate
from .emit import emitter
from .language.check import check
from .language.compiler import compile_program, context_of, make_context
from .language.domain import MAX_STEP, check_step, out_of_domain
from .language.errors import LrdslError
from .language.ir import Phase, Program
from .language.printer import to_text
from .language.syntax import parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .language.ast import Module

_SCALAR = ScalarOps()


def compile(  # noqa: A001 - the public name the brief fixes
    text: str | Module,
    /,
    *,
    base_lr: float | None = None,
    total_steps: int | None = None,
    steps_per_epoch: int | None = None,
    tokens_per_step: int | None = None,
    samples_per_step: int | None = None,
    total_tokens: int | None = None,
    total_samples: int | None = None,
    clock: str = "steps",
    **placeholders: object,
) -> Schedule:
    """Compile a schedule text (or a parsed :class:`~lrdsl.language.ast.Module`).

    ``base_lr`` is what ``base`` means (default 1.0, so values read as factors);
    ``total_steps`` resolves ``%`` lengths and elastic segments;
    ``steps_per_epoch`` resolves ``ep`` lengths; ``tokens_per_step`` and
    ``samples_per_step`` resolve ``tok`` and ``sp`` lengths, and
    ``total_tokens``/``total_samples`` give the total in those units.  With
    ``clock="tokens"`` (or ``"samples"``) the schedule's time is the count
    consumed: it is evaluated at a token count, ``tok`` lengths are exact and a
    length in steps needs ``tokens_per_step``.  Keyword arguments fill
    ``$placeholders``.  Raises :class:`~lrdsl.errors.LrdslError`.
    """
    from .language.ast import Module

    if isinstance(text, str):
        source = text
        try:
            module = parse(text)
        except LrdslError as err:
            raise err.with_traceback(None) from None
    elif isinstance(text, Module):
        module = text
        source = to_text(module)
    else:
        raise LrdslError(
            f"lrdsl.compile takes a schedule text (str) or a parsed Module, got {type(text).__name__}",
            code="E0305",
        )
    try:
        ctx = make_context(
            base_lr,
            total_steps,
            steps_per_epoch,
            clock=clock,
            tokens_per_step=tokens_per_step,
            samples_per_step=samples_per_step,
            total_tokens=total_tokens,
            total_samples=total_samples,
        )
        checked = check(module, placeholders)
        program = compile_program(checked, ctx, source)
    except LrdslError as err:
        # without the compiler's frames: the traceback is the caller's line, then this one
        raise err.with_source(source).with_traceback(None) from None
    return Schedule(program, module, checked, placeholders)


class Schedule:
    """A compiled learning-rate schedule.

    ``sched(t)`` is the learning rate after ``t`` completed steps;
    ``sched.values(steps)`` evaluates an int array; ``sched.phases`` lists the
    top-level segments; ``str(sched)`` is the canonical text.
    """

    __slots__ = ("__weakref__", "_call", "_checked", "_kernel", "_phases", "ast", "placeholders", "program")

    def __init__(self, program: Program, ast: Module, checked: object, placeholders: dict[str, object]) -> None:
        self.program = program
        self.ast = ast
        self._checked = checked
        self.placeholders = dict(placeholders)
        self._phases: tuple[Phase, ...] | None = None
        self._kernel: Any = backends.kernel_for(program)
        # the one-step path: the kernel's checked call, or the pure-Python evaluator
        self._call: Any = self._kernel if self._kernel is not None else self._reference_call

    # ------------------------------------------------------------ context

    @property
    def source(self) -> str:
        """The text the schedule was compiled from."""
        return self.program.source

    @property
    def base_lr(self) -> float:
        return self.program.base_lr

    @property
    def total_steps(self) -> int | None:
        return self.program.total_steps

    @property
    def steps_per_epoch(self) -> int | None:
        return self.program.steps_per_epoch

    @property
    def clock(self) -> str:
        """What the schedule's time counts: ``"steps"``, ``"tokens"`` or ``"samples"``."""
        return self.program.clock[0]

    @property
    def context(self) -> dict[str, Any]:
        """The compile's keyword arguments besides the base and the placeholders."""
        clock, tps, sps = self.program.clock
        total = self.program.total_steps
        out: dict[str, Any] = {"total_steps": total, "steps_per_epoch": self.steps_per_epoch}
        if clock != "steps":
            out.update(total_steps=None, clock=clock)
            out["total_" + clock] = total
        if tps is not None:
            out["tokens_per_step"] = tps
        if sps is not None:
            out["samples_per_step"] = sps
        return out

    @property
    def canonical(self) -> str:
        """The canonical text: parses back to an equal AST and the same values."""
        return to_text(self.ast)

    def __str__(self) -> str:
        return self.canonical

    def __repr__(self) -> str:
        ctx = [f"base_lr={self.base_lr!r}"]
        ctx += [f"{k}={v!r}" for k, v in self.context.items() if v is not None]
        return f"lrdsl.compile({self.canonical!r}, {', '.join(ctx)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # the kernel's copy of the program is rebuilt from the Program on load
        return (Schedule, (self.program, self.ast, self._checked, self.placeholders))

    def _repr_html_(self) -> str:
        """Jupyter: the canonical text, the phase table and a plot (see :mod:`lrdsl.tools.notebook`)."""
        from .tools.notebook import schedule_html

        return schedule_html(self)

    def to_torch(self, optimizer: Any, **kwargs: Any) -> Any:
        """A :class:`lrdsl.torch.DSLScheduler` for ``optimizer`` (imports torch):
        this text with each param group's lr as ``base``, in this schedule's
        context (the totals, steps per epoch, clock, tokens and samples per
        step: DSLScheduler's own keywords) and placeholders; ``kwargs``
        (``resume=``, ``warn=``, ``last_epoch=``, or a context to change) win."""
        context: dict[str, Any] = {**self.context, **kwargs}
        placeholders = {k: v for k, v in self.placeholders.items() if k not in context}
        return emitter("torch").DSLScheduler(optimizer, self.source, **context, **placeholders)

    def to_keras(self, **kwargs: Any) -> Any:
        """A :class:`lrdsl.keras.DSLSchedule` for this schedule (imports keras)."""
        return emitter("keras").DSLSchedule(self, **kwargs)

    def to_optax(self) -> Any:
        """A jit-traceable ``step -> lr`` function for optax (imports jax)."""
        return emitter("jax").to_optax(self)

    def to_torch_fn(self, **kwargs: Any) -> Any:
        """An on-device ``step_tensor -> lr_tensor`` function, traceable by ``torch.compile(fullgraph=True)`` (imports torch)."""
        return emitter("torch_fn").to_torch_fn(self, **kwargs)

    def with_base(self, base_lr: float) -> Schedule:
        """The same schedule text compiled for another ``base`` (e.g. a param group's lr)."""
        if base_lr == self.base_lr:
            return self
        ctx = context_of(self.program, base_lr)
        try:
            program = compile_program(self._checked, ctx, self.source)
        except LrdslError as err:
            raise err.with_source(self.source).with_traceback(None) from None
        return Schedule(program, self.ast, self._checked, self.placeholders)

    # ------------------------------------------------------------ evaluation

    if TYPE_CHECKING:

        def __call__(self, step: int) -> float:
            """The learning rate at ``step`` (completed steps, from 0)."""
    else:
        # ``sched(t)`` calls the kernel's checked scalar call directly: Python
        # looks ``__call__`` up on the type and binds it through this C-level
        # property, which costs a third of a Python method's frame (the frame
        # was more than half the cost of ``sched(t)``, see BENCHMARKS.md).
        __call__ = property(
            attrgetter("_call"), doc="The learning rate at ``step`` (completed steps, from 0): ``sched(t)``."
        )

    def _reference_call(self, step: int) -> float:
        return float(evaluate(_SCALAR, self.program.root, check_step(step)))

    def values(self, steps: Any, out: Any = None) -> Any:
        """float64 values at an int array of steps (any order, any shape).

        With ``out`` (a writeable float64 array of the same shape) the values
        are written there and ``out`` is returned; for a C-contiguous ``out``
        and steps that are a contiguous range (``np.arange``) nothing else is
        allocated.  An ``out`` that shares memory with ``steps`` is allowed:
        the values go through a temporary array first.
        """
        import numpy as np

        arr = _step_array(np, steps)
        if out is not None:
            if not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != arr.shape:
                raise LrdslError(f"out must be a float64 array of shape {arr.shape}", code="E0305")
            if not out.flags.writeable:
                raise LrdslError("out is a read-only array", code="E0305")
        kernel = self._kernel
        if kernel is None:
            if arr.size and (arr.min() < 0 or arr.max() > MAX_STEP):
                raise out_of_domain(arr.min() if arr.min() < 0 else arr.max())
            return backends.reference_values(self.program.root, arr.astype(np.int64, copy=False), out)
        flat = np.ascontiguousarray(arr, dtype=np.int64).reshape(-1)
        direct = out is not None and out.flags.c_contiguous and not np.may_share_memory(out, flat)
        res = out.reshape(-1) if direct else np.empty(flat.shape, dtype=np.float64)
        status = kernel.values(flat, res)  # checks the steps while it evaluates them
        if status == 1:  # unsorted: evaluate them sorted, then scatter back
            order = np.argsort(flat, kind="stable")
            tmp = np.empty(flat.shape, dtype=np.float64)
            status = kernel.values(flat[order], tmp)
            res[order] = tmp
        if status == -1:
            bad = arr.min() if arr.min() < 0 else arr.max()
            raise out_of_domain(bad)
        if out is None:
            return res.reshape(arr.shape)
        if not direct:
            out[...] = res.reshape(arr.shape)
        return out

    # ------------------------------------------------------------ phases

    @property
    def phases(self) -> tuple[Phase, ...]:
        """Top-level segments: start, end, kind, text and the values they take."""
        if self._phases is None:
            self._phases = self._compute_phases()
        return self._phases

    def _compute_phases(self) -> tuple[Phase, ...]:
        from .primitives.phases import compute_phases

        return compute_phases(self)


def _step_array(np: Any, steps: Any) -> Any:
    """``steps`` as an integer array, or an :class:`LrdslError`."""
    try:
        arr = np.asarray(steps)
    except (OverflowError, ValueError, TypeError) as err:
        raise LrdslError(f"steps must be an array of whole numbers: {err}", code="E0305") from None
    if arr.dtype.kind in "iu":
        return arr
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind == "O" and all(isinstance(x, int) and not isinstance(x, bool) for x in arr.reshape(-1)):
        bad = min(arr.reshape(-1)) if min(arr.reshape(-1)) < 0 else max(arr.reshape(-1))
        raise out_of_domain(bad)  # Python ints beyond int64
    raise LrdslError(f"steps must be integers, got an array of {arr.dtype}", code="E0305")
