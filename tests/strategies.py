"""Hypothesis strategies for valid schedule texts, derived from the registry.

``schedules()`` draws ``(text, total_steps)``: a chain of 1-4 segments,
optionally after a leading warmup, with at most one unbounded segment (elastic
when it is not last).  A segment is a call of a registry primitive, sometimes
wrapped: ``0.5 * seg``, ``max(seg, 1e-4)`` (a floor), ``min(seg, 0.9)`` (a
ceiling) or ``repeat(seg, ...)``.

Nothing here lists primitives or their parameters.  Every entry of
:data:`lrdsl.primitives.CATALOGUE` of kind ``"primitive"`` is drawn
(:data:`FUZZED`; ``plateau`` is ``"reactive"``: it needs metric feedback; the
combinators are the wrappers), each call with its required parameters and a
random subset of the optional ones, each value drawn from the parameter's kind
and domain (:func:`draw_value`).  Whether a call is bounded, and how long, is
the primitive's own ``length`` rule applied to the drawn arguments
(:func:`predicted_length`); an unbounded primitive is bounded with one of its
``bounds`` keywords (:func:`bounders`).  What the registry cannot express
(keywords that exclude each other, a list sized by another argument, a value
that needs another keyword) is the small :data:`RULES` table.  The chain is
compiled once; a draw that fails with an :class:`~lrdsl.LrdslError` is
rejected.  ``tests/test_registry_coverage.py`` checks that every primitive and
every parameter is reached, and that rejections stay rare.

The generator is written once against a :class:`Source` of integers, so it
runs under hypothesis (:class:`HypothesisSource`: every choice is a draw, and
examples shrink) and under :class:`random.Random` (:class:`RandomSource`,
:func:`random_schedule`: deterministic, for the coverage guard).
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from hypothesis import assume
from hypothesis import strategies as st

import lrdsl
from lrdsl.primitives import CATALOGUE, REGISTRY
from lrdsl.primitives.base import (
    BOOL,
    ENUM,
    INT,
    LENGTH,
    POSITION,
    POSITIONS,
    REAL,
    SCHED,
    VALUE,
    VALUES,
    Param,
    Primitive,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

T = TypeVar("T")

#: The primitives chains are built from: plateau needs metric feedback, and
#: repeat, min and max are the wrappers.
FUZZED: tuple[Primitive, ...] = tuple(p for p in CATALOGUE if p.kind == "primitive")
REPEAT = REGISTRY["repeat"]

MAX_LENGTH = 400  # the tests evaluate every step: keep lengths short
LRS = (1.0, 0.5, 0.1, 3e-4, 1e-6, 0.0, 0.37, 2.5)
BASE_LRS = ("base", "base / 10", "0.3 * base")  # > 0 for any base_lr > 0
REALS = (0.0, 1e-3, 0.1, 0.37, 0.5, 0.9, 0.99, 1.0, 1.1, 1.5, 2.0, 3.0, 10.0)
PERCENTS = (0.5, 1, 2, 5)
ATTEMPTS = 6  # draws of one segment (each with shorter lengths) before the example is rejected
WRAPS = ("", "", "", "scale", "floor", "ceil", "repeat")


class Rejected(Exception):
    """No valid segment or chain was drawn: hypothesis rejects the example."""


class Drawn(NamedTuple):
    """An argument: its text and its meaning, as the length rules and
    :data:`RULES` read it (steps, a number, a list, a nested schedule's
    length; ``None`` for a base expression)."""

    text: str
    value: Any


class Ctx(NamedTuple):
    total: int | None  # resolves % lengths (None: no % lengths)
    cap: int  # the longest length drawn
    elastic: bool = False  # the segment fills what the others leave


# ---------------------------------------------------------------- sources of choices


class Source:
    """The generator's choices; subclasses give ``integer``.  For the coverage
    guard's rejection rates, ``tried`` counts segment draws per primitive (and
    chains), ``failed`` failures per (primitive, error code or reason) and
    ``rejected`` the examples given up; ``last`` is the last chain compiled."""

    def __init__(self) -> None:
        self.tried: Counter[str] = Counter()
        self.failed: Counter[tuple[str, str]] = Counter()
        self.rejected = 0
        self.last: lrdsl.Schedule | None = None

    def integer(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]

    def chance(self, percent: int) -> bool:
        return self.integer(0, 99) >= 100 - percent  # shrinks towards False

    def subset(self, items: Sequence[T]) -> list[T]:
        """Each item with chance 1/2, in one draw (shrinks towards none)."""
        mask = self.integer(0, (1 << len(items)) - 1) if items else 0
        return [x for i, x in enumerate(items) if mask >> i & 1]

    def shuffled(self, items: Sequence[T]) -> list[T]:
        """A permutation, in one draw (shrinks towards the given order)."""
        rest, out = list(items), []
        index = self.integer(0, math.factorial(len(rest)) - 1)
        while rest:
            index, k = divmod(index, len(rest))
            out.append(rest.pop(k))
        return out


class HypothesisSource(Source):
    def __init__(self, draw: Callable[[Any], Any]) -> None:
        super().__init__()
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return int(self.draw(st.integers(lo, hi)))


class RandomSource(Source):
    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


# ---------------------------------------------------------------- what the registry says


def _num(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


@functools.cache
def real_candidates(p: Param) -> list[float]:
    """Numbers in ``p.domain``: its closed ends, points just inside its open
    ends, the default, and ordinary values."""
    d = p.domain
    xs = {x for x in REALS if d.contains(x)}
    if d.lo is not None:
        xs.add(float(d.lo) + 1e-3 if d.lo_open else float(d.lo))
    if d.hi is not None:
        xs.add(float(d.hi) - 1e-3 if d.hi_open else float(d.hi))
    if isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
        xs.add(float(p.default))
    return sorted(x for x in xs if d.contains(x))


@functools.cache
def int_candidates(p: Param) -> list[int]:
    """Whole numbers in ``p.domain``, a few from its low end (counts such as
    ``cycles=`` and ``repeat``'s n stay small)."""
    d = p.domain
    lo = -2 if d.lo is None else math.ceil(d.lo)
    hi = lo + 4 if d.hi is None else min(math.floor(d.hi), lo + 4)
    return [k for k in range(lo, hi + 1) if d.contains(k)]


def _plain(p: Param) -> Any:
    """A resolved argument of ``p``'s kind, for probing a ``length`` rule."""
    if p.kind == REAL:
        return (real_candidates(p) or [1.0])[-1]
    if p.kind == INT:
        return (int_candidates(p) or [1])[0]
    if p.kind == ENUM:
        return p.choices[0]
    plain = {LENGTH: 10, POSITION: 0, VALUE: 0.1, BOOL: False, POSITIONS: [10], VALUES: [0.1, 0.1], SCHED: 10}
    return plain.get(p.kind)  # SCHED: a nested schedule's length


UNKNOWN = "unknown"


def predicted_length(prim: Primitive, args: dict[str, Drawn]) -> int | str | None:
    """``prim``'s length rule on ``args`` (the defaults for the rest): ``None``
    for unbounded, :data:`UNKNOWN` when the rule cannot be applied."""
    rule = RULES.get(prim.name, {}).get("length", prim.length)
    if rule is None:
        return UNKNOWN
    resolved = {p.name: args[p.name].value if p.name in args else p.default for p in prim.params}
    try:
        return rule(resolved)  # type: ignore[no-any-return]
    except Exception:  # a rule that needs what a Drawn does not hold: the compile decides
        return UNKNOWN


def _probe(prim: Primitive, given: Sequence[str] = ()) -> int | str | None:
    args = {p.name: Drawn("", _plain(p)) for p in prim.params if p.required or p.name in given}
    return predicted_length(prim, args)


@functools.cache
def _natural(name: str) -> int | str | None:
    """The length of ``name`` with its defaults (``None``: unbounded)."""
    return _probe(REGISTRY[name])


def bounders(prim: Primitive) -> tuple[str, ...]:
    """The keywords that bound an unbounded ``prim``: its declared ``bounds``,
    else the optional parameters that its length rule says bound it."""
    return _bounders(prim.name)


@functools.cache
def _bounders(name: str) -> tuple[str, ...]:
    prim = REGISTRY[name]
    if prim.bounds:
        return tuple(prim.bounds)
    if _natural(name) is not None:  # bounded already
        return ()
    return tuple(p.name for p in prim.params if not p.required and isinstance(_probe(prim, (p.name,)), int))


def can_be(prim: Primitive, want: str) -> bool:
    """Whether ``prim`` can make a ``want`` ("bounded"/"unbounded") segment."""
    return _can_be(prim.name, want)


@functools.cache
def _can_be(name: str, want: str) -> bool:
    prim = REGISTRY[name]
    natural = _natural(name)
    if want == "unbounded":
        return natural is None or natural == UNKNOWN
    return natural is not None or bool(bounders(prim))


@functools.cache
def eligible(want: str) -> tuple[Primitive, ...]:
    """The fuzzed primitives that can make a ``want`` segment."""
    return tuple(p for p in FUZZED if can_be(p, want))


# ---------------------------------------------------------------- interplays


def _restarts(src: Source, args: dict[str, Drawn], ctx: Ctx) -> None:
    # t_mul < 1 shrinks the cycles, so they run out: only with cycles= (E0401)
    if "t_mul" in args and args["t_mul"].value < 1 and "cycles" not in args:
        args["t_mul"] = draw_real(src, REGISTRY["cosine_restarts"].param("t_mul"), lambda x: x >= 1)  # type: ignore[arg-type]


def _warmup(src: Source, args: dict[str, Drawn], ctx: Ctx) -> None:
    # shape=exp ramps geometrically: start and target > 0 (E0401), and the
    # target given (by default it is where the next segment starts: maybe 0)
    if "shape" in args and args["shape"].value == "exp":
        for name in ("start", "end"):
            if args.get(name, Drawn("", 0.0)).value == 0.0:
                args[name] = draw_lr(src, positive=True)


def _cooldown(src: Source, args: dict[str, Drawn], ctx: Ctx) -> None:
    # power= goes with shape=power only (E0401); shape=exp decays geometrically:
    # start and end > 0 (E0401), start given (by default the previous end: maybe 0)
    if "power" in args:
        args["shape"] = Drawn("power", "power")
    if "shape" in args and args["shape"].value == "exp":
        for name in ("start", "end"):
            if args.get(name, Drawn("", 0.0)).value == 0.0:
                args[name] = draw_lr(src, positive=True)


#: What the registry does not say, per primitive: ``exclusive`` keyword groups
#: (E0307: give at most one of each), ``sizes`` of list parameters from other
#: arguments, ``fix`` for values that need one another, ``length`` where the
#: registry has no length rule (the combinator ``repeat``).
RULES: dict[str, dict[str, Any]] = {
    "cosine": {"exclusive": (("min", "alpha"),)},
    "cosine_restarts": {"exclusive": (("min", "alpha"), ("steps", "cycles")), "fix": _restarts},
    "cyclic": {"exclusive": (("steps", "cycles"),)},
    "one_cycle": {"exclusive": (("start", "div"), ("end", "final_div"))},
    "piecewise": {"sizes": {"values": lambda args: len(args["boundaries"].value) + 1}},
    "warmup": {"fix": _warmup},
    "cooldown": {"fix": _cooldown},
    "repeat": {"length": lambda a: _repeat_length(a)},
}


def _repeat_length(a: dict[str, Any]) -> int | None:
    if a["n"] is None:
        return None  # forever
    if not isinstance(a["schedule"], int):
        raise ValueError("the repeated schedule's length is not known")
    return int(a["n"] * a["schedule"])


# ---------------------------------------------------------------- values


def draw_lr(src: Source, positive: bool = False) -> Drawn:
    """A learning rate: a number (0 included) or, 3 times in 13, a base expression."""
    options: list[float | str] = [*(x for x in LRS if x > 0 or not positive), *LRS[:2], *BASE_LRS]
    x = src.choice(options)
    return Drawn(x, None) if isinstance(x, str) else Drawn(_num(x), x)


def draw_real(src: Source, p: Param, keep: Callable[[float], bool] = lambda x: True) -> Drawn:
    """A number in ``p.domain``: a candidate, or anywhere inside the domain."""
    xs = [x for x in real_candidates(p) if keep(x)]
    pick = src.integer(0, len(xs))
    if pick < len(xs):
        return Drawn(_num(xs[pick]), xs[pick])
    d = p.domain
    lo = float(d.lo) if d.lo is not None else (float(d.hi) - 3 if d.hi is not None else -1.0)
    hi = float(d.hi) if d.hi is not None else lo + 3
    x = float(f"{lo + (hi - lo) * src.integer(1, 999) / 1000:.4g}")
    if not (d.contains(x) and keep(x)):
        x = xs[0] if xs else 1.0
    return Drawn(_num(x), x)


def draw_steps(src: Source, ctx: Ctx, zero: bool) -> Drawn:
    """A length in steps, plain or ``%``; ``zero``: a position, which may be 0."""
    how = src.integer(0, 99)
    if zero and how < 15:
        return Drawn("0", 0)
    if ctx.total is not None and how >= 88:
        pct = PERCENTS[how % len(PERCENTS)]
        steps = int(pct * ctx.total / 100 + 0.5)  # halves up
        if 1 <= steps <= ctx.cap:
            return Drawn(f"{_num(pct)}%", steps)
    n = 1 if 80 <= how < 88 else src.integer(1, ctx.cap)
    return Drawn(str(n), n)


def draw_value(src: Source, p: Param, args: dict[str, Drawn], rule: dict[str, Any], ctx: Ctx) -> Drawn:
    """An argument for ``p``, from its kind and domain."""
    kind = p.kind
    if kind in (LENGTH, POSITION):
        return draw_steps(src, ctx, zero=kind == POSITION)
    if kind == VALUE:
        return draw_lr(src)
    if kind == REAL:
        return draw_real(src, p)
    if kind == INT:
        k = src.choice(int_candidates(p))
        return Drawn(str(k), k)
    if kind == BOOL:
        b = src.choice((False, True))
        return Drawn("true" if b else "false", b)
    if kind == ENUM:
        word = src.choice(p.choices)
        return Drawn(word, word)
    if kind == POSITIONS:  # strictly increasing, anywhere in the run (past the segment too)
        wide = Ctx(ctx.total, 3000)
        steps = {d.value: d for d in (draw_steps(src, wide, zero=True) for _ in range(src.integer(0, 5)))}
        ordered = [steps[k] for k in sorted(steps)]
        return Drawn("[" + ", ".join(d.text for d in ordered) + "]", [d.value for d in ordered])
    if kind == VALUES:
        size = rule.get("sizes", {}).get(p.name)
        items = [draw_lr(src) for _ in range(size(args) if size else src.integer(1, 4))]
        return Drawn("[" + ", ".join(d.text for d in items) + "]", [d.value for d in items])
    if kind == SCHED:  # a bounded schedule, shorter than the segment it is part of
        prim = src.choice(eligible("bounded"))
        text, length = draw_call(src, prim, "bounded", Ctx(ctx.total, max(1, ctx.cap // 5)))
        return Drawn(text, length if isinstance(length, int) else None)
    raise AssertionError(f"tests/strategies.py cannot draw a {kind!r} parameter ({p.name}): add the kind")


# ---------------------------------------------------------------- calls, segments, chains


def draw_call(src: Source, prim: Primitive, want: str, ctx: Ctx) -> tuple[str, int | str | None]:
    """A call of ``prim``, bounded or unbounded as ``want`` says, and its
    predicted length."""
    rule = RULES.get(prim.name, {})
    if prim.variadic:  # operands only
        operands = [draw_value(src, prim.params[0], {}, rule, ctx).text for _ in range(src.integer(2, 3))]
        return f"{prim.name}({', '.join(operands)})", UNKNOWN
    bound = bounders(prim)
    optional = [p.name for p in prim.params if not p.required and p.name not in bound]
    positional = [p.name for p in prim.params if p.positional]
    chosen = {p.name for p in prim.params if p.required}
    chosen.update(src.subset(optional))
    if src.chance(25):  # a run of leading positional arguments (a subset rarely has the deep ones)
        for name in positional[: src.integer(0, len(positional))]:
            if name not in chosen and name not in optional:
                break  # a bounding keyword: not in an unbounded segment
            chosen.add(name)
    if want == "bounded" and bound and _natural(prim.name) is None:
        chosen.add(src.choice(bound))
    for group in rule.get("exclusive", ()):
        present = [name for name in group if name in chosen]
        if len(present) > 1:  # keep the bounding keyword, else one at random
            keep = next((n for n in present if n in bound), None) or src.choice(present)
            chosen.difference_update(set(present) - {keep})
    sized = rule.get("sizes", {})
    args: dict[str, Drawn] = {}
    for p in sorted((p for p in prim.params if p.name in chosen), key=lambda p: p.name in sized):
        args[p.name] = draw_value(src, p, args, rule, ctx)
    if "fix" in rule:
        rule["fix"](src, args, ctx)
    # a prefix of the positional parameters goes by position, the rest by keyword in any order
    prefix = 0
    while prefix < len(positional) and positional[prefix] in args:
        prefix += 1
    if src.chance(30):
        prefix = src.integer(0, prefix)
    keywords = src.shuffled([p.name for p in prim.params if p.name in args and p.name not in positional[:prefix]])
    texts = [args[n].text for n in positional[:prefix]] + [f"{n}={args[n].text}" for n in keywords]
    return f"{prim.name}({', '.join(texts)})", predicted_length(prim, args)


def draw_segment(
    src: Source, want: str, total: int | None, budget: int, prim: Primitive | None = None, elastic: bool = False
) -> tuple[str, str]:
    """A segment, bounded (at most ``budget`` steps long) or unbounded, and the
    primitive (or ``repeat``) it calls."""
    wrap = src.choice(WRAPS) if prim is None else ""
    if wrap == "repeat":
        prim = REPEAT
    elif prim is None:
        prim = src.choice(eligible(want))
    for attempt in range(ATTEMPTS):
        src.tried[prim.name] += 1
        ctx = Ctx(total, max(1, min(MAX_LENGTH, budget) >> attempt), elastic)  # shorter on every retry
        text, length = draw_call(src, prim, want, ctx)
        if wrap == "scale":  # a number times a schedule, min/max with a number: the same length
            text = f"{src.choice(['0.5', '2', '0.1'])} * {text}"
        elif wrap == "floor":
            text = f"max({text}, {src.choice(['1e-4', '0.05'])})"
        elif wrap == "ceil":
            text = f"min({text}, {src.choice(['0.5', '0.9'])})"
        if length == UNKNOWN:
            try:
                length = lrdsl.compile(text, total_steps=total).program.root.length
            except lrdsl.LrdslError as err:
                src.failed[prim.name, err.code] += 1
                continue
        if want == "unbounded" and length is not None:
            src.failed[prim.name, "bounded where unbounded was wanted"] += 1
        elif want == "bounded" and not (isinstance(length, int) and length <= budget):
            src.failed[prim.name, "unbounded" if length is None else "longer than the budget"] += 1
        else:
            return prim.name, text
    raise Rejected(f"no {want} {prim.name} segment in {ATTEMPTS} draws")


def generate(src: Source) -> tuple[str, int]:
    """A schedule text that compiles with ``total_steps``, and that total."""
    n = src.integer(1, 4)
    elastic_at = src.integer(-1, n - 1)  # -1: none; n-1: an unbounded last segment
    total = src.integer(2000, 6000)
    budget = total // 5  # four segments and a warmup leave room for an elastic one
    parts = []
    for i in range(n):
        want = "unbounded" if i == elastic_at and src.chance(50) else "bounded"
        parts.append(draw_segment(src, want, total, budget, elastic=want == "unbounded" and i < n - 1))
    if "warmup" in REGISTRY and src.chance(50):
        parts.insert(0, draw_segment(src, "bounded", total, 100, prim=REGISTRY["warmup"]))
    text = " >> ".join(part for _name, part in parts)
    try:
        src.last = lrdsl.compile(text, total_steps=total)
    except lrdsl.LrdslError as err:
        src.failed["chain", err.code] += 1
        for name, part in parts:  # whose fault, for the coverage guard's counts
            try:
                lrdsl.compile(part, total_steps=total)
            except lrdsl.LrdslError as alone:
                src.failed[name, alone.code] += 1
        raise Rejected(f"{text}: {err.code} {err.message}") from None
    finally:
        src.tried["chain"] += 1
    return text, total


def random_schedule(src: RandomSource) -> tuple[str, int]:
    """:func:`generate` under ``random``, drawing again after a rejection."""
    while True:
        try:
            return generate(src)
        except Rejected:
            src.rejected += 1


# ---------------------------------------------------------------- hypothesis strategies


@st.composite
def schedules(draw) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A valid schedule text and the total steps it compiles with."""
    try:
        return generate(HypothesisSource(draw))
    except Rejected:
        assume(False)
        raise


@st.composite
def segment(draw, allow_unbounded: bool = True) -> str:  # type: ignore[no-untyped-def]
    """One segment, bounded or (if allowed) unbounded; no % lengths, so it
    compiles without a total."""
    src = HypothesisSource(draw)
    want = "unbounded" if allow_unbounded and src.chance(50) else "bounded"
    try:
        return draw_segment(src, want, None, MAX_LENGTH * 5)[1]
    except Rejected:
        assume(False)
        raise


def bounded() -> st.SearchStrategy[str]:
    return segment(allow_unbounded=False)


@st.composite
def unbounded(draw) -> str:  # type: ignore[no-untyped-def]
    try:
        return draw_segment(HypothesisSource(draw), "unbounded", None, MAX_LENGTH * 5)[1]
    except Rejected:
        assume(False)
        raise
