"""Translation stage: ``torch.optim.lr_scheduler`` objects -> lrdsl text.

:func:`from_torch` sorts a scheduler by its exact built-in class and writes
it: ``ReduceLROnPlateau`` as ``plateau(...)``, a single scheduler through
:mod:`lrdsl.translate._torch_pieces`, a ``ChainedScheduler`` of factor
schedulers as their product, and a ``SequentialLR`` as the chain of its
schedulers cut at the milestones (:func:`~lrdsl.translate._pieces._chain`).
Subclasses, ``LambdaLR``/``MultiplicativeLR`` (arbitrary Python functions) and
combinations torch itself cannot step are E0801, saying why.

Where torch also drives the momentum (``CyclicLR``/``OneCycleLR`` with
``cycle_momentum=True``, alone or in a ``SequentialLR``), the result is a plan
``{"lr": ..., "momentum": ...}`` (``"betas[0]"`` when torch drives the betas:
``"betas" in optimizer.defaults``), which :class:`lrdsl.torch.DSLScheduler`
takes as it is; :func:`_sequential_momentum` follows torch through the
milestones (the momentum holds where no scheduler cycles it).
"""

from __future__ import annotations

import itertools

from ._common import _V, _args, _fail, _finish, _float, _num, _steps
from ._pieces import _chain, _Consts, _Piece, _Product
from ._torch_pieces import (
    _TORCH_FACTORS,
    _TORCH_SIMPLE,
    _torch_piece,
    _TorchContext,
    momentum_at,
    momentum_key,
    momentum_piece,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def _torch_classes() -> Any:
    from torch.optim import lr_scheduler

    return lr_scheduler


def _kind(s: Any, L: Any) -> str:
    """The built-in class of ``s`` by exact type (a subclass may change the formula)."""
    cls = type(s)
    name = cls.__name__
    builtin = getattr(L, name, None)
    if builtin is cls:
        return name
    for base in cls.__mro__[1:]:
        if getattr(L, base.__name__, None) is base and base.__name__ not in ("LRScheduler", "_LRScheduler"):
            raise _fail(
                f"{name} subclasses torch's {base.__name__} and may override its formula; lrdsl translates"
                " the built-in schedulers only"
            )
    raise _fail(f"{name} is not one of torch.optim.lr_scheduler's built-in schedulers")


def _contains(s: Any, names: Sequence[str]) -> bool:
    kids = getattr(s, "_schedulers", None)
    if kids is not None:
        return any(_contains(k, names) for k in kids)
    return type(s).__name__ in names


def _plateau(s: Any, ctx: _TorchContext) -> str:
    """ReduceLROnPlateau's settings as plateau(...) arguments (lrdsl's defaults are torch's)."""
    g = ctx.g
    words = {"mode": ("min", str(s.mode)), "threshold_mode": ("rel", str(s.threshold_mode))}
    whole = {
        "patience": (10, _steps(s.patience, "ReduceLROnPlateau.patience", 0)),
        "cooldown": (0, _steps(s.cooldown, "ReduceLROnPlateau.cooldown", 0)),
    }
    reals = {
        "factor": (0.1, _float(s.factor, "ReduceLROnPlateau.factor")),
        "threshold": (1e-4, _float(s.threshold, "ReduceLROnPlateau.threshold")),
        "min_lr": (0.0, _float(s.min_lrs[g], f"ReduceLROnPlateau.min_lrs[{g}]")),
        "eps": (1e-8, _float(s.eps, "ReduceLROnPlateau.eps")),
    }
    args: list[str] = []
    for key in ("factor", "patience", "mode", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"):
        if key in words:
            default, word = words[key]
            if word != default:
                args.append(f"{key}={word}")
        elif key in whole:
            default_n, n = whole[key]
            if n != default_n:
                args.append(f"{key}={n}")
        else:
            default_x, x = reals[key]
            if x != default_x:
                args.append(f"{key}={_num(x)}")
    return f"plateau({_args(*args)})"


def from_torch(scheduler: Any, *, group: int = 0, steps: int | None = None) -> str | dict[str, str]:
    """The lrdsl text of a ``torch.optim.lr_scheduler`` scheduler, for param
    group ``group``; a plan ``{"lr": ..., "momentum": ...}`` (or ``"betas[0]"``,
    as torch chooses) where the scheduler also cycles the momentum.

    Compile it with ``base_lr`` = that group's ``initial_lr`` (the optimizer's
    lr for the group, unless a CyclicLR/OneCycleLR changed it, in which case the
    text has no ``base`` in it); the momentum text is in absolute numbers.  With
    ``steps=N`` the text only has to match on steps ``0..N-1``.  Raises
    :class:`~lrdsl.errors.UnsupportedError` (E0801) for what lrdsl cannot
    express, saying why.
    """
    L = _torch_classes()
    if steps is not None:
        steps = _steps(steps, "steps")
    name = type(scheduler).__name__
    if name == "ReduceLROnPlateau" and type(scheduler) is L.ReduceLROnPlateau:
        ctx = _TorchContext(scheduler.optimizer, group, True)
        return _finish(_plateau(scheduler, ctx), "ReduceLROnPlateau")
    kind = _kind(scheduler, L)
    if kind in ("LambdaLR", "MultiplicativeLR"):
        raise _fail(
            f"{kind} computes the lr with an arbitrary Python function (lr_lambda), whose formula lrdsl cannot read",
            "for HuggingFace's schedules (get_scheduler / lr_scheduler_type), use lrdsl.translate.from_hf",
        )
    rel = not _contains(scheduler, ("CyclicLR", "OneCycleLR"))
    ctx = _TorchContext(scheduler.optimizer, group, rel)
    momentum: tuple[str, str] | None = None
    if kind == "SequentialLR":
        text = _sequential(scheduler, ctx, L, steps)
        momentum = _sequential_momentum(scheduler, ctx, L, steps)
    elif kind == "ChainedScheduler":
        piece = _chained(scheduler, ctx, L, replay=False)
        text = piece.text() if steps is None else piece.upto(steps)
    elif kind in _TORCH_SIMPLE:
        piece = _torch_piece(scheduler, kind, ctx, first=True, start=None)
        text = piece.text() if steps is None else piece.upto(steps)
        key = momentum_key(scheduler) if kind in ("CyclicLR", "OneCycleLR") else None
        if key is not None:
            m = momentum_piece(scheduler, kind, ctx)
            momentum = (key, m.text() if steps is None else m.upto(steps))
    else:
        raise _fail(f"{kind} is not translated to lrdsl")
    lr = _finish(text, kind)
    if momentum is None:
        return lr
    key, mtext = momentum
    return {"lr": lr, key: _finish(mtext, f"{kind}'s {key}")}


def _sequential_momentum(s: Any, ctx: _TorchContext, L: Any, horizon: int | None) -> tuple[str, str] | None:
    """The momentum a SequentialLR's momentum-cycling schedulers set (None if none
    does): each cycles it while active, from its own step 0; elsewhere it holds
    the last value set -- before the first of them, the value the last one built
    set at construction (its step 0)."""
    scheds = list(s._schedulers)
    cyclers: dict[int, str] = {}
    for i, x in enumerate(scheds):
        k = momentum_key(x) if type(x).__name__ in ("CyclicLR", "OneCycleLR") else None
        if k is not None:
            cyclers[i] = k
    if not cyclers:
        return None
    key = next(iter(cyclers.values()))
    ms = [int(m) for m in s._milestones]
    bounds = [0, *ms]
    lengths = [(ms[i] if i < len(ms) else None) for i in range(len(scheds))]
    lengths = [None if end is None else end - bounds[i] for i, end in enumerate(lengths)]
    first_active = next(i for i, n in enumerate(lengths) if n != 0)
    if first_active in cyclers:
        value = 0.0  # not used: the cycler sets it from step 0
    else:
        starts = {momentum_at(scheds[i], type(scheds[i]).__name__, ctx, 0) for i in cyclers}
        if len(starts) > 1:
            raise _fail(
                f"SequentialLR whose schedulers cycle the {key} from different values ({sorted(starts)}): before the"
                f" first of them runs, the {key} is whichever was built last set, which the SequentialLR does"
                " not record",
                "translate the lr alone from the schedulers, or give them the same max_momentum",
            )
        value = starts.pop()
    parts: list[tuple[_Piece, int | None]] = []
    for i, (sched, n) in enumerate(zip(scheds, lengths)):
        if n == 0:
            continue
        kind = type(sched).__name__
        if i in cyclers:
            parts.append((momentum_piece(sched, kind, ctx), n))
            if n is not None:
                value = momentum_at(sched, kind, ctx, n - 1)
        else:
            parts.append((_Consts([(_V(value), None)]), n))
    return key, _chain(parts, horizon)


def _chained(s: Any, ctx: _TorchContext, L: Any, *, replay: bool, start: _V | None = None) -> _Piece:
    """A ChainedScheduler of pure factors: lr_t = base * F1(t) * F2(t) * ..."""
    flat: list[Any] = []

    def walk(x: Any) -> None:
        kind = _kind(x, L)
        if kind == "ChainedScheduler":
            for k in x._schedulers:
                walk(k)
        else:
            flat.append((x, kind))

    walk(s)
    for _x, kind in flat:
        if kind not in _TORCH_FACTORS:
            why = {
                "CosineAnnealingLR": "its step adds eta_min and, from T_max + 1 on, (base_lr - eta_min)*(1 - cos(pi/T_max))/2,"
                " so it is not a factor the other schedulers' factors multiply",
                "SequentialLR": "a SequentialLR inside a ChainedScheduler resets the lr at its milestones",
                "LambdaLR": "its lr is an arbitrary Python function",
                "MultiplicativeLR": "its factor is an arbitrary Python function",
            }.get(kind, "it sets the lr from its own formula at every step, discarding the other schedulers' factors")
            raise _fail(f"ChainedScheduler with {kind}: {why}")
    if not flat:  # pragma: no cover - torch requires one
        raise _fail("an empty ChainedScheduler")
    # every factor multiplies the lr the chain started from (the group's lr when the
    # schedulers were built; initial_lr); the schedulers' own base_lrs play no part
    lead = start if start is not None else ctx.val(1.0, ctx.R)
    factors: list[_Piece] = []
    for i, (x, kind) in enumerate(flat):
        factors.append(_torch_piece(x, kind, ctx, first=True, start=lead if i == 0 else _V(1.0), replay=replay))
    return factors[0] if len(factors) == 1 else _Product(factors)


def _sequential(s: Any, ctx: _TorchContext, L: Any, horizon: int | None) -> str:
    scheds = list(s._schedulers)
    ms = [_steps(m, "a SequentialLR milestone", 0) for m in s._milestones]
    if any(b < a for a, b in itertools.pairwise(ms)):
        raise _fail(f"SequentialLR milestones {ms} are not in increasing order")
    bounds = [0, *ms]
    parts: list[tuple[_Piece, int | None]] = []
    x = ctx.val(1.0, ctx.R)  # the lr SequentialLR resets every group to: its initial_lr
    for i, sched in enumerate(scheds):
        begin = bounds[i]
        end = ms[i] if i < len(ms) else None
        n = None if end is None else end - begin
        if n == 0:
            continue  # never active
        kind = _kind(sched, L)
        first = begin == 0
        if kind in ("SequentialLR", "ChainedScheduler"):
            if not first or kind == "SequentialLR":
                where = "after a milestone" if not first else "at its start"
                raise _fail(
                    f"a {kind} nested in a SequentialLR {where}: torch's SequentialLR "
                    + (
                        "calls _update_lr(0) on it at the milestone, which raises NotImplementedError"
                        if not first
                        else "re-runs its initial step through SequentialLR.step(), which lrdsl does not model"
                    )
                )
            piece: _Piece = _chained(sched, ctx, L, replay=True, start=x)
        elif kind in ("LambdaLR", "MultiplicativeLR"):
            raise _fail(f"SequentialLR with {kind}: its lr is an arbitrary Python function")
        elif kind in _TORCH_SIMPLE:
            piece = _torch_piece(sched, kind, ctx, first=first, start=x if first else None)
        else:
            raise _fail(f"SequentialLR with {kind}: not translated")
        parts.append((piece, n))
    return _chain(parts, horizon)
