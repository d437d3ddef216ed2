"""DSLScheduler(..., resume="exact" | "prefix" | "any"): a WSD branch-off at
step 10**9, an extended run, refused changes naming the group, the key, the
step and both values, plateaus, old states, clocks.  Expected values come
from a scheduler built from the new plan and stepped from 0 (or resumed the
torch way, with last_epoch), and by hand."""

from __future__ import annotations

import copy
import io

import pytest

import lrdsl
import lrdsl.emit.torch_resume as R
from lrdsl.agree import first_difference

torch = pytest.importorskip("torch")

from lrdsl.torch import DSLScheduler  # noqa: E402

pytestmark = [
    pytest.mark.usefixtures("backend"),
    pytest.mark.filterwarnings("ignore:Detected call of"),
    pytest.mark.filterwarnings("ignore::lrdsl.LrdslWarning"),
]

STABLE = "warmup(2k) >> hold()"
BRANCH = "warmup(2k) >> hold(999998000) >> cooldown(10k, shape=sqrt)"
AT = 10**9


def optimizer(*lrs: float, resumed: bool = False) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    opt = torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    if resumed:  # what loading the optimizer's state gives: the initial lrs
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
    return opt


def lrs_of(opt: torch.optim.Optimizer) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


def save_load(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def stepped(text, k: int, *lrs: float, **kw):  # type: ignore[no-untyped-def]
    opt = optimizer(*(lrs or (0.1,)))
    sched = DSLScheduler(opt, text, **kw)
    for _ in range(k):
        opt.step()
        sched.step()
    return sched, opt


def run(sched, opt, n: int) -> list[list[float]]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(lrs_of(opt))
    return out


@pytest.fixture
def verdicts(monkeypatch):  # type: ignore[no-untyped-def]
    """Every first_difference verdict resume='prefix' asks for."""
    seen = []

    def recording(a, b, until):  # type: ignore[no-untyped-def]
        v = first_difference(a, b, until)
        seen.append((until, v))
        return v

    monkeypatch.setattr(R, "first_difference", recording)
    return seen


# ---------------------------------------------------------------- accepted


def test_a_wsd_branch_off_at_step_1e9_is_accepted_without_evaluating_a_step(verdicts):
    saved, _ = stepped(STABLE, 0, total_steps=2 * AT, last_epoch=-1)
    state = saved.state_dict()
    state["last_epoch"], state["step_count"] = AT, AT + 1  # saved at step 10**9 of the stable phase
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, BRANCH, resume="prefix")
    sched.load_state_dict(save_load(state))
    assert [v.evaluated for _, v in verdicts] == [0] and verdicts[0][0] == AT
    assert [s.how for s in verdicts[0][1].spans] == ["equal", "constant"]
    # the values go on as the new plan's, resumed the torch way at the same step
    twin_opt = optimizer(0.1, resumed=True)
    twin = DSLScheduler(twin_opt, BRANCH, last_epoch=AT - 1)
    assert lrs_of(opt) == lrs_of(twin_opt) == [0.1]
    got, want = run(sched, opt, 50), run(twin, twin_opt, 50)
    assert got == want
    assert got[0][0] == pytest.approx(0.1 * (1 - (1 / 10_000) ** 0.5), rel=1e-15)  # sqrt cooldown, by hand


def test_a_branch_off_continues_bit_identically_with_a_scheduler_stepped_from_zero():
    saved, _ = stepped("warmup(20) >> hold()", 50, 0.1, 0.02, total_steps=200)
    new = "warmup(20) >> hold(30) >> cooldown(10, shape=sqrt)"
    opt = optimizer(0.1, 0.02)
    sched = DSLScheduler(opt, new, resume="prefix")
    sched.load_state_dict(save_load(saved.state_dict()))
    straight, straight_opt = stepped(new, 50, 0.1, 0.02)
    assert sched.last_epoch == 50 and lrs_of(opt) == lrs_of(straight_opt)
    assert run(sched, opt, 15) == run(straight, straight_opt, 15)
    assert lrs_of(opt) == [0.0, 0.0]  # the cooldown has ended at 0


