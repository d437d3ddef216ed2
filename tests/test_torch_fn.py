"""torch.compile: the tensor-lr path of DSLScheduler, and Schedule.to_torch_fn.

(a) An optimizer built with a tensor lr (Adam, AdamW, SGD; Adam and AdamW with
capturable=True too) keeps the same lr tensor, DSLScheduler writes each step's
value into it in place, and a torch.compile'd ``opt.step`` compiles no more
graphs over ten scheduler steps than it does with no scheduler at all (dynamo's
CompileCounter counts them).  The control: with a float lr the same loop
compiles more, so the counter sees recompiles.

(b) ``Schedule.to_torch_fn()``: the per-primitive formulas on torch tensors
(lrdsl.backends.torch_ops).  The namespace agrees with numpy on the sample
values of tests/test_namespace.py; every emitter sample is within 1e-12
relative of ``values()`` in float64 and within the Keras/JAX float32 bound
(tests/samples.py) in float32; ``torch.compile(fullgraph=True)`` traces it into
one graph with no graph break, at every phase and restart boundary; a whole
update step with a static step tensor updated in place compiles once.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import test_namespace as ns  # noqa: E402  (its sample cases, run on the torch namespace)
from samples import CARD, SAMPLES, assert_float32_close, reference  # noqa: E402
from torch._dynamo.testing import CompileCounter  # noqa: E402

import lrdsl  # noqa: E402
from lrdsl.errors import LrdslError  # noqa: E402
from lrdsl.torch import DSLScheduler  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*record_function.*")

TEXT = "warmup(3) >> cosine(7, min=1e-4)"
OPTIMIZERS = {
    "Adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
    "AdamW": lambda p, lr: torch.optim.AdamW(p, lr=lr),
    "SGD": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "SGD-momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
    "Adam-capturable": lambda p, lr: torch.optim.Adam(p, lr=lr, capturable=True),
    "AdamW-capturable": lambda p, lr: torch.optim.AdamW(p, lr=lr, capturable=True),
}


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _compiled_loop(make, lr, text: str | None, steps: int = 10):  # type: ignore[no-untyped-def]
    """Graphs compiled after each of ``steps`` compiled ``opt.step()`` calls, the
    lrs read from the optimizer, and whether the lr object stayed the same."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = make(model.parameters(), lr)
    sched = DSLScheduler(opt, text) if text else None
    first = opt.param_groups[0]["lr"]
    counter = CompileCounter()

    @torch.compile(backend=counter)
    def opt_step() -> None:
        opt.step()

    frames, lrs = [], []
    for _ in range(steps):
        model(torch.randn(8, 4)).pow(2).mean().backward()
        opt_step()
        opt.zero_grad()
        if sched is not None:
            sched.step()
        frames.append(counter.frame_count)
        lrs.append(float(opt.param_groups[0]["lr"]))
    return frames, lrs, opt.param_groups[0]["lr"] is first


# ---------------------------------------------------------------- (a) the tensor lr


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_tensor_lr_is_updated_in_place_and_never_recompiles(name: str) -> None:
    make = OPTIMIZERS[name]
    frames, lrs, same = _compiled_loop(make, torch.tensor(0.01), TEXT)
    baseline, _, _ = _compiled_loop(make, torch.tensor(0.01), None)
    assert frames == baseline, (frames, baseline)  # the scheduler adds no compile, ever
    assert frames[-1] == frames[1]  # nothing compiles after the optimizer's state exists
    assert same  # the very tensor the compiled step reads
    # base is the float32 tensor's value; each step's value rounded to float32
    want = lrdsl.compile(TEXT, base_lr=float(torch.tensor(0.01))).values(np.arange(1, 11))
    assert lrs == [float(np.float32(v)) for v in want]


@pytest.mark.parametrize("name", ["Adam", "SGD"])
def test_control_a_float_lr_does_recompile(name: str) -> None:
    frames, _, _ = _compiled_loop(OPTIMIZERS[name], 0.01, TEXT)
    baseline, _, _ = _compiled_loop(OPTIMIZERS[name], 0.01, None)
    assert frames[-1] > baseline[-1], (frames, baseline)


