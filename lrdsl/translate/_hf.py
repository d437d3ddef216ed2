"""Translation stage: HuggingFace ``lr_scheduler_type`` names -> lrdsl text.

:func:`from_hf` takes what ``transformers.get_scheduler`` takes (a
``SchedulerType`` name, the warm-up and training steps, the scheduler-specific
keyword arguments), checks the name and that every keyword is one the named
schedule's ``get_*_schedule*`` function has, and writes the text with
:mod:`lrdsl.translate._hf_schedules`, in canonical form, checked to compile.
"""

from __future__ import annotations

from ..language.errors import ArgumentError, did_you_mean
from ._common import _finish, _float, _steps
from ._hf_schedules import _HF_TEXTS, _HfCall

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


#: HuggingFace's ``SchedulerType`` values (transformers.trainer_utils, transformers 5.24).
HF_SCHEDULER_TYPES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "reduce_lr_on_plateau",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
    "greedy",
)

_HF_KWARGS: dict[str, tuple[str, ...]] = {
    "linear": (),
    "cosine": ("num_cycles",),
    "cosine_with_restarts": ("num_cycles",),
    "polynomial": ("lr_end", "power"),
    "constant": (),
    "constant_with_warmup": (),
    "inverse_sqrt": ("timescale",),
    "reduce_lr_on_plateau": (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "min_lr",
        "eps",
    ),
    "cosine_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate"),
    "cosine_warmup_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate", "warmup_lr_rate"),
    "warmup_stable_decay": (
        "num_stable_steps",
        "num_decay_steps",
        "warmup_type",
        "decay_type",
        "min_lr_ratio",
        "num_cycles",
    ),
    "greedy": (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "warmup",
        "min_lr",
        "max_lr",
        "eps",
        "verbose",
        "smooth",
        "window_size",
        "reset_start",
    ),
}


def from_hf(
    lr_scheduler_type: Any,
    num_warmup_steps: int = 0,
    num_training_steps: int | None = None,
    *,
    steps: int | None = None,
    lr_init: float | None = None,
    **kwargs: Any,
) -> str:
    """The lrdsl text of HuggingFace's ``get_scheduler(lr_scheduler_type,
    optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs=kwargs)``.

    Compile it with ``base_lr`` = the optimizer's lr (what HF's LambdaLR
    multiplies).  ``lr_init`` is HF's ``optimizer.defaults['lr']``, which
    ``polynomial`` (lr_end) and the min-lr cosines (min_lr) divide by: without
    it those absolute lrs are written as numbers (right when the group's lr is
    the optimizer's default), with it as factors of base.  With ``steps=N`` the
    text only has to match on steps ``0..N-1``.

    ``kwargs`` are the ``get_*_schedule*`` function's own arguments (``num_cycles``,
    ``lr_end``, ``power``, ``timescale``, ``min_lr``, ``min_lr_rate``,
    ``warmup_lr_rate``, ``num_stable_steps``, ``num_decay_steps``, ``warmup_type``,
    ``decay_type``, ``min_lr_ratio``, ReduceLROnPlateau's settings).  Note that
    ``get_scheduler`` itself drops ``scheduler_specific_kwargs`` for ``constant``
    and ``constant_with_warmup``.  HF's cosines keep oscillating after
    ``num_training_steps`` (nothing clamps their progress), and so does the text
    unless ``steps`` stops it there.  Every type of transformers 5.24 translates
    except ``greedy`` (GreedyLR raises the lr on improvement) and
    ``cosine_warmup_with_min_lr`` with fewer than two warm-up steps (its cosine
    then starts one step past its peak): :class:`~lrdsl.errors.UnsupportedError`.
    """
    name = str(getattr(lr_scheduler_type, "value", lr_scheduler_type))
    if name not in _HF_KWARGS:
        raise ArgumentError(
            f"{name!r} is not a HuggingFace SchedulerType",
            code="E0306",
            hints=[*did_you_mean(name, HF_SCHEDULER_TYPES), "one of: " + ", ".join(HF_SCHEDULER_TYPES)],
        )
    for key in kwargs:
        if key not in _HF_KWARGS[name]:
            allowed = ", ".join(_HF_KWARGS[name]) or "none"
            raise ArgumentError(
                f"HuggingFace's {name!r} schedule takes no argument {key!r} (it takes: {allowed})",
                code="E0202",
                hints=did_you_mean(key, _HF_KWARGS[name]),
            )
    if steps is not None:
        steps = _steps(steps, "steps")
    w = _steps(num_warmup_steps if num_warmup_steps is not None else 0, "num_warmup_steps", 0)
    if lr_init is not None:
        lr_init = _float(lr_init, "lr_init")
        if lr_init <= 0:
            raise ArgumentError(f"lr_init={lr_init!r} must be > 0", code="E0401")
    text = _HF_TEXTS[name](_HfCall(name, w, num_training_steps, steps, lr_init, kwargs))
    return _finish(text, f"HuggingFace {name!r}")
