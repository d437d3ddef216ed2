"""A training plan: one schedule per hyperparameter, compiled together.

    plan = lrdsl.compile_plan({
        "lr": "one_cycle(10k, max=0.1)",
        "momentum": "one_cycle(10k, start=0.95, peak=0.85, end=0.95)",
        "weight_decay": "linear(10k, start=5e-4, end=5e-3)",
    })
    plan(0)                  # {'lr': 0.004, 'momentum': 0.95, 'weight_decay': 0.0005}
    plan.values(range(100))  # {'lr': array([...]), 'momentum': ..., 'weight_decay': ...}

A plan is a mapping from a hyperparameter's name to its schedule text, so it is
one value in a YAML, TOML or JSON file.  Keys are the framework's own names
(``lr``, ``momentum``, ``weight_decay``, ``betas[0]`` for an element of a tuple
entry, Keras's ``beta_1``, optax's ``b1``...); :func:`canonical_key` knows which
spellings name the same hyperparameter, so one plan serves every emitter.  In
each text ``base`` is that hyperparameter's configured value (``bases=``; the
optimizer's value in the emitters), as it is the initial lr for ``lr``.

Each key has a domain (:func:`domain_of`): the lr and weight decay are >= 0,
momentum, betas, EMA decay and the like lie in [0, 1], anything else is finite.
A plan whose values leave a key's domain over its phases is an error (E0404).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from .language.check_placeholders import RESERVED_PLACEHOLDERS
from .language.errors import LrdslError, did_you_mean
from .schedule import Schedule
from .schedule import compile as compile_schedule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from .language.ir import Phase

__all__ = ["Plan", "canonical_key", "compile_plan", "domain_of"]

#: Spellings of one hyperparameter across torch, Keras and optax, to one name.
ALIASES: dict[str, str] = {
    "learning_rate": "lr",
    "beta_1": "betas[0]",
    "b1": "betas[0]",
    "beta1": "betas[0]",
    "beta_2": "betas[1]",
    "b2": "betas[1]",
    "beta2": "betas[1]",
    "ema_decay": "ema_momentum",
    "wd": "weight_decay",
}

_UNIT = (0.0, 1.0)
_NONNEG = (0.0, math.inf)
#: Domains by canonical key (closed intervals); any other key: finite.
DOMAINS: dict[str, tuple[float, float]] = {
    "lr": _NONNEG,
    "weight_decay": _NONNEG,
    "momentum": _UNIT,
    "dampening": _UNIT,
    "betas[0]": _UNIT,
    "betas[1]": _UNIT,
    "ema_momentum": _UNIT,
    "rho": _UNIT,
    "alpha": _UNIT,
    "eps": _NONNEG,
    "epsilon": _NONNEG,
}

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?")


def canonical_key(key: str) -> str:
    """The one name of a hyperparameter: ``learning_rate`` -> ``lr``,
    ``beta_1``/``b1`` -> ``betas[0]``, ``beta_2``/``b2`` -> ``betas[1]``; other
    keys are their own name."""
    return ALIASES.get(key, key)


def domain_of(key: str) -> tuple[float, float]:
    """The closed interval a hyperparameter's values must lie in
    (``(-inf, inf)``, i.e. finite, for a key lrdsl knows nothing about)."""
    return DOMAINS.get(canonical_key(key), (-math.inf, math.inf))


def check_key(key: object, where: str = "plan") -> str:
    """``key`` if it is a hyperparameter name (``name`` or ``name[i]``), else E0207."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise LrdslError(
            f"{where}: a hyperparameter name is a word such as 'lr', 'momentum' or 'betas[0]', got {key!r}",
            code="E0207",
        )
    return key


def _domain_text(lo: float, hi: float) -> str:
    if hi == math.inf:
        return f">= {lo:g}" if lo > -math.inf else "finite"
    return f"in [{lo:g}, {hi:g}]"


