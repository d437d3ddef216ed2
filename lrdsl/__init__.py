"""lrdsl: a language for learning-rate schedules.

>>> import lrdsl
>>> s = lrdsl.compile("warmup(5) >> cosine(95)", base_lr=0.1)
>>> s(5)
0.1

The stages are visible in the layout: :mod:`lrdsl.language.syntax` (text -> AST),
:mod:`lrdsl.language.check` (names, arity, kinds), :mod:`lrdsl.compile` (AST -> the
:mod:`lrdsl.language.ir` program), :mod:`lrdsl.backends` (evaluation) and the emitters
(:mod:`lrdsl.torch`, :mod:`lrdsl.keras`), which import their framework only
when used.  ``import lrdsl`` imports neither numpy nor lark.
"""

from __future__ import annotations

from ._version import __version__
from .backends import backend, backend_reason
from .language.errors import (
    ArgumentError,
    CompositionError,
    ContextError,
    CountingWarning,
    FeedbackWarning,
    LimitError,
    LrdslError,
    LrdslSyntaxError,
    LrdslWarning,
    UnknownNameError,
    UnsupportedError,
    ValueDomainError,
)
from .language.ir import Phase, Program
from .language.syntax import parse
from .plan import Plan, compile_plan
from .schedule import Schedule, compile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def load(path: str, key: str | None = None, **kwargs: object) -> Schedule:
    """Compile the schedule stored at ``key`` (``a.b.c``) in a YAML, TOML or JSON
    file; see :mod:`lrdsl.tools.config`."""
    from .tools.config import load as _load

    return _load(path, key, **kwargs)


def load_plan(path: str, key: str | None = None, **kwargs: object) -> Plan:
    """Compile the plan stored at ``key`` (a mapping hyperparameter -> text, or one
    text for the lr) in a YAML, TOML or JSON file; see :mod:`lrdsl.tools.config`."""
    from .tools.config import load_plan as _load_plan

    return _load_plan(path, key, **kwargs)


def from_torch(scheduler: object, *, group: int = 0, steps: int | None = None) -> str | dict[str, str]:
    """The lrdsl text of a ``torch.optim.lr_scheduler`` object, or a plan
    ``{"lr": ..., "momentum": ...}`` (``"betas[0]"`` for Adam-like optimizers)
    where it also cycles the momentum; see :mod:`lrdsl.translate`."""
    from .translate import from_torch as _from_torch

    return _from_torch(scheduler, group=group, steps=steps)


def from_keras(schedule: object, *, steps: int | None = None) -> str:
    """The lrdsl text of a ``keras.optimizers.schedules`` object; see :mod:`lrdsl.translate`."""
    from .translate import from_keras as _from_keras

    return _from_keras(schedule, steps=steps)


def from_torchtitan(cfg: object, steps: int | None = None) -> str:
    """The lrdsl text of torchtitan's ``[lr_scheduler]`` section; see :mod:`lrdsl.translate`."""
    from .translate import from_torchtitan as _from_torchtitan

    return _from_torchtitan(cfg, steps)


def from_megatron(args: object) -> str:
    """The lrdsl text of Megatron-LM's lr options (a dict of them); see :mod:`lrdsl.translate`."""
    from .translate import from_megatron as _from_megatron

    return _from_megatron(args)


def from_hf(
    lr_scheduler_type: str,
    num_warmup_steps: int = 0,
    num_training_steps: int | None = None,
    **kwargs: Any,
) -> str:
    """The lrdsl text of a HuggingFace ``lr_scheduler_type`` (``steps=``, ``lr_init=`` and the
    scheduler's own keyword arguments in ``kwargs``); see :mod:`lrdsl.translate`."""
    from .translate import from_hf as _from_hf

    return _from_hf(lr_scheduler_type, num_warmup_steps, num_training_steps, **kwargs)


__all__ = [
    "ArgumentError",
    "CompositionError",
    "ContextError",
    "CountingWarning",
    "FeedbackWarning",
    "LimitError",
    "LrdslError",
    "LrdslSyntaxError",
    "LrdslWarning",
    "Phase",
    "Plan",
    "Program",
    "Schedule",
    "UnknownNameError",
    "UnsupportedError",
    "ValueDomainError",
    "__version__",
    "backend",
    "backend_reason",
    "compile",
    "compile_plan",
    "from_hf",
    "from_keras",
    "from_megatron",
    "from_torch",
    "from_torchtitan",
    "load",
    "load_plan",
    "parse",
]
