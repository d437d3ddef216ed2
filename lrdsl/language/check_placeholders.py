"""Check stage, placeholders: ``$name`` gets the value the caller gave for it.

A value is an int, a float, or text such as ``"3e-4"`` or ``"5%"`` (how
``-D name=value`` arrives), and becomes a number literal (with its unit) at
the placeholder's span.  The names ``lrdsl.compile`` takes itself cannot be
placeholders (E0206), a placeholder without a value is E0204, and a value
for a placeholder the schedule does not use is E0205.
"""

from __future__ import annotations

from . import ast as A
from .checked import CNum
from .errors import ArgumentError, LrdslError, UnknownNameError, did_you_mean

#: Names ``lrdsl.compile`` takes itself, so no placeholder could ever be given them.
RESERVED_PLACEHOLDERS = frozenset(
    {
        "base_lr",
        "total_steps",
        "steps_per_epoch",
        "tokens_per_step",
        "samples_per_step",
        "total_tokens",
        "total_samples",
        "clock",
    }
)


class Placeholders:
    """The values given for placeholders, and which of them the schedule uses."""

    def __init__(self, given: dict[str, object]) -> None:
        self.given = given
        self.used: set[str] = set()

    def number(self, node: A.Placeholder) -> CNum:
        """The number ``node`` stands for."""
        if node.name in RESERVED_PLACEHOLDERS:
            raise ArgumentError(
                f"${node.name} cannot be a placeholder: {node.name}= is lrdsl.compile's own argument",
                node.span,
                code="E0206",
                label="reserved name",
                hints=[f"rename it, e.g. ${node.name}_value"],
            )
        if node.name not in self.given:
            hints = [f"give it a value: lrdsl.compile(..., {node.name}=...) or lrdsl eval -D {node.name}=..."]
            if self.given:
                hints = did_you_mean(node.name, self.given) + hints
            raise UnknownNameError(
                f"placeholder ${node.name} has no value",
                node.span,
                code="E0204",
                label="no value given",
                hints=hints,
            )
        self.used.add(node.name)
        try:
            value = placeholder_value(node.name, self.given[node.name])
        except LrdslError as err:
            err.span = err.span or node.span
            raise
        return CNum(A.Num(value.value, value.unit, span=node.span), node.span, unit=value.unit is not None)

    def check_all_used(self) -> None:
        """Refuse a value given for a placeholder the schedule does not use (E0205)."""
        unused = sorted(set(self.given) - self.used)
        if unused:
            raise UnknownNameError(
                f"placeholder value given for {', '.join('$' + u for u in unused)}, which the schedule does not use",
                None,
                code="E0205",
                hints=did_you_mean(unused[0], self.used) if self.used else [],
            )


def placeholder_value(name: str, value: object) -> A.Num:
    """A placeholder's value as a number literal: an int, a float, or text such
    as ``"3e-4"`` or ``"5%"`` (how ``-D name=value`` arrives)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ArgumentError(f"placeholder ${name} must be a number, not {type(value).__name__}", None, code="E0305")
    if isinstance(value, str):
        from .syntax import parse

        try:
            body = parse(value.strip()).body
        except LrdslError:
            body = None
        if not isinstance(body, A.Num):
            raise ArgumentError(
                f"placeholder ${name}={value!r} is not a number",
                None,
                code="E0305",
                hints=["placeholder values are numbers, optionally with a unit: 3e-4, 2k, 5%, 2ep"],
            )
        return body
    if isinstance(value, float) and not (value == value and abs(value) != float("inf")):
        raise ArgumentError(f"placeholder ${name}={value} is not finite", None, code="E0105")
    return A.Num(value)
