"""Registry stage: combinators, the entries whose arguments are schedules.

``repeat``, ``min`` and ``max`` have no formula of their own: the compiler
lowers them to IR nodes (``repeat``, ``min``, ``max``) that every evaluator
walks.  Their entries here give them names, parameters and documentation like
any primitive, so did-you-mean, ``lrdsl list`` and the README table see them.
"""

from __future__ import annotations

from .base import INT, REAL, SCHED, Domain, Param, Primitive

REPEAT = Primitive(
    "repeat",
    (
        Param("schedule", SCHED, doc="a bounded schedule"),
        Param("n", INT, None, "number of repetitions (default: forever)", domain=Domain(1, None)),
        Param("decay", REAL, 1.0, "each repetition is scaled by decay^k", domain=Domain(0, None)),
    ),
    "repeat a bounded schedule",
    """repetition k (from 0) covers steps [k*len, (k+1)*len) with values
    decay^k * schedule(t - k*len); after n repetitions it holds the last value.

    >>> s = lrdsl.compile("repeat(linear(4, start=1, end=0), 3, decay=0.5)")
    >>> s(1), s(5), s(12)
    (0.75, 0.375, 0.0)
    """,
    matches="the seeds' snapshot-ensemble cosine callback (repeat(cosine(...), cycles))",
    opcode=20,
    kind="combinator",
)

MIN = Primitive(
    "min",
    (Param("schedules", SCHED, doc="two or more schedules or numbers"),),
    "pointwise minimum (a ceiling)",
    """the smallest of the operands at each step; bounded by its longest
    bounded operand when every unbounded operand is a constant.

    >>> lrdsl.compile("min(linear(10, start=1, end=0), 0.5)")(2)
    0.5
    """,
    opcode=21,
    kind="combinator",
    variadic=True,
)

MAX = Primitive(
    "max",
    (Param("schedules", SCHED, doc="two or more schedules or numbers"),),
    "pointwise maximum (a floor)",
    """the largest of the operands at each step.

    >>> lrdsl.compile("max(linear(10, start=1, end=0), 0.5)")(8)
    0.5
    """,
    opcode=22,
    kind="combinator",
    variadic=True,
)

ALL = (REPEAT, MIN, MAX)