def test_an_extended_run_is_accepted_before_the_old_end_and_refused_after():
    saved, _ = stepped("cosine(10k)", 5000)
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, "cosine(10k) >> const(1e-6)", resume="prefix")
    sched.load_state_dict(saved.state_dict())  # identical before 10k
    straight, straight_opt = stepped("cosine(10k) >> const(1e-6)", 5000)
    assert run(sched, opt, 5010) == run(straight, straight_opt, 5010)
    assert lrs_of(opt) == [1e-6]
    # saved at 12k, the old plan held its end (0.0) from step 10k: const(1e-6) differs there
    late, _ = stepped("cosine(10k)", 12_000)
    other = DSLScheduler(optimizer(0.1), "cosine(10k) >> const(1e-6)", resume="prefix")
    with pytest.raises(lrdsl.LrdslError, match="step 10,000") as info:
        other.load_state_dict(late.state_dict())
    assert info.value.code == "E0608" and "1e-06" in info.value.message and "0.0" in info.value.message


def test_the_same_plan_resumes_under_prefix_as_under_exact():
    saved, saved_opt = stepped("warmup(5) >> cosine(50)", 12)
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, "warmup(5) >> cosine(50)", resume="prefix")
    sched.load_state_dict(saved.state_dict())
    assert lrs_of(opt) == lrs_of(saved_opt) and run(sched, opt, 5) == run(saved, saved_opt, 5)


def test_a_new_total_that_keeps_the_past_is_accepted():
    saved, _ = stepped("warmup(10) >> cosine(50%)", 8, total_steps=100)  # in the warmup
    sched = DSLScheduler(optimizer(0.1), "warmup(10) >> cosine(50%)", total_steps=200, resume="prefix")
    sched.load_state_dict(saved.state_dict())
    later, _ = stepped("warmup(10) >> cosine(50%)", 20, total_steps=100)  # in the cosine, which changed
    with pytest.raises(lrdsl.LrdslError, match="step 11") as info:
        sched.load_state_dict(later.state_dict())
    assert info.value.code == "E0608"


# ---------------------------------------------------------------- refused


def test_a_changed_warmup_is_refused_at_its_first_differing_step_and_changes_nothing():
    saved, _ = stepped("warmup(100) >> cosine(1000)", 500)
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, "warmup(200) >> cosine(1000)", resume="prefix")
    run(sched, opt, 3)
    before = (copy.deepcopy(sched.state_dict()), lrs_of(opt))
    with pytest.raises(lrdsl.LrdslError) as info:
        sched.load_state_dict(saved.state_dict())
    err = info.value
    assert err.code == "E0608"
    # step 1: 0.1 * 1/100 saved, 0.1 * 1/200 new, by hand
    assert "param group 0's 'lr'" in err.message and "step 1 " in err.message
    assert "is 0.0005" in err.message and ", 0.001" in err.message
    assert any("warmup(100)" in h for h in err.hints) and any("resume='any'" in h for h in err.hints)
    assert (sched.state_dict(), lrs_of(opt)) == before


def test_a_refusal_names_the_param_group():
    texts = ["warmup(10) >> cosine(100)", "warmup(10) >> cosine(100)"]
    saved, _ = stepped(texts, 40, 0.1, 0.02)
    sched = DSLScheduler(optimizer(0.1, 0.02), [texts[0], "warmup(20) >> cosine(90)"], resume="prefix")
    with pytest.raises(lrdsl.LrdslError, match="param group 1's 'lr'") as info:
        sched.load_state_dict(saved.state_dict())
    assert "step 1 " in info.value.message
    fine = DSLScheduler(optimizer(0.1, 0.02), [texts[0], "warmup(10) >> cosine(100) >> const(0)"], resume="prefix")
    fine.load_state_dict(saved.state_dict())


def test_a_refusal_names_the_key_of_a_plan():
    plan = {"lr": "warmup(10) >> cosine(100)", "momentum": "linear(100, start=0.95, end=0.85)"}
    saved, _ = stepped(plan, 30)
    changed = {**plan, "momentum": "linear(50, start=0.95, end=0.85) >> const(0.85)"}
    sched = DSLScheduler(optimizer(0.1), changed, resume="prefix")
    with pytest.raises(lrdsl.LrdslError, match="param group 0's 'momentum'") as info:
        sched.load_state_dict(saved.state_dict())
    assert info.value.code == "E0608" and "step 1 " in info.value.message
    extended = {**plan, "momentum": "linear(100, start=0.95, end=0.85) >> const(0.9)"}
    opt = optimizer(0.1)
    ok = DSLScheduler(opt, extended, resume="prefix")
    ok.load_state_dict(saved.state_dict())
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95 - 0.1 * 30 / 100)


