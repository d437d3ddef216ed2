#!/usr/bin/env python3
"""Coverage-guided fuzz target (atheris) for lrdsl: compile, evaluation on the
C kernel against the numpy reference, and ``DSLScheduler.load_state_dict`` of
a mutated state.

Findings are raised, so atheris reports them with the input that caused them:

- any exception other than :class:`lrdsl.errors.LrdslError` (and an error
  that does not render, or has a code missing from ``lrdsl.errors.CODES``);
- a step outside ``0 <= t < 2**53`` that ``sched(t)`` or ``sched.values``
  accepts instead of raising;
- ``sched(t)`` or ``sched.values`` (sorted, unsorted, ranges, ``out=``)
  disagreeing with the numpy reference beyond the documented bound
  ``|kernel - ref| <= 8 * eps * max(|ref|, S)`` (``S`` the largest finite
  ``|ref|`` over the evaluated steps; tests/test_kernel.py's ``assert_close``
  when importable); NaN must meet NaN and inf the same inf;
- ``DSLScheduler``: an untouched ``state_dict()`` that does not load back to
  the same lrs, or a refused (mutated) state that changed the scheduler or the
  optimizer before it was refused.

An input is ``TEXT`` or ``TEXT \\0 TAIL``: the text (UTF-8) is compiled; the
tail's bytes choose the compile context, the steps (extremes such as 0,
2**53 - 1, 2**53, 2**62, 2**63 - 1, -1, 2**64; steps next to the schedule's
segment boundaries; raw 64-bit values), ranges, ``out=`` and the state
mutations.  A text's ``# context: {...}`` line (the conformance corpus's
header) supplies ``base_lr``, ``total_steps``, ``steps_per_epoch`` and
placeholder values.

Usage (from the repository root, with the test extra installed):

    python tests/fuzz/fuzz_lrdsl.py --make-seeds DIR   # seeds from tests/conformance
    python tests/fuzz/fuzz_lrdsl.py --make-dict FILE   # a libFuzzer -dict= of lrdsl's words
    python tests/fuzz/fuzz_lrdsl.py -atheris_runs=N [libFuzzer flags] [CORPUS_DIR ...]
    python tests/fuzz/fuzz_lrdsl.py --show FILE...     # decode inputs (a crash file) into a repro
    python tests/fuzz/fuzz_lrdsl.py --replay FILE...   # run inputs without atheris (full traceback)

``.ci/fuzz`` runs a short bounded campaign; tests/fuzz/corpus holds the
inputs of past findings (named after them), replayed as seeds on every run.  ``LRDSL_FUZZ_DOMAIN=0`` stops
reporting accepted out-of-domain steps, ``LRDSL_FUZZ_TORCH=0`` skips the
state part (to look past a known finding); ``LRDSL_FUZZ_COLLECT=DIR`` keeps
going after findings and saves the first input of each distinct one in DIR
(for a long triage campaign).  Not collected by pytest (the
file name does not match ``test_*.py``; tests/fuzz/conftest.py also ignores it).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONFORMANCE = os.path.join(ROOT, "tests", "conformance")

STEP_LIMIT = 2**53
EPS = 2.0**-52

#: Steps the tail picks by one byte.
EXTREMES = [
    0,
    1,
    2,
    3,
    7,
    10,
    99,
    100,
    1000,
    10**6,
    2**31 - 1,
    2**31,
    2**32,
    2**32 + 7,
    10**15,
    2**52,
    2**52 + 1,
    2**53 - 2,
    2**53 - 1,
    2**53,
    2**53 + 1,
    2**62,
    2**63 - 2,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    -1,
    -2,
    -(2**63),
]
#: total_steps and steps_per_epoch the tail picks by one byte (past the list: a raw int64).
LENGTHS = [None, 1000, 1, 2, 3, 10, 100, 9000, 10**6, 2**31, 2**53 - 1, 2**53, 2**62, 0, -1, 2**63 - 1]
BASES = [None, 1.0, 0.1, 1e-3, 0.0, -1.0, 1e308, 5e-324, math.nan, math.inf, 3]
PLACEHOLDER_VALUES = [100, 0.1, 1, 1e-3, 10**6, 0, -1, 2**53, 0.5, "cosine", math.nan, True, None, [1, 2]]
#: Default steps for an input without a tail.
DEFAULT_STEPS = [0, 1, 2, 10, 1000, 10**6, 2**31, 2**53 - 2, 2**53 - 1, 2**53, 2**62, 2**63 - 1, -1]

CHECK_DOMAIN = os.environ.get("LRDSL_FUZZ_DOMAIN", "1") != "0"
WANT_TORCH = os.environ.get("LRDSL_FUZZ_TORCH", "1") != "0"


class Finding(AssertionError):
    """A violated contract (not an exception lrdsl raised by itself)."""


# ------------------------------------------------------------------ decoding


class Tail:
    """Bytes consumed front to back; zeros once exhausted."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        b = self.data[self.pos]
        self.pos += 1
        return b

    def i64(self) -> int:
        raw = bytes(self.byte() for _ in range(8))
        return int.from_bytes(raw, "little", signed=True)

    def signed8(self) -> int:
        b = self.byte()
        return b - 256 if b >= 128 else b


