"""Diagnostics for every stage: the error hierarchy, stable codes, caret rendering
and did-you-mean suggestions.

Every error a user can cause is an :class:`LrdslError` with a stable code, a
message, an optional span into the source, a label printed under the caret and
``help:`` hints.  Rendered, it reads like a compiler's diagnostic::

    error[E0201]: unknown primitive 'cosin'
     --> line 1, column 14
      |
    1 | warmup(5) >> cosin(10)
      |              ^^^^^ not a primitive
      = help: did you mean 'cosine'?
"""

from __future__ import annotations

from .ast import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: Every code with a one-line meaning; the README's table is generated from it.
CODES: dict[str, str] = {
    "E0101": "a character that cannot start any token",
    "E0102": "a token where the grammar does not allow it",
    "E0103": "the input ends too early",
    "E0104": "a number literal that is too long",
    "E0105": "a number that is too large, too small or not finite",
    "E0106": "empty input",
    "E0201": "unknown primitive",
    "E0202": "unknown keyword argument",
    "E0203": "unknown name",
    "E0204": "a placeholder with no value",
    "E0205": "a placeholder value that the schedule does not use",
    "E0206": "a binding that reuses a reserved or bound name",
    "E0207": "a plan key that is not a hyperparameter the optimizer or plan has",
    "E0301": "too many positional arguments",
    "E0302": "a required argument is missing",
    "E0303": "an argument given twice",
    "E0304": "a positional argument after a keyword argument",
    "E0305": "a value of the wrong kind (number, length, list, schedule, word)",
    "E0306": "a word that is not one of the allowed choices",
    "E0307": "arguments that exclude each other",
    "E0401": "a value outside its domain",
    "E0402": "a length that is not a whole number of steps",
    "E0403": "a length that rounds to zero steps",
    "E0404": "a hyperparameter's schedule that leaves its domain (lr >= 0, momentum in [0, 1], ...)",
    "E0501": "'%' used without total_steps",
    "E0502": "'ep' used without steps_per_epoch",
    "E0503": "an invalid compile context (base_lr, total_steps, steps_per_epoch, clock, tokens_per_step, ...)",
    "E0504": "a length in tokens, samples or steps without the tokens_per_step or samples_per_step it needs",
    "E0601": "an unbounded segment before the end of a chain, with no total to fill",
    "E0602": "two unbounded segments in one chain",
    "E0603": "no steps left for the elastic segment",
    "E0604": "a schedule that must be bounded is not",
    "E0605": "a value that depends on itself (warmup target and prev)",
    "E0606": "an operator applied to operands it does not take",
    "E0607": "a reactive segment (plateau) where feedback is not available",
    "E0608": "a resumed plan that does not continue the saved one (resume='prefix')",
    "E0701": "the source is too large",
    "E0702": "the expression nests too deeply",
    "E0703": "too many segments",
    "E0704": "too many steps requested",
    "E0801": "a construct that the target framework cannot express",
    "E0802": "a framework or optional package that is not installed",
    "E0901": "a file that cannot be read or written, or a config that lacks the key",
}