def check_domain(key: str, sched: Schedule) -> None:
    """E0404 when ``sched``'s values (over its phases) leave ``key``'s domain."""
    from .language.domain import MAX_STEP

    lo, hi = domain_of(key)
    checks: list[tuple[str, str, tuple[float, ...]]] = []
    for ph in sched.phases:
        if math.isnan(ph.first) and math.isnan(ph.lo):  # never reached
            continue
        if ph.end is None:
            checks.append(("from step", f"{ph.start}", (ph.first, ph.lo, ph.hi)))
        else:
            checks.append(("in steps", f"{ph.start}..{ph.end - 1}", (ph.first, ph.lo, ph.hi)))
    last = sched.phases[-1]
    if last.end is not None and last.end <= MAX_STEP:  # a bounded end holds its last value
        checks.append(("from step", f"{last.end}", (sched(last.end),)))
    for where, span, values in checks:
        for v in values:
            if not (math.isfinite(v) and lo <= v <= hi):
                raise LrdslError(
                    f"'{key}' must stay {_domain_text(lo, hi)}, but its schedule reaches {v!r} {where} {span}",
                    code="E0404",
                    hints=[f"the {key} schedule is {sched.canonical}"],
                )


class Plan:
    """Compiled schedules, one per hyperparameter, in the plan's key order.

    ``plan[key]`` is a :class:`~lrdsl.Schedule`; ``plan(t)`` and
    ``plan.values(steps)`` evaluate every key; ``plan.phases`` gives each key's
    phase table.  Immutable, like a schedule.
    """

    __slots__ = ("_schedules",)

    def __init__(self, schedules: Mapping[str, Schedule]) -> None:
        if not schedules:
            raise LrdslError("a plan names at least one hyperparameter", code="E0305")
        self._schedules: dict[str, Schedule] = dict(schedules)

    def __getitem__(self, key: str) -> Schedule:
        try:
            return self._schedules[key]
        except KeyError:
            for k in self._schedules:
                if canonical_key(k) == canonical_key(key):
                    return self._schedules[k]
            raise LrdslError(
                f"the plan has no '{key}'; it schedules {', '.join(self._schedules)}",
                code="E0207",
                hints=did_you_mean(key, list(self._schedules)),
            ) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and any(canonical_key(k) == canonical_key(key) for k in self._schedules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._schedules)

    def __len__(self) -> int:
        return len(self._schedules)

    def keys(self) -> list[str]:
        return list(self._schedules)

    def items(self) -> list[tuple[str, Schedule]]:
        return list(self._schedules.items())

    def __call__(self, step: int) -> dict[str, float]:
        """Every hyperparameter's value at ``step``."""
        return {k: s(step) for k, s in self._schedules.items()}

    def values(self, steps: Any) -> dict[str, Any]:
        """Every hyperparameter's float64 values at an int array of steps."""
        return {k: s.values(steps) for k, s in self._schedules.items()}

    @property
    def phases(self) -> dict[str, tuple[Phase, ...]]:
        return {k: s.phases for k, s in self._schedules.items()}

    @property
    def sources(self) -> dict[str, str]:
        return {k: s.source for k, s in self._schedules.items()}

    @property
    def canonical(self) -> dict[str, str]:
        """Each key's canonical text: a plan value that compiles to the same plan."""
        return {k: s.canonical for k, s in self._schedules.items()}

    @property
    def bases(self) -> dict[str, float]:
        return {k: s.base_lr for k, s in self._schedules.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plan):
            return NotImplemented
        return self.canonical == other.canonical and self.bases == other.bases

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"lrdsl.compile_plan({self.canonical!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Plan, (self._schedules,))

    def _repr_html_(self) -> str:
        """Jupyter: each key's text and phases, and one plot axis per key."""
        from .tools.notebook import plan_html

        return plan_html(self)


