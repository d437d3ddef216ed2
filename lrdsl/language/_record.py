"""Immutable slotted records, the lightweight stand-in for frozen dataclasses.

``@dataclass(frozen=True, slots=True)`` costs ~0.5 ms per class at import
(it compiles six methods with ``exec`` and rebuilds the class for slots); with
26 such classes that was a quarter of ``lrdsl eval``'s start-up.  A
:class:`Record` subclass declares ``__slots__`` (its fields, in order),
optional ``_defaults`` and ``_hidden`` (fields left out of equality, hashing
and repr, such as source spans), and gets the same behaviour: positional or
keyword construction, immutability, value equality, hashing, a readable repr,
``_replace`` and pickling.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    R = TypeVar("R", bound="Record")

_MISSING = object()
_setattr = object.__setattr__


class Record:
    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _compared: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}
    _hidden: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        fields: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("__slots__", ()):
                if name not in fields and not name.startswith("__"):
                    fields.append(name)
        cls._fields = tuple(fields)
        cls._compared = tuple(f for f in fields if f not in cls._hidden)

    def __init__(self, *args: Any, **kw: Any) -> None:
        fields = self._fields
        n = len(args)
        setter = _setattr
        if n == len(fields) and not kw:  # the common case, kept short: records are built per token
            for name, value in zip(fields, args):
                setter(self, name, value)
            return
        if n > len(fields):
            raise TypeError(f"{type(self).__name__} takes at most {len(fields)} arguments")
        for name, value in zip(fields, args):
            setter(self, name, value)
        for name in fields[n:]:
            value = kw.pop(name, _MISSING)
            if value is _MISSING:
                default = self._defaults.get(name, _MISSING)
                if default is _MISSING:
                    raise TypeError(f"{type(self).__name__} is missing '{name}'")
                value = default() if callable(default) and isinstance(default, type) else default
            setter(self, name, value)
        if kw:
            raise TypeError(f"{type(self).__name__} got unexpected {', '.join(kw)}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._compared)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._compared)
        return f"{type(self).__name__}({inner})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, tuple(getattr(self, f) for f in self._fields)))

    def _replace(self: R, **changes: Any) -> R:
        """A copy with some fields changed."""
        return self.__class__(*[changes.pop(f) if f in changes else getattr(self, f) for f in self._fields], **changes)


def _rebuild(cls: type[Record], values: tuple[Any, ...]) -> Record:
    return cls(*values)