def test_the_lr_and_the_step_as_tensors_in_one_compiled_optimizer_step() -> None:
    """The CUDA-graph pattern on the CPU: a static step tensor, the lr written with
    copy_ inside the compiled step, the step advanced with add_."""
    sched = lrdsl.compile(TEXT, base_lr=0.01)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=torch.tensor(0.01), capturable=True)
    lr_of = sched.to_torch_fn(dtype=torch.float32)
    step = torch.zeros((), dtype=torch.int32)
    lr = opt.param_groups[0]["lr"]
    counter = CompileCounter()

    @torch.compile(backend=counter)
    def opt_step() -> None:
        opt.param_groups[0]["lr"].copy_(lr_of(step))
        opt.step()
        step.add_(1)

    seen, frames = [], []
    for _ in range(10):
        model(torch.randn(8, 4)).pow(2).mean().backward()
        opt_step()
        opt.zero_grad()
        seen.append(float(lr))
        frames.append(counter.frame_count)
    assert int(step) == 10 and opt.param_groups[0]["lr"] is lr
    assert len(set(frames)) == 1  # compiled on the first call, never again
    assert_float32_close(seen, sched.values(np.arange(10)))  # computed in float32


def test_a_whole_update_with_the_schedule_is_one_graph() -> None:
    sched = lrdsl.compile(CARD, base_lr=0.1, total_steps=40)
    lr_of = sched.to_torch_fn()
    step = torch.zeros((), dtype=torch.int64)
    w = torch.zeros(3, dtype=torch.float64)
    counter = CompileCounter()

    @torch.compile(backend=counter, fullgraph=True)
    def update(w, g):  # type: ignore[no-untyped-def]
        lr = lr_of(step)
        w.sub_(lr * g)
        step.add_(1)
        return lr

    got = [float(update(w, torch.ones(3, dtype=torch.float64))) for _ in range(40)]
    want = sched.values(np.arange(40))
    assert counter.frame_count == 1
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    np.testing.assert_allclose(w.numpy(), -want.sum(), rtol=1e-12)


# ---------------------------------------------------------------- (b) the namespace on torch


@pytest.fixture(params=[64, 32], ids=["torch64", "torch32"])
def torch_impl(request: pytest.FixtureRequest) -> ns.Impl:
    from lrdsl.backends.torch_ops import TorchOps, torch_lib

    bits = request.param
    fd, idt = ("float64", "int64") if bits == 64 else ("float32", "int32")
    lib = torch_lib(None, fd, idt)
    return ns.Impl(f"torch{bits}", TorchOps(lib, fd, idt), bits, lib)


def test_the_torch_namespace_provides_every_member(torch_impl: ns.Impl) -> None:
    ns.test_every_implementation_provides_every_member(torch_impl)


@pytest.mark.parametrize("case", ns.CASES, ids=[case.id for case in ns.CASES])
def test_the_torch_namespace_agrees_with_numpy(torch_impl: ns.Impl, case: ns.Case) -> None:
    ns.test_implementations_agree_with_numpy(torch_impl, case)


# ---------------------------------------------------------------- (b) values


