"""Registry stage: what a primitive is.

A :class:`Primitive` is one value holding everything lrdsl knows about a
schedule shape: its parameters (kind, default, domain, doc), its natural
length, how its resolved arguments become numeric parameters (``prepare``), the
one formula that computes it, written against an array namespace ``xp`` (numpy
for the reference evaluator, plain ``math`` for scalars, ``keras.ops`` for the
Keras emitter), and the opcode the C kernel knows it by.

Formulas receive the local time ``t`` as integers (an int64 array or a Python
int) and must cast with ``xp.f`` before floating-point arithmetic, so integer
parts (cycle indices, staircases) stay exact for any step.
"""

from __future__ import annotations

from ..language._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: Default markers: a required argument; the base learning rate; the value the
#: previous segment ends at (base when there is none or it is a warmup that
#: hands off to this segment); the value the next segment starts at (warmup).
REQUIRED = _Marker("REQUIRED")
BASE = _Marker("base")
PREV = _Marker("prev")
NEXT = _Marker("next")

#: Parameter kinds.
LENGTH = "length"  # whole steps > 0; units ep and % allowed
POSITION = "position"  # whole steps >= 0 (a milestone); units allowed
VALUE = "value"  # a learning rate >= 0; may use base and prev
REAL = "real"  # a plain number with a domain
INT = "int"  # a whole number with a domain
BOOL = "bool"  # true / false
ENUM = "enum"  # one of ``choices``
SCHED = "sched"  # a schedule (a number is a constant schedule)
POSITIONS = "positions"  # a list of POSITION, strictly increasing
VALUES = "values"  # a list of VALUE

KIND_WORDS = {
    LENGTH: "a length in steps",
    POSITION: "a step",
    VALUE: "a learning rate",
    REAL: "a number",
    INT: "a whole number",
    BOOL: "true or false",
    ENUM: "one of the listed words",
    SCHED: "a schedule",
    POSITIONS: "a list of steps",
    VALUES: "a list of learning rates",
}


class Domain(Record):
    """An interval; ``None`` ends are unbounded."""

    __slots__ = ("lo", "hi", "lo_open", "hi_open")
    _defaults = {"lo": None, "hi": None, "lo_open": False, "hi_open": False}

    lo: float | None
    hi: float | None
    lo_open: bool
    hi_open: bool

    def contains(self, x: float) -> bool:
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        return not (self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi))

    def describe(self) -> str:
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {_num(self.lo)}")
        if self.hi is not None:
            parts.append(f"{'<' if self.hi_open else '<='} {_num(self.hi)}")
        return " and ".join(parts) if parts else "any number"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


POSITIVE = Domain(0, None, lo_open=True)
NONNEGATIVE = Domain(0, None)
UNIT = Domain(0, 1)
ANY = Domain()


class Param(Record):
    """One parameter: ``name=default`` of some ``kind``; ``positional`` ones may
    also be given by position, in declaration order."""

    __slots__ = ("name", "kind", "default", "doc", "domain", "choices", "positional", "shown")
    # shown: how the default reads in signatures, when it is not the literal default
    _defaults = {"default": REQUIRED, "doc": "", "domain": ANY, "choices": (), "positional": True, "shown": ""}

    name: str
    kind: str
    default: object
    doc: str
    domain: Domain
    choices: tuple[str, ...]
    positional: bool
    shown: str

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class ParamError(ValueError):
    """Raised by a primitive's ``prepare`` for values that do not fit together;
    the compiler turns it into an :class:`~lrdsl.errors.LrdslError` pointing at
    the argument ``param``."""

    def __init__(self, param: str, message: str, *, code: str = "E0401") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class P(dict):  # type: ignore[type-arg]
    """Prepared numeric parameters with attribute access (``p.n``, ``p.peak``)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Primitive(Record):
    """One entry of the registry.

    ``length(args)`` gives the natural length in steps (``None``: unbounded)
    from resolved arguments; ``prepare(args)`` gives the numeric parameters the
    formula reads; ``formula(xp, t, p)`` computes values at local steps ``t``;
    ``end`` says what a bounded segment holds afterwards: ``"continuous"`` (the
    formula at the end step, its left limit), ``"stair"`` (the value at the
    last step) or ``"staircase"`` (stair when the ``staircase`` flag is set);
    ``end_fn(p, length)`` overrides them.  ``kind`` is ``"primitive"`` or
    ``"combinator"`` (repeat, min, max: handled by the compiler).

    The C kernel case: ``opcode``; ``slots(p)``, the node's float and int
    slots; ``check(f, ip)``, whether slot arrays are safe for its C functions
    (see :mod:`lrdsl.primitives.kernel`); ``c_name``, when its C functions are
    another primitive's (``hold`` runs ``const``'s); ``vector``, whether it has
    a vectorized range function (``False``: the generated dispatch loops over
    the scalar one, and ``python -m lrdsl._gen_kernel`` says so).
    """

    __slots__ = (
        "name",
        "params",
        "summary",
        "doc",
        "matches",
        "opcode",
        "formula",
        "prepare",
        "length",
        "end",
        "end_fn",
        "kind",
        "variadic",
        "bounds",
        "slots",
        "check",
        "c_name",
        "vector",
        "aliases",
    )
    _defaults = {
        "matches": "-",
        "opcode": 0,
        "formula": None,
        "prepare": None,
        "length": None,
        "end": "continuous",
        "end_fn": None,
        "kind": "primitive",
        "variadic": False,
        "bounds": (),
        "slots": None,
        "check": None,
        "c_name": "",
        "vector": True,
        "aliases": (),
    }

    name: str
    params: tuple[Param, ...]
    summary: str
    doc: str
    matches: str
    opcode: int
    formula: Callable[..., Any] | None
    prepare: Callable[[Mapping[str, Any]], dict[str, Any]] | None
    length: Callable[[Mapping[str, Any]], int | None] | None
    end: str
    end_fn: Callable[[P, int], float] | None
    kind: str
    variadic: bool
    bounds: tuple[str, ...]
    slots: Callable[[P], tuple[list[float], list[int]]] | None
    check: Callable[[Sequence[float], Sequence[int]], bool] | None
    c_name: str
    vector: bool
    aliases: tuple[tuple[str, str], ...]  # (another keyword, the parameter it names)

    @property
    def kernel_name(self) -> str:
        """The name of its C functions (``lrp_<kernel_name>_scalar``)."""
        return self.c_name or self.name

    def __reduce__(self) -> tuple[Any, ...]:
        # a primitive is the registry's: pickled by name (its functions need not pickle)
        return (_registered, (self.name,))

    def param(self, name: str) -> Param | None:
        """The parameter a keyword names (its own name or one of ``aliases``)."""
        name = dict(self.aliases).get(name, name)
        for p in self.params:
            if p.name == name:
                return p
        return None

    @property
    def signature(self) -> str:
        """``cosine(n, peak=base, min=0, alpha=None)``."""
        if self.variadic:
            return f"{self.name}(a, b, ...)"
        parts = []
        for p in self.params:
            if p.required:
                parts.append(p.name)
            else:
                parts.append(f"{p.name}={p.shown or _show_default(p.default)}")
        return f"{self.name}({', '.join(parts)})"


def _registered(name: str) -> Primitive:
    from . import REGISTRY

    return REGISTRY[name]


def _show_default(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _Marker):
        return value.name
    if isinstance(value, float):
        return _num(value) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)
