"""The runtime guard of DSLScheduler: a CountingWarning when stepped past the
plan, a FeedbackWarning when a plateau gets no metric; each once per
scheduler, pointing at the caller, and silenceable."""

from __future__ import annotations

import copy
import warnings

import pytest

import lrdsl

torch = pytest.importorskip("torch")

from lrdsl.torch import DSLScheduler  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore:Detected call of")]


def optimizer(*lrs: float) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs or (0.1,)]
    return torch.optim.SGD(groups, lr=groups[0]["lr"], momentum=0.9)


def ours(record: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in record if issubclass(w.category, lrdsl.LrdslWarning)]


def steps_until_warned(sched, n: int, **kw) -> list[tuple[int, warnings.WarningMessage]]:  # type: ignore[no-untyped-def]
    """Step ``n`` times; (the step reached, the warning) for each lrdsl warning."""
    out = []
    for _ in range(n):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            sched.step(**kw)
        out.extend((sched.last_epoch, w) for w in ours(record))
    return out


def test_the_warnings_are_user_warnings_exported_from_lrdsl():
    assert issubclass(lrdsl.CountingWarning, lrdsl.LrdslWarning)
    assert issubclass(lrdsl.FeedbackWarning, lrdsl.LrdslWarning)
    assert issubclass(lrdsl.LrdslWarning, UserWarning)
    assert {"LrdslWarning", "CountingWarning", "FeedbackWarning"} <= set(lrdsl.__all__)


# ---------------------------------------------------------------- past the plan


def test_stepping_past_the_total_warns_once_at_step_total_plus_one():
    sched = DSLScheduler(optimizer(), "warmup(3) >> cosine(50%) >> const(1e-6)", total_steps=10)
    seen = steps_until_warned(sched, 30)
    assert [k for k, _ in seen] == [11]  # 10 step() calls are the whole run; the 11th is past it
    (_, w) = seen[0]
    assert w.category is lrdsl.CountingWarning
    text = str(w.message)
    for word in ("step 11", "10 steps", "micro-batch", "gradient accumulation", "once per process", "warn=False"):
        assert word in text, word
    assert w.filename == __file__  # it points at the caller's step()


def test_a_bounded_schedule_without_a_total_warns_past_its_end():
    sched = DSLScheduler(optimizer(), "warmup(5) >> cosine(20)")
    assert [k for k, _ in steps_until_warned(sched, 40)] == [26]


@pytest.mark.parametrize("text", ["warmup(5) >> const(1e-3)", "exp(0.99)"])
def test_an_unbounded_end_without_a_total_runs_on_without_a_warning(text):
    assert steps_until_warned(DSLScheduler(optimizer(), text), 300) == []
    # with a total, the total is the plan, whatever the last segment
    assert [k for k, _ in steps_until_warned(DSLScheduler(optimizer(), text, total_steps=100), 120)] == [101]


def test_an_elastic_end_is_planned_to_the_total():
    sched = DSLScheduler(optimizer(), "warmup(5) >> cosine(20) >> hold()", total_steps=100)
    assert [k for k, _ in steps_until_warned(sched, 120)] == [101]


def test_several_groups_and_keys_take_the_latest_end():
    sched = DSLScheduler(optimizer(0.1, 0.01), ["cosine(10)", "warmup(5) >> cosine(15)"])
    assert [k for k, _ in steps_until_warned(sched, 30)] == [21]
    plan = {"lr": "cosine(10)", "momentum": "linear(30, start=0.9, end=0.5)"}
    assert [k for k, _ in steps_until_warned(DSLScheduler(optimizer(), plan), 40)] == [31]
    plan = {"lr": "cosine(10)", "momentum": "const(0.9)"}  # the momentum runs on by design
    assert steps_until_warned(DSLScheduler(optimizer(), plan), 40) == []


def test_a_token_clock_warns_when_a_batch_begins_past_the_token_total():
    sched = DSLScheduler(optimizer(), "cosine(100%)", clock="tokens", total_tokens=1000, tokens_per_step=100)
    seen = steps_until_warned(sched, 6, tokens=300)  # batches begin at 0, 300, 600, 900: the run; 1200: past it
    assert [k for k, _ in seen] == [5]
    assert "1,200 tokens" in str(seen[0][1].message) and "1,000 tokens" in str(seen[0][1].message)