@pytest.mark.parametrize(("text", "kw"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_values_match_the_reference_in_float64_and_float32(text: str, kw: dict) -> None:
    n = 9000
    sched = lrdsl.compile(text, **kw)
    want = reference(text, n, **kw)
    got = sched.to_torch_fn()(torch.arange(n))
    assert got.dtype == torch.float64 and got.shape == (n,)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=0)
    got32 = sched.to_torch_fn(dtype=torch.float32)(torch.arange(n, dtype=torch.int32))
    assert got32.dtype == torch.float32
    assert_float32_close(got32.numpy(), want, peak_ulps=2)


def _boundaries(sched: lrdsl.Schedule, n: int) -> np.ndarray:
    """Every phase boundary and every step where the values jump up (restarts,
    cycles), with the steps either side."""
    want = sched.values(np.arange(n))
    edges = {p.start for p in sched.phases} | {p.end for p in sched.phases if p.end is not None}
    edges |= set((np.flatnonzero(np.diff(want) > 0) + 1).tolist())
    steps = {s + d for s in edges for d in (-1, 0, 1)}
    return np.array(sorted(s for s in steps if 0 <= s < n), dtype=np.int64)


BOUNDARY_CASES = [
    (CARD, {"total_steps": 400}),
    ("cosine_restarts(37, t_mul=1.5, m_mul=0.8, alpha=0.01)", {}),
    ("cosine_restarts(11, t_mul=3)", {}),
    ("warmup(100) >> step(300, gamma=0.37, steps=900) >> const(1e-5, steps=50) >> linear(200, end=0)", {}),
    ("one_cycle(8000, pct_start=0.25, three_phase=true)", {}),
    ("repeat(cosine(500, min=0.01), 6, decay=0.7) >> const(1e-4)", {}),
    ("cyclic(300, low=1e-3, mode=triangular2, down=70)", {}),
    ("multistep([7, 400, 4123], gamma=0.5)", {}),
]


@pytest.mark.parametrize(("text", "kw"), BOUNDARY_CASES, ids=[c[0] for c in BOUNDARY_CASES])
def test_fullgraph_compile_at_every_boundary(text: str, kw: dict) -> None:
    sched = lrdsl.compile(text, base_lr=0.3, **kw)
    steps = _boundaries(sched, 9000)
    want = sched.values(steps)
    for dtype, itype in ((torch.float64, torch.int64), (torch.float32, torch.int32)):
        torch._dynamo.reset()
        torch._dynamo.utils.counters.clear()
        counter = CompileCounter()
        fn = torch.compile(sched.to_torch_fn(dtype=dtype), fullgraph=True, backend=counter)
        got = fn(torch.as_tensor(steps, dtype=itype)).numpy()
        assert counter.frame_count == 1
        assert not torch._dynamo.utils.counters["graph_break"]
        if dtype == torch.float64:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
        else:
            assert_float32_close(got, want, peak_ulps=2)
        every = max(1, len(steps) // 12)
        scalar = [float(fn(torch.tensor(int(s), dtype=itype))) for s in steps[::every]]
        assert scalar == [float(v) for v in got[::every]]
        assert counter.frame_count == 2  # one more graph for 0-d steps, not one per value


@pytest.mark.parametrize("text", [CARD, "one_cycle(800, three_phase=true)"])
def test_inductors_decompositions_trace_it(text: str) -> None:
    """aot_eager_decomp_partition lowers the graph through inductor's
    decompositions (where torch.take of a 0-d index fails) without building C++;
    a 0-d step is what a training loop passes, and its value never recompiles."""
    sched = lrdsl.compile(text, base_lr=3e-4, total_steps=1000)
    counter = torch._dynamo.testing.CompileCounterWithBackend("aot_eager_decomp_partition")
    fn = torch.compile(sched.to_torch_fn(), fullgraph=True, backend=counter)
    steps = [0, 4, 5, 6, 15, 16, 44, 45, 400, 799, 800, 999]
    got = [float(fn(torch.tensor(s))) for s in steps]
    assert counter.frame_count == 1  # one graph for every 0-d step value
    np.testing.assert_allclose(got, sched.values(np.array(steps)), rtol=1e-12, atol=0)
    np.testing.assert_allclose(fn(torch.arange(1000)).numpy(), sched.values(np.arange(1000)), rtol=1e-12, atol=0)


# ---------------------------------------------------------------- (b) domain and refusals


def test_steps_outside_the_domain() -> None:
    fn = lrdsl.compile("cosine(100)").to_torch_fn()
    with pytest.raises(LrdslError) as info:
        fn(-1)
    assert info.value.code == "E0401"
    got = fn(torch.tensor([-1, 0, 2**53, 50]))
    assert math.isnan(float(got[0])) and math.isnan(float(got[2]))
    assert float(got[1]) == 1.0 and float(got[3]) == pytest.approx(0.5, abs=1e-15)
    assert float(fn(7)) == lrdsl.compile("cosine(100)")(7)  # a Python int step
    big = lrdsl.compile(f"step({2**31 + 1}, gamma=0.5)").to_torch_fn()
    assert float(big(torch.tensor(2**31 + 1))) == 0.5  # int64 steps past int32


def test_plateau_and_other_dtypes_are_refused() -> None:
    with pytest.raises(LrdslError) as info:
        lrdsl.compile("warmup(5) >> plateau(patience=3)").to_torch_fn()
    assert info.value.code == "E0801" and "DSLScheduler" in " ".join([info.value.message, *info.value.hints])
    with pytest.raises(LrdslError) as info:
        lrdsl.compile("cosine(10)").to_torch_fn(dtype=torch.float16)
    assert info.value.code == "E0305"