def split(data: bytes) -> tuple[bytes, bytes | None]:
    """``TEXT`` or ``TEXT \\0 TAIL`` (the first NUL splits: a text holds none)."""
    cut = data.find(b"\0")
    if cut < 0:
        return data, None
    return data[:cut], data[cut + 1 :]


def header_context(text: str) -> dict[str, object]:
    """The ``# context: {...}`` line of a conformance file, if any."""
    m = re.search(r"^#\s*context:\s*(.*)$", text, re.M)
    if not m:
        return {}
    try:
        ctx = json.loads(m.group(1))
    except ValueError:
        return {}
    if not isinstance(ctx, dict):
        return {}
    return {str(k): v for k, v in ctx.items() if isinstance(v, (int, float, str, bool)) or v is None}


class Case:
    """One decoded input: the text, the compile arguments and the plan."""

    def __init__(self, data: bytes) -> None:
        raw, tail_bytes = split(data)
        tail = Tail(tail_bytes or b"")
        self.has_tail = tail_bytes is not None
        flags = tail.byte()
        self.flags = flags
        self.text = raw.decode("utf-8", errors="surrogateescape" if flags & 0x08 else "replace")
        header = header_context(self.text)
        kwargs: dict[str, object] = {}
        if self.has_tail:
            for key, bit in (("total_steps", 0x01), ("steps_per_epoch", 0x02)):
                b = tail.byte()
                if flags & bit:
                    kwargs[key] = LENGTHS[b] if b < len(LENGTHS) else tail.i64()
            b = tail.byte()
            if flags & 0x40:
                kwargs["base_lr"] = BASES[b % len(BASES)]
        else:
            kwargs = {"total_steps": 1000, "steps_per_epoch": 10}
        for name in sorted(set(re.findall(r"\$([A-Za-z_][A-Za-z_0-9]*)", self.text))):
            kwargs[name] = PLACEHOLDER_VALUES[tail.byte() % len(PLACEHOLDER_VALUES)] if self.has_tail else 100
        kwargs = {k: v for k, v in kwargs.items() if v is not None or k in ("total_steps", "steps_per_epoch")}
        kwargs.update(header)  # the corpus's own context wins
        self.kwargs = kwargs
        # steps: selectors resolved once the schedule's boundaries are known
        self.selectors: list[tuple[int, int, int]] = []
        count = tail.byte() % 17 if self.has_tail else 0
        for _ in range(count):
            b = tail.byte()
            extra = tail.signed8() if len(EXTREMES) <= b < 192 else tail.i64() if b >= 192 else 0
            self.selectors.append((b, extra, 0))
        self.ranges: list[tuple[int, int, int]] = []
        for _ in range(tail.byte() % 3 if self.has_tail else 1):
            b = tail.byte()
            extra = tail.signed8() if len(EXTREMES) <= b < 192 else tail.i64() if b >= 192 else 0
            n = tail.byte()
            self.ranges.append((b, extra, n * 12 if flags & 0x20 else n % 64 + 1))
        self.use_out = bool(flags & 0x10)
        self.torch = bool(flags & 0x04) or not self.has_tail
        self.strict = not (flags & 0x80)
        self.groups = 1 + tail.byte() % 2
        self.advance = tail.byte() % 4
        self.mutations = [(tail.byte(), tail.byte(), tail.byte(), tail.i64()) for _ in range(1 + tail.byte() % 3)]

    def steps(self, boundaries: list[int]) -> list[int]:
        if not self.has_tail:
            return DEFAULT_STEPS + [b + d for b in boundaries for d in (-1, 0, 1)]
        return [resolve(b, extra, boundaries) for b, extra, _ in self.selectors]

    def step_ranges(self, boundaries: list[int]) -> list[tuple[int, int]]:
        if not self.has_tail:
            return [(0, 64)] + [(max(b - 16, 0), 32) for b in boundaries[:4]] + [(2**53 - 40, 40), (2**53 - 3, 6)]
        return [(resolve(b, extra, boundaries), n) for b, extra, n in self.ranges]

    def describe(self) -> str:
        return f"lrdsl.compile({self.text!r}, **{self.kwargs!r})"