def test_a_resumed_scheduler_past_its_plan_warns_on_its_next_step():
    a = DSLScheduler(optimizer(), "cosine(10)")
    for _ in range(12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a.step()
    b = DSLScheduler(optimizer(), "cosine(10)")
    b.load_state_dict(a.state_dict())
    assert [k for k, _ in steps_until_warned(b, 3)] == [13]
    c = DSLScheduler(optimizer(), "cosine(10) >> const(0)", resume="prefix")  # extended: runs on
    c.load_state_dict(a.state_dict())
    assert steps_until_warned(c, 3) == []


# ---------------------------------------------------------------- plateau without a metric

PLATEAU = "warmup(5) >> plateau(patience=3)"


def test_a_plateau_without_any_metric_warns_once_after_patience_plus_one_steps():
    sched = DSLScheduler(optimizer(), PLATEAU)
    seen = steps_until_warned(sched, 40)
    # the plateau begins at step 5; active for more than patience + 1 = 4 steps at step 10
    assert [k for k, _ in seen] == [10]
    (_, w) = seen[0]
    assert w.category is lrdsl.FeedbackWarning and w.filename == __file__
    text = str(w.message)
    for word in (
        "param group 0's 'lr'",
        "from step 5",
        "5 step() calls",
        "sched.step(metric)",
        "sched.observe(metric)",
        "reduce_on_plateau",
        "lrdsl.lightning.scheduler_config",
        "lrdsl.hf",
        "warn=False",
    ):
        assert word in text, word


def test_two_epochs_are_waited_for_when_steps_per_epoch_is_known():
    sched = DSLScheduler(optimizer(), PLATEAU, steps_per_epoch=10)
    assert [k for k, _ in steps_until_warned(sched, 40)] == [26]  # 5 + 2 * 10, then one more


def test_a_plateau_fed_a_metric_never_warns():
    sched = DSLScheduler(optimizer(), PLATEAU)
    sched.step(1.0)  # once, before the plateau: the loop knows how to feed it
    assert steps_until_warned(sched, 40) == []
    sched = DSLScheduler(optimizer(), PLATEAU)
    sched.observe(1.0)
    assert steps_until_warned(sched, 40) == []
    sched = DSLScheduler(optimizer(), PLATEAU)
    for m in [1.0] * 40:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            sched.step(m)
        assert ours(record) == []


def test_a_feeder_that_says_so_silences_the_plateau_warning():
    from lrdsl.emit.torch_guard import expect_metrics

    sched = DSLScheduler(optimizer(), PLATEAU)
    expect_metrics(sched)  # e.g. a callback that will observe() once per validation
    assert steps_until_warned(sched, 40) == []


def test_a_resumed_plateau_is_watched_from_the_resumed_step():
    a = DSLScheduler(optimizer(), PLATEAU)
    for _ in range(30):
        a.step(1.0)
    b = DSLScheduler(optimizer(), PLATEAU)
    b.load_state_dict(a.state_dict())  # its plateau state has taken reports: it is fed
    assert steps_until_warned(b, 20) == []
    fresh = DSLScheduler(optimizer(), "warmup(5) >> plateau(patience=3)")
    state = fresh.state_dict()
    state["last_epoch"], state["step_count"] = 30, 31  # deep in the plateau, never fed
    c = DSLScheduler(optimizer(), PLATEAU)
    c.load_state_dict(state)
    assert [k for k, _ in steps_until_warned(c, 20)] == [35]  # 30 + patience + 1 + 1


def test_a_plateau_under_a_token_clock_counts_step_calls():
    sched = DSLScheduler(optimizer(), "warmup(100tok) >> plateau(patience=2)", clock="tokens")
    seen = steps_until_warned(sched, 20, tokens=64)
    # the first batch begun in the plateau starts at 128 (the 3rd step()); at the 6th it has run 4 > 3 calls
    assert [k for k, _ in seen] == [6]
    assert "from token 100" in str(seen[0][1].message)


def test_a_bounded_plateau_that_ended_is_not_warned_about():
    sched = DSLScheduler(optimizer(), "warmup(5) >> plateau(patience=3, steps=3) >> cosine(100)")
    assert steps_until_warned(sched, 50) == []


# ---------------------------------------------------------------- once, silenced


def test_each_warning_comes_once_per_scheduler():
    for _ in range(2):
        sched = DSLScheduler(optimizer(), "warmup(5) >> plateau(patience=1, steps=20)")
        seen = steps_until_warned(sched, 60)
        assert [w.category for _, w in seen] == [lrdsl.FeedbackWarning, lrdsl.CountingWarning]
        assert [k for k, _ in seen] == [8, 26]
        twin = copy.deepcopy(sched)  # a copy keeps what was said
        assert steps_until_warned(twin, 5) == []


@pytest.mark.parametrize("category", [lrdsl.CountingWarning, lrdsl.FeedbackWarning, lrdsl.LrdslWarning])
def test_warnings_filterwarnings_silences_them(category):
    sched = DSLScheduler(optimizer(), "warmup(5) >> plateau(patience=1, steps=20)")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=category)
        for _ in range(40):
            sched.step()
    left = {w.category for w in ours(record)}
    assert left == {lrdsl.CountingWarning, lrdsl.FeedbackWarning} - {category} - (
        {lrdsl.CountingWarning, lrdsl.FeedbackWarning} if category is lrdsl.LrdslWarning else set()
    )


def test_warn_false_silences_both():
    sched = DSLScheduler(optimizer(), "warmup(5) >> plateau(patience=1, steps=20)", warn=False)
    assert steps_until_warned(sched, 60) == []


def test_pytest_warns_sees_them():
    sched = DSLScheduler(optimizer(), "cosine(3)")
    for _ in range(3):
        sched.step()
    with pytest.warns(lrdsl.CountingWarning, match="step 4"):
        sched.step()