def test_the_earliest_difference_across_groups_and_keys_is_named():
    plan = {"lr": "warmup(10) >> cosine(100)", "momentum": "linear(100, start=0.95, end=0.85)"}
    saved, _ = stepped(plan, 30)
    changed = {"lr": "warmup(10) >> cosine(90)", "momentum": "linear(100, start=0.95, end=0.8)"}
    sched = DSLScheduler(optimizer(0.1), changed, resume="prefix")
    with pytest.raises(lrdsl.LrdslError, match=r"'momentum' is .* at step 1 "):
        sched.load_state_dict(saved.state_dict())


def test_exact_refuses_a_changed_plan_and_points_to_prefix():
    saved, _ = stepped("warmup(20) >> hold()", 30, total_steps=100)
    sched = DSLScheduler(optimizer(0.1), "warmup(20) >> hold(10) >> cooldown(10)")
    with pytest.raises(lrdsl.LrdslError, match="different schedule") as info:
        sched.load_state_dict(saved.state_dict())
    assert info.value.code == "E0305" and any("resume='prefix'" in h for h in info.value.hints)


# ---------------------------------------------------------------- any, and strict=False


def test_any_and_strict_false_resume_any_plan_at_the_saved_step():
    saved, _ = stepped("warmup(100) >> cosine(1000)", 500)
    for sched in (
        DSLScheduler(optimizer(0.1), "warmup(200) >> cosine(1000)", resume="any"),
        DSLScheduler(optimizer(0.1), "warmup(200) >> cosine(1000)", resume="prefix"),
    ):
        if sched._resume == "any":
            sched.load_state_dict(saved.state_dict())
        else:
            sched.load_state_dict(saved.state_dict(), strict=False)  # "any" for this call
        assert sched.last_epoch == 500
        assert sched.get_last_lr() == [lrdsl.compile("warmup(200) >> cosine(1000)", base_lr=0.1)(500)]


def test_a_bad_mode_is_an_error():
    with pytest.raises(lrdsl.LrdslError, match="'exact', 'prefix', 'any'") as info:
        DSLScheduler(optimizer(0.1), "cosine(10)", resume="strict")
    assert info.value.code == "E0306"


# ---------------------------------------------------------------- plateau

PLATEAU = "warmup(5) >> plateau(patience=0, factor=0.5)"


def fed(text, metrics, **kw):  # type: ignore[no-untyped-def]
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, text, **kw)
    for m in metrics:
        opt.step()
        sched.step(m)
    return sched, opt


METRICS = [1.0] * 6 + [0.5, 0.6, 0.7, 0.4, 0.45]  # reports at steps 6..11 count; cuts at 7 and 8...


def test_a_plateau_that_has_run_carries_its_state_into_a_branch_off():
    saved, saved_opt = fed(PLATEAU, METRICS)
    cuts = saved.state_dict()["plateaus"][0][0]["cuts"]
    assert cuts  # it did cut
    branch = "warmup(5) >> plateau(patience=0, factor=0.5, steps=20) >> cooldown(10)"
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, branch, resume="prefix")
    sched.load_state_dict(saved.state_dict())
    assert lrs_of(opt) == lrs_of(saved_opt) and sched.state_dict()["plateaus"][0][0]["cuts"] == cuts
    # it continues as a scheduler of the new plan fed the same metrics from step 0 does
    more = [0.3, 0.35, 0.36]
    straight, straight_opt = fed(branch, METRICS)
    for m in more:
        opt.step(), straight_opt.step()
        sched.step(m), straight.step(m)
        assert lrs_of(opt) == lrs_of(straight_opt)


@pytest.mark.parametrize(
    ("new", "word"),
    [
        ("warmup(5) >> plateau(patience=0, factor=0.2)", "other parameters"),
        ("warmup(5) >> plateau(patience=1, factor=0.5)", "other parameters"),
        ("warmup(6) >> plateau(patience=0, factor=0.5)", "no plateau there"),
        ("warmup(5) >> const(0.1)", "drops it"),
        ("warmup(4) >> hold(1) >> plateau(patience=0, factor=0.5)", "step 1 "),  # the same plateau, a new warmup
    ],
)
def test_a_changed_plateau_that_has_run_is_refused(new, word):
    saved, _ = fed(PLATEAU, METRICS)
    sched = DSLScheduler(optimizer(0.1), new, resume="prefix")
    with pytest.raises(lrdsl.LrdslError, match=word) as info:
        sched.load_state_dict(saved.state_dict())
    assert info.value.code == "E0608"


