"""DSLScheduler under a token or sample clock: the consumed count, a ramping
batch size, exact resume at every step, plateau, and the errors.  Expected
values by hand (the schedule's formulas at the cumulative counts)."""

from __future__ import annotations

import io
import math

import pytest

import lrdsl

torch = pytest.importorskip("torch")

from lrdsl.torch import DSLScheduler  # noqa: E402

pytestmark = [pytest.mark.usefixtures("backend"), pytest.mark.filterwarnings("ignore:Detected call of")]

TEXT = "warmup(1000tok) >> cosine(30000tok, min=1e-3)"
#: a warmup at token t of n is target * (t / n), as HuggingFace computes it
BASE = 0.1
#: a batch size that ramps: tokens per step 256, 256, 512, 512, 1024, 1024, 2048...
RAMP = [256 * 2 ** (i // 2) for i in range(10)]


def by_hand(c: int) -> float:
    """TEXT at a token count: linear warmup from 0, then cosine from BASE to 1e-3, then held."""
    if c < 1000:
        return BASE * c / 1000
    if c < 31000:
        return 1e-3 + (BASE - 1e-3) * (1 + math.cos(math.pi * (c - 1000) / 30000)) / 2
    return 1e-3


def optimizer(*lrs: float) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def lrs_of(opt: torch.optim.Optimizer) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


def save_load(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def counts(batches: list[int]) -> list[int]:
    out = [0]
    for n in batches:
        out.append(out[-1] + n)
    return out


def test_a_ramping_batch_size_evaluates_the_schedule_at_the_consumed_count():
    opt = optimizer(BASE)
    sched = DSLScheduler(opt, TEXT, clock="tokens")
    assert sched.consumed == 0 and lrs_of(opt) == [0.0]
    exact = lrdsl.compile(TEXT, clock="tokens", base_lr=BASE)
    for k, (n, c) in enumerate(zip(RAMP, counts(RAMP)[1:]), start=1):
        opt.step()
        sched.step(tokens=n)
        assert sched.consumed == c
        assert sched.last_epoch == k and sched._step_count == k + 1  # step() calls, as torch counts them
        assert lrs_of(opt)[0] == pytest.approx(by_hand(c), rel=1e-12, abs=1e-15)
        assert lrs_of(opt) == [exact(c)] == sched.get_last_lr()  # the schedule's value, bit for bit
    assert sched.consumed == sum(RAMP) == 15872
    for _ in range(4):  # into the held end
        sched.step(tokens=4096)
    assert lrs_of(opt) == [1e-3]


def test_resume_is_exact_at_every_step_of_a_ramping_run():
    def run(sched, opt, batches):  # type: ignore[no-untyped-def]
        out = []
        for n in batches:
            opt.step()
            sched.step(tokens=n)
            out.append(lrs_of(opt))
        return out

    opt = optimizer(BASE, 0.02)
    straight = run(DSLScheduler(opt, TEXT, clock="tokens"), opt, RAMP)
    for k in range(len(RAMP)):
        opt_a = optimizer(BASE, 0.02)
        a = DSLScheduler(opt_a, TEXT, clock="tokens")
        run(a, opt_a, RAMP[:k])
        state = save_load(a.state_dict())
        assert state["consumed"] == sum(RAMP[:k]) and state["last_epoch"] == k
        opt_b = optimizer(BASE, 0.02)
        b = DSLScheduler(opt_b, TEXT, clock="tokens")
        b.load_state_dict(state)
        assert b.consumed == sum(RAMP[:k]) and b.last_epoch == k
        assert run(b, opt_b, RAMP[k:]) == straight[k:], f"diverged after resuming at step {k}"


def test_step_without_a_count_advances_by_tokens_per_step_or_is_an_error():
    opt = optimizer(BASE)
    sched = DSLScheduler(opt, TEXT, clock="tokens", tokens_per_step=300)
    for k in range(1, 5):
        sched.step()
        assert sched.consumed == 300 * k and lrs_of(opt)[0] == pytest.approx(by_hand(300 * k), rel=1e-12)
    sched.step(tokens=7)  # a count given wins
    assert sched.consumed == 1207
    bare = DSLScheduler(optimizer(BASE), TEXT, clock="tokens")
    with pytest.raises(lrdsl.LrdslError, match="tokens_per_step") as info:
        bare.step()
    assert "tokens=" in info.value.message and info.value.code == "E0305"
    assert bare.consumed == 0 and bare.last_epoch == 0  # nothing moved


@pytest.mark.parametrize(
    ("value", "code"),
    [(-1, "E0401"), (2.0, "E0305"), (1.5, "E0305"), (True, "E0305"), ("3", "E0305"), (2**53, "E0401")],
)
def test_a_bad_count_is_refused_and_changes_nothing(value, code):
    opt = optimizer(BASE)
    sched = DSLScheduler(opt, TEXT, clock="tokens")
    sched.step(tokens=100)
    with pytest.raises(lrdsl.LrdslError) as info:
        sched.step(tokens=value)
    assert info.value.code == code
    assert sched.consumed == 100 and sched.last_epoch == 1 and lrs_of(opt) == [BASE * (100 / 1000)]


def test_counts_may_be_integer_tensors_and_zero():
    opt = optimizer(BASE)
    sched = DSLScheduler(opt, TEXT, clock="tokens")
    mask = torch.ones(4, 128, dtype=torch.long)
    sched.step(tokens=mask.sum())
    sched.step(tokens=0)  # an empty batch: one more step() call, the same count
    assert sched.consumed == 512 and sched.last_epoch == 2 and lrs_of(opt) == [BASE * (512 / 1000)]
    for bad in (torch.tensor(2.0), torch.tensor([1, 2]), torch.tensor(True)):
        with pytest.raises(lrdsl.LrdslError, match="tokens="):
            sched.step(tokens=bad)


def test_the_wrong_count_for_the_clock_is_an_error():
    tokens = DSLScheduler(optimizer(BASE), TEXT, clock="tokens")
    with pytest.raises(lrdsl.LrdslError, match="counts tokens"):
        tokens.step(samples=3)
    with pytest.raises(lrdsl.LrdslError, match="epoch"):
        tokens.step(epoch=3)
    steps = DSLScheduler(optimizer(BASE), "cosine(10)")
    with pytest.raises(lrdsl.LrdslError, match="clock='tokens'"):
        steps.step(tokens=3)
    assert steps.consumed == steps.last_epoch == 0  # under the step clock the count is the step


def test_a_sample_clock_counts_samples():
    opt = optimizer(1.0)
    sched = DSLScheduler(opt, "warmup(100sp) >> const(0.5)", clock="samples", samples_per_step=8)
    sched.step(samples=30)
    assert sched.consumed == 30 and lrs_of(opt) == [0.5 * (30 / 100)]  # warmup to the next segment's 0.5
    sched.step()
    assert sched.consumed == 38 and lrs_of(opt) == [0.5 * (38 / 100)]
    sched.step(samples=62)
    assert lrs_of(opt) == [0.5]


def test_a_step_length_under_a_token_clock_needs_tokens_per_step():
    text = "warmup(10) >> cosine(1000tok)"
    with pytest.raises(lrdsl.LrdslError, match="tokens_per_step") as info:
        DSLScheduler(optimizer(BASE), text, clock="tokens")
    assert info.value.code == "E0504"
    with pytest.raises(lrdsl.LrdslError, match="tokens_per_step") as info:
        DSLScheduler(optimizer(BASE), {"lr": text}, clock="tokens")
    assert info.value.code == "E0504" and "'lr'" in info.value.message
    opt = optimizer(BASE)
    DSLScheduler(opt, text, clock="tokens", tokens_per_step=64).step(tokens=320)  # 10 steps = 640 tokens
    assert lrs_of(opt) == [BASE * (320 / 640)]


def test_a_compiled_schedule_keeps_its_clock_and_to_torch_passes_it():
    s = lrdsl.compile(TEXT, clock="tokens")
    with pytest.raises(lrdsl.LrdslError, match="clock='tokens'") as info:
        DSLScheduler(optimizer(BASE), s)
    assert info.value.code == "E0503"
    opt = optimizer(BASE)
    sched = DSLScheduler(opt, s, clock="tokens")
    sched.step(tokens=500)
    assert lrs_of(opt) == [BASE * 0.5]
    s = lrdsl.compile("warmup(10) >> cosine(90%)", clock="tokens", tokens_per_step=100, total_tokens=10_000)
    opt = optimizer(BASE)
    sched = s.to_torch(opt)
    sched.step()  # advances by the schedule's tokens_per_step
    assert sched.consumed == 100 and lrs_of(opt) == [BASE * (100 / 1000)]
    assert sched.state_dict()["contexts"][0]["total"] == 10_000


def test_last_epoch_under_a_token_clock_counts_tokens_per_step():
    opt = optimizer(BASE)
    opt.param_groups[0]["initial_lr"] = BASE
    sched = DSLScheduler(opt, TEXT, clock="tokens", tokens_per_step=100, last_epoch=4)
    assert sched.last_epoch == 5 and sched.consumed == 500 and lrs_of(opt) == [BASE * 0.5]
    opt = optimizer(BASE)
    opt.param_groups[0]["initial_lr"] = BASE
    with pytest.raises(lrdsl.LrdslError, match="tokens_per_step"):
        DSLScheduler(opt, TEXT, clock="tokens", last_epoch=4)


def test_a_plan_under_a_token_clock_sets_every_key_at_the_count():
    opt = optimizer(BASE)
    plan = {"lr": TEXT, "momentum": "linear(1000tok, start=0.9, end=0.5) >> const(0.5)"}
    sched = DSLScheduler(opt, plan, clock="tokens")
    sched.step(tokens=250)
    group = opt.param_groups[0]
    assert group["lr"] == pytest.approx(BASE / 4) and group["momentum"] == pytest.approx(0.8)
    state = save_load(sched.state_dict())
    assert state["consumed"] == 250 and state["contexts"][0]["momentum"]["clock"] == "tokens"
    twin = DSLScheduler(optimizer(BASE), plan, clock="tokens")
    twin.load_state_dict(state)
    twin.step(tokens=750)
    assert twin.optimizer.param_groups[0]["momentum"] == 0.5


def test_plateau_under_a_token_clock_cuts_from_the_current_count():
    opt = optimizer(BASE)
    sched = DSLScheduler(opt, "warmup(100tok) >> plateau(patience=0, factor=0.5)", clock="tokens")
    sched.step(1.0, tokens=64)  # measured on tokens 0..63: before the plateau, does not count
    sched.step(1.0, tokens=64)  # tokens 64..127: the last one is in the plateau: best = 1.0
    assert lrs_of(opt) == [BASE]
    sched.step(1.0, tokens=64)  # no better: patience 0 exceeded, cut from the current count, 192
    assert lrs_of(opt) == [BASE / 2]
    s = sched.schedules[0]
    assert s(191) == BASE and s(192) == BASE / 2
    assert sched.state_dict()["plateaus"][0][0]["cuts"] == [92]  # 192 - the plateau's start (100)
    sched.step(tokens=8)
    sched.observe(2.0)  # observe: a cut from the current count, 200
    assert lrs_of(opt) == [BASE / 4] and sched.schedules[0](199) == BASE / 2


@pytest.mark.parametrize(("saved", "loaded"), [("tokens", "steps"), ("steps", "tokens")])
def test_a_state_of_another_clock_is_refused_in_every_mode(saved, loaded):
    text = {"tokens": TEXT, "steps": "warmup(10) >> cosine(80)"}
    a = DSLScheduler(optimizer(BASE), text[saved], clock=saved)
    b = DSLScheduler(optimizer(BASE), text[loaded], clock=loaded)
    for strict in (True, False):
        with pytest.raises(lrdsl.LrdslError, match="clock") as info:
            b.load_state_dict(a.state_dict(), strict=strict)
        assert info.value.code == "E0305"


@pytest.mark.parametrize(("value", "code"), [(-1, "E0401"), (1.5, "E0305"), ("3", "E0305"), (None, "E0305")])
def test_a_tampered_count_is_refused(value, code):
    opt = optimizer(BASE)
    sched = DSLScheduler(opt, TEXT, clock="tokens")
    sched.step(tokens=300)
    state = sched.state_dict()
    state["consumed"] = value
    with pytest.raises(lrdsl.LrdslError) as info:
        sched.load_state_dict(state)
    assert info.value.code == code
    assert sched.consumed == 300 and lrs_of(opt) == [BASE * 0.3]