def compile_plan(
    plan: Mapping[str, str | Schedule] | Plan,
    /,
    *,
    bases: Mapping[str, float] | None = None,
    base_lr: float | None = None,
    check_domains: bool = True,
    **context: Any,
) -> Plan:
    """Compile a plan: a mapping from hyperparameter name to schedule text.

    ``bases`` gives what ``base`` means in each key's text (default 1.0, so
    values read as factors); ``base_lr`` is ``bases["lr"]``.  The other
    keywords are shared by every text: the context as :func:`lrdsl.compile`
    takes it (``total_steps``, ``steps_per_epoch``, ``tokens_per_step``,
    ``samples_per_step``, ``total_tokens``, ``total_samples``, ``clock``) and
    the placeholders, of which a text gets those it uses (each must be used
    by one of them).  Each key's values must stay in its domain
    (:func:`domain_of`) unless ``check_domains=False``.  Raises
    :class:`~lrdsl.LrdslError`; an error in one text names its key.
    """
    if isinstance(plan, Plan):
        plan = {k: s.source for k, s in plan.items()}
    if not isinstance(plan, Mapping):
        raise LrdslError(
            f"a plan is a mapping from hyperparameter name to schedule text, got {type(plan).__name__}",
            code="E0305",
            hints=["for one schedule, use lrdsl.compile(text)"],
        )
    given = _bases(plan, bases, base_lr)
    # lrdsl.compile's own keywords go to every text; the rest are placeholders
    placeholders = {k: context.pop(k) for k in list(context) if k not in RESERVED_PLACEHOLDERS}
    used: set[str] = set()
    out: dict[str, Schedule] = {}
    seen: dict[str, str] = {}
    for key, text in plan.items():
        check_key(key)
        canon = canonical_key(key)
        if canon in seen:
            raise LrdslError(f"the plan names one hyperparameter twice: '{seen[canon]}' and '{key}'", code="E0303")
        seen[canon] = key
        base = next((float(v) for k, v in given.items() if canonical_key(k) == canon), None)
        try:
            out[key] = _compile_key(key, text, base, context, placeholders, used, check_domains)
        except LrdslError as err:
            raise err.in_key(key) from None
    extra = [name for name in placeholders if name not in used]
    if extra:
        raise LrdslError(
            f"placeholder value given for ${extra[0]}, which no text of the plan uses",
            code="E0205",
            hints=did_you_mean(extra[0], sorted(used)),
        )
    return Plan(out)


def _bases(plan: Mapping[str, object], bases: Mapping[str, float] | None, base_lr: float | None) -> dict[str, float]:
    """``bases`` (and ``base_lr`` for the lr), each naming a key of the plan."""
    given = dict(bases or {})
    for k in given:
        check_key(k, "bases")
    if base_lr is not None:
        given.setdefault("lr", base_lr)
    unknown = [k for k in given if not any(canonical_key(k) == canonical_key(p) for p in plan)]
    if unknown:
        raise LrdslError(
            f"bases= names {', '.join(map(repr, unknown))}, which the plan does not schedule",
            code="E0207",
            hints=did_you_mean(unknown[0], list(plan)),
        )
    return given


def _compile_key(
    key: str,
    text: object,
    base: float | None,
    context: dict[str, Any],
    placeholders: dict[str, Any],
    used: set[str],
    check_domains: bool,
) -> Schedule:
    """One key's schedule; the placeholders its text uses are added to ``used``."""
    if isinstance(text, Schedule):
        sched = text if base is None else text.with_base(base)
    elif isinstance(text, str):
        names = _placeholders_in(text)
        used |= names
        mine = {k: v for k, v in placeholders.items() if k in names}
        sched = compile_schedule(text, base_lr=base, **context, **mine)
    else:
        raise LrdslError(f"a plan's value is a schedule text, got {type(text).__name__}", code="E0305")
    if check_domains:
        check_domain(key, sched)
    return sched


def _placeholders_in(text: str) -> set[str]:
    from .language import ast as A
    from .language.syntax import parse

    names: set[str] = set()
    stack: list[object] = [parse(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, A.Placeholder):
            names.add(node.name)
        stack.extend(A.children(node))
    return names