def resolve(b: int, extra: int, boundaries: list[int]) -> int:
    if b < len(EXTREMES):
        return EXTREMES[b]
    if b < 192:
        pool = boundaries or [0]
        return pool[(b - len(EXTREMES)) % len(pool)] + extra
    return extra if b & 1 else extra % STEP_LIMIT  # raw, or raw folded into the domain


# ------------------------------------------------------------------ checks


def in_domain(t: int) -> bool:
    return 0 <= t < STEP_LIMIT


def as_array(np, steps: list[int]):  # type: ignore[no-untyped-def]
    """int64 when every step fits, else uint64, else the list itself."""
    if all(-(2**63) <= t < 2**63 for t in steps):
        return np.array(steps, dtype=np.int64)
    if all(0 <= t < 2**64 for t in steps):
        return np.array(steps, dtype=np.uint64)
    return list(steps)


def _local_assert_close(got, want) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    finite = np.isfinite(want)
    same = (got[~finite] == want[~finite]) | (np.isnan(got[~finite]) & np.isnan(want[~finite]))
    if not bool(np.all(same)):
        i = int(np.flatnonzero(~finite)[np.flatnonzero(~same)[0]])
        raise Finding(f"non-finite mismatch at index {i}: kernel {got[i]!r} reference {want[i]!r}")
    g, w = got[finite], want[finite]
    scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)
    bound = 8 * EPS * np.maximum(np.abs(w), scale)
    bad = np.flatnonzero(~(np.abs(g - w) <= bound))
    if bad.size:
        raise Finding(f"first mismatch at index {bad[0]}: kernel {g[bad[0]]!r} reference {w[bad[0]]!r}")


def _import_assert_close():  # type: ignore[no-untyped-def]
    """tests/test_kernel.py's helper (the documented bound), else a copy of it."""
    try:
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        from test_kernel import assert_close  # type: ignore[import-not-found]

        return assert_close
    except BaseException:  # missing kernel (pytest's Skipped), hypothesis, ...
        return _local_assert_close
    finally:
        sys.path.remove(os.path.join(ROOT, "tests"))


def close(got, want, steps, what: str, case: Case) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    got = np.asarray(got, dtype=np.float64).reshape(-1)
    want = np.asarray(want, dtype=np.float64).reshape(-1)
    if got.shape != want.shape:
        raise Finding(f"{what}: {got.shape} values for {want.shape} steps")
    peak = getattr(case, "peak", 0.0)
    if np.isfinite(peak) and peak > 0:  # the scale as one more (equal) value
        got, want = np.append(got, peak), np.append(want, peak)
    try:
        ASSERT_CLOSE(got, want)
    except AssertionError as err:
        raise Finding(
            f"{what} vs the numpy reference: {err}\n  steps {list(steps)[:20]}\n  {case.describe()}"
        ) from None