def test_a_plateau_not_yet_begun_may_change_or_appear():
    saved, _ = fed("warmup(5) >> hold(20) >> plateau(patience=0)", [1.0] * 10)
    for new in ("warmup(5) >> hold(20) >> plateau(patience=3)", "warmup(5) >> hold(20) >> cosine(10)"):
        sched = DSLScheduler(optimizer(0.1), new, resume="prefix")
        sched.load_state_dict(saved.state_dict())
    saved, _ = fed("warmup(5) >> hold()", [1.0] * 10, total_steps=100)
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, "warmup(5) >> hold(10) >> plateau(patience=0, factor=0.5)", resume="prefix")
    sched.load_state_dict(saved.state_dict())
    for m in [1.0] * 6 + [2.0, 2.0]:  # steps 11..18: reports from step 16 count (the plateau began at 15)
        opt.step()
        sched.step(m)
    assert lrs_of(opt) == [0.025]  # best 1.0 at 16, 2.0 is worse: cut at 17, and again at 18
    assert sched.state_dict()["plateaus"][0][0]["cuts"] == [2, 3]


# ---------------------------------------------------------------- old states, clocks, tampering


def test_a_state_without_contexts_resumes_only_its_own_plan():
    saved, _ = stepped("warmup(5) >> cosine(50)", 12)
    state = saved.state_dict()
    del state["contexts"]
    same = DSLScheduler(optimizer(0.1), "warmup(5) >> cosine(50)", resume="prefix")
    same.load_state_dict(copy.deepcopy(state))
    other = DSLScheduler(optimizer(0.1), "warmup(5) >> cosine(50) >> const(0)", resume="prefix")
    with pytest.raises(lrdsl.LrdslError, match="only resume the plan it was saved from") as info:
        other.load_state_dict(state)
    assert info.value.code == "E0608"


def test_prefix_under_a_token_clock_compares_counts():
    text = "warmup(1000tok) >> hold()"
    opt = optimizer(0.1)
    saved = DSLScheduler(opt, text, clock="tokens", total_tokens=10**6, tokens_per_step=1000)
    for n in (512, 512, 1024, 4096):
        saved.step(tokens=n)
    branch = "warmup(1000tok) >> hold(5144tok) >> cooldown(2000tok)"  # the cooldown from token 6144 on
    new_opt = optimizer(0.1)
    sched = DSLScheduler(new_opt, branch, clock="tokens", resume="prefix")
    sched.load_state_dict(saved.state_dict())
    sched.step(tokens=1000)
    assert sched.consumed == 7144 and lrs_of(new_opt) == [0.1 * (1 - 1000 / 2000)]
    early = DSLScheduler(optimizer(0.1), "warmup(1000tok) >> hold(4000tok) >> cooldown(2000tok)", clock="tokens",
                         resume="prefix")  # fmt: skip
    with pytest.raises(lrdsl.LrdslError, match="token 5,001") as info:
        early.load_state_dict(saved.state_dict())
    assert info.value.code == "E0608"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"clock": "minutes"}, "E0305"),
        ({"total": 0}, "E0401"),
        ({"total": 1.5}, "E0305"),
        ({"placeholders": {"x": [1]}}, "E0305"),
        ({"extra": 1}, "E0305"),
    ],
)
@pytest.mark.parametrize("mode", ["exact", "prefix", "any"])
def test_a_tampered_context_is_refused_in_every_mode(change, code, mode):
    saved, _ = stepped("warmup(5) >> cosine(50)", 12)
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, "warmup(5) >> cosine(50)", resume=mode)
    run(sched, opt, 2)
    state = saved.state_dict()
    state["contexts"][0].update(change)
    before = (copy.deepcopy(sched.state_dict()), lrs_of(opt))
    with pytest.raises(lrdsl.LrdslError) as info:
        sched.load_state_dict(state)
    assert info.value.code == code and "'contexts'[0]" in info.value.message
    assert (sched.state_dict(), lrs_of(opt)) == before


def test_placeholders_are_part_of_the_saved_context():
    saved, _ = stepped("warmup($w) >> cosine(50)", 20, w=5)
    assert saved.state_dict()["contexts"][0]["placeholders"] == {"w": 5}
    sched = DSLScheduler(optimizer(0.1), "warmup(5) >> cosine(50) >> const(0)", resume="prefix")
    sched.load_state_dict(saved.state_dict())  # $w=5 recompiles the saved text to the same values
    other = DSLScheduler(optimizer(0.1), "warmup($w) >> cosine(50)", resume="prefix", w=6)
    with pytest.raises(lrdsl.LrdslError, match="step 1 "):
        other.load_state_dict(saved.state_dict())