class LrdslError(Exception):
    """Base of every error lrdsl raises for bad input.

    ``code`` is stable across releases; ``span`` points into ``source`` (when
    known); ``label`` is printed under the caret; ``hints`` become ``help:`` lines.
    """

    default_code = "E0000"

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        code: str | None = None,
        label: str = "",
        hints: Sequence[str] = (),
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.code = code or self.default_code
        self.label = label
        self.hints = tuple(hints)
        self.source = source
        self.key: str | None = None

    def in_key(self, key: str) -> LrdslError:
        """Say which key of a plan the error is in (first one wins) and return ``self``."""
        if self.key is None:
            self.key = key
            self.message = f"in the plan's '{key}': {self.message}"
            self.args = (self.message,)
        return self

    def with_source(self, source: str) -> LrdslError:
        """Attach the source text (first one wins) and return ``self``."""
        if self.source is None:
            self.source = source
        return self

    @property
    def line(self) -> int | None:
        """1-based line of the span's start, or ``None`` without source or span."""
        pos = self._position()
        return None if pos is None else pos[0]

    @property
    def column(self) -> int | None:
        """1-based column (in characters) of the span's start."""
        pos = self._position()
        return None if pos is None else pos[1]

    def _position(self) -> tuple[int, int] | None:
        if self.span is None or self.source is None:
            return None
        return line_col(self.source, self.span.start)

    def to_dict(self) -> dict[str, object]:
        """A plain dict for tools (JSON-serialisable)."""
        return {
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "start": None if self.span is None else self.span.start,
            "end": None if self.span is None else self.span.end,
            "label": self.label,
            "hints": list(self.hints),
            "key": self.key,
        }

    def render(self) -> str:
        """The full diagnostic: header, location, source line, caret, hints."""
        out = [f"error[{self.code}]: {self.message}"]
        pos = self._position()
        if pos is not None and self.source is not None and self.span is not None:
            line, col = pos
            text = self.source.split("\n")[line - 1] if self.source else ""
            gutter = " " * len(str(line))
            start = col - 1
            stop = min(len(text), max(start + 1, start + self.span.end - self.span.start))
            lo = 0
            hi = len(text)
            if hi > _SHOWN:  # a window around the caret, so a long line stays readable
                lo = max(0, min(start - _SHOWN // 3, len(text) - _SHOWN))
                hi = lo + _SHOWN
                stop = min(stop, hi)
            head = "..." if lo > 0 else ""
            shown = head + _printable(text[lo:hi]) + ("..." if hi < len(text) else "")
            start += len(head) - lo
            stop += len(head) - lo
            pad = _width(shown[:start])
            carets = max(1, _width(shown[start:stop]))
            out.append(f"{gutter}--> line {line}, column {col}")
            out.append(f"{gutter} |")
            out.append(f"{line} | {shown}".rstrip())
            label = f" {self.label}" if self.label else ""
            out.append(f"{gutter} | {' ' * pad}{'^' * carets}{label}")
            for hint in self.hints:
                out.append(f"{gutter} = help: {hint}")
        else:
            for hint in self.hints:
                out.append(f"  = help: {hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        """The diagnostic as :meth:`render` gives it: ``error[CODE]: message``,
        with the caret when the source is known, and the hints."""
        return self.render()


class LrdslSyntaxError(LrdslError):
    """The text is not in the grammar (or a literal in it is unusable)."""

    default_code = "E0102"


class UnknownNameError(LrdslError):
    """A primitive, keyword, name or placeholder that does not exist."""

    default_code = "E0203"


class ArgumentError(LrdslError):
    """Wrong arity, duplicate or misplaced arguments, wrong kinds of values."""

    default_code = "E0305"


class ValueDomainError(LrdslError):
    """A value of the right kind but outside what the parameter accepts."""

    default_code = "E0401"


class ContextError(LrdslError):
    """Units or lengths that need context the caller did not give."""

    default_code = "E0501"


class CompositionError(LrdslError):
    """Segments that do not fit together (elastic fill, warmup targets, bounds)."""

    default_code = "E0601"


class LimitError(LrdslError):
    """An input beyond the limits that keep parsing and evaluation bounded."""

    default_code = "E0701"


class UnsupportedError(LrdslError):
    """A construct a backend or emitter cannot express."""

    default_code = "E0801"


class LrdslWarning(UserWarning):
    """Base of every warning lrdsl gives; ``warnings.filterwarnings("ignore",
    category=lrdsl.LrdslWarning)`` silences them all."""


class CountingWarning(LrdslWarning):
    """A scheduler stepped past the total it was built for: most often a
    counting mistake (stepped per micro-batch, per process, per batch where
    the total counts epochs)."""


class FeedbackWarning(LrdslWarning):
    """A ``plateau(...)`` segment that has been active for a while without
    receiving any metric: it holds its start value and never cuts."""


_SHOWN = 100  # characters of a source line shown around the caret


def line_col(source: str, pos: int) -> tuple[int, int]:
    """1-based (line, column) of character offset ``pos``; the end of input is valid."""
    pos = max(0, min(pos, len(source)))
    line = source.count("\n", 0, pos) + 1
    col = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return line, col


def _printable(text: str) -> str:
    """The line as it is safe to print: tabs as one space, control and bidi
    characters as U+FFFD, one character each so columns stay put."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\t":
            out.append(" ")
        elif code < 32 or code == 127 or 0x80 <= code < 0xA0 or _is_format(ch):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def _is_format(ch: str) -> bool:
    import unicodedata

    return unicodedata.category(ch) in ("Cf", "Cs", "Co", "Cn")


def _width(text: str) -> int:
    """Terminal cells taken by ``text`` (wide East Asian characters take two)."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


#: Framework spellings users bring with them, mapped to lrdsl's names.
ALIASES: dict[str, str] = {
    # keywords
    "T_0": "n",
    "T_max": "n",
    "T_mult": "t_mul",
    "eta_min": "min",
    "min_lr": "min",
    "lr_min": "min",
    "max_lr": "max",
    "base_lr": "low",
    "step_size": "every",
    "step_size_up": "step_size",
    "step_size_down": "down",
    "decay_rate": "gamma",
    "decay_steps": "n",
    "first_decay_steps": "n",
    "total_steps": "n",
    "total_iters": "n",
    "warmup_steps": "warmup",
    "num_warmup_steps": "warmup",
    "initial_learning_rate": "start",
    "end_learning_rate": "end",
    "end_lr": "end",
    "div_factor": "div",
    "final_div_factor": "final_div",
    "anneal_strategy": "anneal",
    "start_factor": "start",
    "end_factor": "end",
    "factor": "gamma",
    # primitives
    "CosineAnnealingLR": "cosine",
    "CosineDecay": "cosine",
    "cosine_annealing": "cosine",
    "CosineAnnealingWarmRestarts": "cosine_restarts",
    "CosineDecayRestarts": "cosine_restarts",
    "sgdr": "cosine_restarts",
    "StepLR": "step",
    "MultiStepLR": "multistep",
    "ExponentialLR": "exp",
    "ExponentialDecay": "exp",
    "exponential": "exp",
    "PolynomialLR": "poly",
    "PolynomialDecay": "poly",
    "polynomial": "poly",
    "LinearLR": "linear",
    "ConstantLR": "const",
    "constant": "const",
    "CyclicLR": "cyclic",
    "OneCycleLR": "one_cycle",
    "onecycle": "one_cycle",
    "PiecewiseConstantDecay": "piecewise",
    "InverseTimeDecay": "inverse_time",
    "ReduceLROnPlateau": "plateau",
}


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``word`` (a known alias first), or ``None``."""
    pool = sorted(set(candidates))
    alias = ALIASES.get(word)
    if alias is not None and alias in pool:
        return alias
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered:
        return lowered[word.lower()]
    import difflib

    match = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not match:
        match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[m] for m in match]
    return match[0] if match else None


def did_you_mean(word: str, candidates: Iterable[str]) -> list[str]:
    """``["did you mean 'x'?"]`` when a close candidate exists, else ``[]``."""
    best = suggest(word, candidates)
    return [f"did you mean '{best}'?"] if best is not None and best != word else []