def check_error(err: BaseException) -> None:
    """An LrdslError renders, and its code is a documented one."""
    import lrdsl

    codes = sys.modules[lrdsl.LrdslError.__module__].CODES  # lrdsl.errors.CODES, wherever it lives

    rendered = err.render()  # type: ignore[attr-defined]
    str(err)
    json.dumps(err.to_dict())  # type: ignore[attr-defined]
    if "Traceback" in rendered:
        raise Finding(f"a rendered error holds a traceback: {rendered!r}")
    if err.code not in codes:  # type: ignore[attr-defined]
        raise Finding(f"error code {err.code!r} is not in lrdsl.errors.CODES: {err.message!r}")  # type: ignore[attr-defined]


def expect_refused(call, what: str, case: Case) -> None:  # type: ignore[no-untyped-def]
    from lrdsl import LrdslError

    try:
        got = call()
    except LrdslError as err:
        check_error(err)
        return
    if CHECK_DOMAIN:
        raise Finding(f"{what} was accepted (returned {got!r:.200}); steps are 0 <= t < 2**53\n  {case.describe()}")


def evaluate(case: Case) -> None:
    import numpy as np

    import lrdsl
    from lrdsl import LrdslError, backends

    try:
        s = lrdsl.compile(case.text, **case.kwargs)  # type: ignore[arg-type]
    except LrdslError as err:
        check_error(err)
        return
    str(s)
    repr(s)
    # the bound's scale S: the schedule's largest magnitude (a 1cycle rise from
    # 0.04 computes 1 - 0.96*h, carrying the error of its peak, 1, at step 2)
    case.peak = max((max(abs(p.lo), abs(p.hi)) for p in s.phases if p.hi == p.hi), default=0.0)
    boundaries: list[int] = []
    for start, node in s.program.segments():
        boundaries.append(start)
        if node.length is not None:
            boundaries.append(start + node.length)
    if isinstance(s.total_steps, int):
        boundaries.append(s.total_steps)
    steps = case.steps(boundaries)
    good = [t for t in steps if in_domain(t)]
    root = s.program.root

    # one step at a time
    scalars = []
    for t in steps:
        if in_domain(t):
            try:
                scalars.append(float(s(t)))
            except LrdslError as err:
                raise Finding(f"s({t}) raised {err.code} {err.message!r} for a step in the domain") from err
        else:
            expect_refused(lambda t=t: s(t), f"s({t})", case)
    if good:
        ref = backends.reference_values(root, np.array(good, dtype=np.int64), None)
        close(scalars, ref, good, "s(t)", case)
        within_phases(s, good, scalars, case)

    # arrays of steps, in the drawn order (unsorted) and sorted
    if steps:
        arr = as_array(np, steps)
        if len(good) < len(steps):
            expect_refused(lambda: s.values(arr), f"values({steps[:8]}...)", case)
        else:
            ref = backends.reference_values(root, np.array(steps, dtype=np.int64), None)
            close(s.values(arr), ref, steps, "values(steps)", case)
            order = np.argsort(np.array(steps, dtype=np.int64), kind="stable")
            sorted_steps = np.array(steps, dtype=np.int64)[order]
            close(s.values(sorted_steps), ref[order], sorted_steps, "values(sorted steps)", case)
            if case.use_out:
                out = np.full(len(steps), -1.0)
                if s.values(arr, out=out) is not out:
                    raise Finding("values(..., out=out) did not return out")
                close(out, ref, steps, "values(steps, out=)", case)

    # contiguous ranges (the kernel's range path)
    for start, n in case.step_ranges(boundaries):
        run = [start + k for k in range(n)]
        arr = as_array(np, run)
        if not all(in_domain(t) for t in run):
            expect_refused(lambda arr=arr: s.values(arr), f"values(range({start}, {start + n}))", case)
            continue
        ref = backends.reference_values(root, np.array(run, dtype=np.int64), None)
        close(s.values(arr), ref, run, f"values(arange({start}, {start + n}))", case)
        if case.use_out:
            out = np.empty(n)
            s.values(arr, out=out)
            close(out, ref, run, f"values(arange({start}, {start + n}), out=)", case)

    if case.torch and TORCH is not None:
        scheduler_state(case)


def within_phases(s, steps, values, case: Case) -> None:  # type: ignore[no-untyped-def]
    """A phase whose range is exact holds every value its steps take."""
    phases = s.phases
    for t, v in zip(steps, values):
        ph = next((p for p in reversed(phases) if p.start <= t), None)
        if ph is None or not ph.exact or (ph.end is not None and t >= ph.end) or v != v or ph.lo != ph.lo:
            continue
        if ph.end is None and s.total_steps is not None and t >= max(s.total_steps, ph.start + 1):
            continue  # an unbounded last phase's range covers the run's steps only
        slack = 1e-12 * max(abs(ph.lo), abs(ph.hi), abs(v))
        if not ph.lo - slack <= v <= ph.hi + slack:
            raise Finding(
                f"s({t}) = {v!r} is outside its exact phase range [{ph.lo!r}, {ph.hi!r}]\n  {case.describe()}"
            )


# ------------------------------------------------------------------ DSLScheduler state


def mutation_values(torch, raw: int) -> list[object]:  # type: ignore[no-untyped-def]
    return [
        None,
        True,
        False,
        0,
        1,
        -1,
        raw,
        2**53 - 1,
        2**53,
        2**63,
        2**64,
        1.5,
        3.0,
        math.nan,
        math.inf,
        -math.inf,
        -0.0,
        1e308,
        5e-324,
        "",
        "x",
        "1",
        "cosine(10)",
        [],
        [1],
        [[]],
        [math.nan],
        [0.1, 0.2],
        [[[0, 0.5]]],
        [[{"a": 1}]],
        {},
        {"a": 1},
        b"x",
        (1,),
        torch.tensor(1),
        torch.tensor([1.0, 2.0]),
        torch.tensor(math.nan),
        object(),
    ]


def mutate(state: dict, mutations, torch) -> dict:  # type: ignore[no-untyped-def]
    state = copy.deepcopy(state)
    keys = sorted(state)
    for which, op, pick, raw in mutations:
        values = mutation_values(torch, raw)
        value = values[pick % len(values)]
        if which % (len(keys) + 1) == len(keys):
            state["extra"] = value  # an unknown key
            continue
        key = keys[which % len(keys)]
        current = state.get(key)
        kind = op % 6
        if kind == 0:
            state.pop(key, None)
        elif kind == 1 or not isinstance(current, list):
            state[key] = value
        elif kind == 2 and current:
            current[raw % len(current)] = value  # one element
        elif kind == 3:
            current.append(value)
        elif kind == 4:
            del current[raw % (len(current) + 1) :]
        else:  # deep inside (plateau states are lists of lists)
            target = current
            while isinstance(target, list) and target and isinstance(target[-1], list):
                target = target[-1]
            if isinstance(target, list) and target:
                target[raw % len(target)] = value
            else:
                state[key] = value
    return state


def scheduler_state(case: Case) -> None:
    from lrdsl import LrdslError

    torch = TORCH
    try:
        from lrdsl.torch import DSLScheduler
    except ImportError:
        from lrdsl.emit.torch import DSLScheduler  # type: ignore[no-redef]

    ctx = {k: v for k, v in case.kwargs.items() if k != "base_lr"}
    base = case.kwargs.get("base_lr", 0.1)
    if not isinstance(base, (int, float)) or isinstance(base, bool) or not math.isfinite(base):
        base = 0.1

    def optimizer():  # type: ignore[no-untyped-def]
        groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": base * (i + 1)} for i in range(case.groups)]
        return torch.optim.SGD(groups, lr=base)

    def lrs(opt) -> list[float]:  # type: ignore[no-untyped-def]
        return [float(g["lr"]) for g in opt.param_groups]

    try:
        sched = DSLScheduler(optimizer(), case.text, **ctx)
        for _ in range(case.advance):
            sched.step()
    except LrdslError as err:
        check_error(err)
        return
    state = sched.state_dict()
    json.dumps(state)  # plain values only

    fresh_opt = optimizer()
    fresh = DSLScheduler(fresh_opt, case.text, **ctx)
    try:
        fresh.load_state_dict(copy.deepcopy(state))
    except LrdslError as err:
        raise Finding(f"an untouched state_dict() was refused: {err.code} {err.message}\n  {case.describe()}") from err
    if not same_floats(fresh.get_last_lr(), sched.get_last_lr()) or not same_floats(
        lrs(fresh_opt), lrs(sched.optimizer)
    ):
        raise Finding(f"a reloaded state gives other lrs: {fresh.get_last_lr()} vs {sched.get_last_lr()}")

    tampered = mutate(state, case.mutations, torch)
    target_opt = optimizer()
    target = DSLScheduler(target_opt, case.text, **ctx)
    for _ in range(case.advance % 2):
        target.step()
    before = (lrs(target_opt), target.last_epoch, list(target.get_last_lr()), target.state_dict())
    try:
        target.load_state_dict(tampered, strict=case.strict)
    except LrdslError as err:
        check_error(err)
        after = (lrs(target_opt), target.last_epoch, list(target.get_last_lr()), target.state_dict())
        if not same_state(before, after):
            raise Finding(f"a refused state changed the scheduler ({err.code} {err.message})") from err
        return
    target.get_last_lr()
    try:
        target.step()
    except LrdslError as err:  # e.g. a loaded last_epoch at the top of the domain
        check_error(err)


def same_floats(a, b) -> bool:  # type: ignore[no-untyped-def]
    return len(a) == len(b) and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))


def same_state(a, b) -> bool:  # type: ignore[no-untyped-def]
    return same_floats(a[0], b[0]) and a[1] == b[1] and same_floats(a[2], b[2]) and json.dumps(a[3]) == json.dumps(b[3])


# ------------------------------------------------------------------ entry points


def test_one_input(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not COLLECT:
            evaluate(Case(data))
            return
        try:
            evaluate(Case(data))
        except Exception as err:
            collect(data, err)


#: LRDSL_FUZZ_COLLECT=DIR: keep going after a finding; the first input of each
#: distinct finding (exception type and the innermost lrdsl frame, or the kind
#: of violated contract) goes to DIR, with its traceback.
COLLECT = os.environ.get("LRDSL_FUZZ_COLLECT", "")


def collect(data: bytes, err: Exception) -> None:
    import hashlib
    import traceback

    frames = [f for f in traceback.extract_tb(err.__traceback__) if f"{os.sep}lrdsl{os.sep}" in f.filename]
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "harness"
    what = str(err).split(":")[0][:60] if isinstance(err, Finding) else ""
    key = f"{type(err).__name__} {where} {what}"
    name = hashlib.sha1(key.encode()).hexdigest()[:12]
    path = os.path.join(COLLECT, name)
    if os.path.exists(path):
        return
    os.makedirs(COLLECT, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    with open(path + ".txt", "w") as f:
        f.write(f"{key}\n\n{''.join(traceback.format_exception(err))}")
    print(f"\nlrdsl fuzz: new finding {name}: {key}", file=sys.stderr, flush=True)


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def make_seeds(dest: str) -> int:
    """Seeds from the conformance corpus: each file as it is (default steps)
    and with two tails (extremes; boundaries and raw steps, torch on)."""
    import glob

    os.makedirs(dest, exist_ok=True)
    tails = [
        # flags: total, spe, torch, out=; steps: 2**53-1, 2**53, 2**62, 2**63-1, -1, 0, 2**64; a range at the top
        bytes([0x17, 1, 4, 0, 7]) + bytes([18, 19, 21, 23, 27, 0, 26]) + bytes([1, 17, 40]),
        # boundary-relative steps (boundary k, delta), a raw step folded into the domain, a long range
        bytes([0x35, 0, 0, 0, 5, len(EXTREMES), 255, len(EXTREMES) + 1, 1, len(EXTREMES) + 2, 0])
        + bytes([192])
        + (2**53 - 3).to_bytes(8, "little")
        + bytes([len(EXTREMES) + 3, 0])
        + bytes([1, len(EXTREMES), 0, 200, 1, 1, 1, 3, 2, 5])
        + (7).to_bytes(8, "little"),
    ]
    n = 0
    for path in sorted(glob.glob(os.path.join(CONFORMANCE, "*", "*.lrdsl"))):
        data = read(path)
        stem = f"{os.path.basename(os.path.dirname(path))}-{os.path.basename(path)[:-6]}"
        variants = [data] + [data + b"\0" + t for t in tails]
        for k, v in enumerate(variants):
            with open(os.path.join(dest, f"{stem}.{k}"), "wb") as f:
                f.write(v)
            n += 1
    return n


def make_dict(path: str) -> int:
    """A libFuzzer dictionary: primitive and parameter names, operators, units
    and the numbers at the edges of the step domain."""
    from lrdsl.primitives import CATALOGUE

    words = {p.name for p in CATALOGUE} | {f"{q.name}=" for p in CATALOGUE for q in p.params}
    words |= {">>", "**", "%", "ep", "k", "M", "base", "prev", "true", "false", "$n", "# context: {}", ";", "="}
    words |= {"linear", "cos", "exp", "triangular2", "exp_range", "[", "]", "(", ")", ",", "1e-3", "1e308", "-0"}
    words |= {str(t) for t in EXTREMES} | {"9007199254740991", "4503599627370496", "1.0000001", "0.9999999999999999"}
    with open(path, "w") as f:
        for w in sorted(words):
            f.write(json.dumps(w) + "\n")
    return len(words)


def show(path: str) -> None:
    data = read(path)
    case = Case(data)
    print(f"== {path} ({len(data)} bytes)")
    print(f"   {case.describe()}")
    print(f"   tail: {'yes' if case.has_tail else 'none'}; flags {case.flags:#04x}")
    try:
        import lrdsl

        s = lrdsl.compile(case.text, **case.kwargs)  # type: ignore[arg-type]
        boundaries = [b for start, node in s.program.segments() for b in (start, start + (node.length or 0))]
        print(f"   steps {case.steps(boundaries)}")
        print(f"   ranges {case.step_ranges(boundaries)}")
    except Exception as err:
        print(f"   compile: {type(err).__name__}: {err}")
    print(f"   torch state: {case.torch and TORCH is not None} (groups {case.groups}, strict {case.strict})")


def main(argv: list[str]) -> None:
    global ASSERT_CLOSE
    if len(argv) > 1 and argv[1] == "--make-seeds":
        print(f"{make_seeds(argv[2])} seeds in {argv[2]}")
        return
    if len(argv) > 1 and argv[1] == "--make-dict":
        print(f"{make_dict(argv[2])} dictionary entries in {argv[2]}")
        return
    if len(argv) > 1 and argv[1] in ("--show", "--replay"):
        ASSERT_CLOSE = _import_assert_close()
        for path in argv[2:]:
            show(path)
            if argv[1] == "--replay":
                test_one_input(read(path))
                print("   no finding")
        return
    import atheris

    if "lrdsl" in sys.modules:
        raise RuntimeError("lrdsl was imported before the instrumentation: no coverage feedback")
    with atheris.instrument_imports(include=["lrdsl"]):
        instrument_lrdsl()
    ASSERT_CLOSE = _import_assert_close()  # after the instrumented imports: it imports lrdsl
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


#: Modules not imported for coverage: other frameworks' emitters (slow imports,
#: never called here) and scripts.
SKIP_MODULES = ("keras", "jax", "tensorflow", "omegaconf", "plot", "_gen_")


def instrument_lrdsl() -> None:
    """Import every lrdsl module (inside atheris.instrument_imports)."""
    import importlib
    import pkgutil

    import lrdsl

    for info in pkgutil.walk_packages(lrdsl.__path__, "lrdsl."):
        name = info.name
        if any(word in name for word in SKIP_MODULES) or ("torch" in name and TORCH is None):
            continue
        try:
            importlib.import_module(name)
        except Exception as err:  # an optional dependency missing: not fuzzed
            print(f"lrdsl fuzz: not instrumenting {name}: {type(err).__name__}: {err}", file=sys.stderr)


def _torch():  # type: ignore[no-untyped-def]
    if not WANT_TORCH:
        return None
    try:
        import torch

        return torch
    except ImportError:
        return None


TORCH = None
ASSERT_CLOSE = _local_assert_close

if __name__ == "__main__":
    if os.path.isdir(os.path.join(ROOT, "lrdsl")):
        sys.path.insert(0, ROOT)  # this checkout's lrdsl, as pytest imports it from here
    import numpy  # noqa: F401  (imported before the instrumented lrdsl modules)

    TORCH = _torch()
    main(sys.argv)
