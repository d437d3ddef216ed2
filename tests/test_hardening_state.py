"""Untrusted state: DSLScheduler.load_state_dict checks every key and is atomic
(a tampered checkpoint changes nothing, and no accepted plateau state can make
an evaluator read past its tables); per-group schedule sequences; copies and
pickles of schedulers and schedules (also into a spawned DataLoader worker);
tampered Keras configs; the OmegaConf resolver's numbers and to_yaml."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import pickle
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrdsl
from lrdsl.language.domain import MAX_STEP

torch = pytest.importorskip("torch")
from lrdsl.torch import DSLScheduler  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore:Detected call of"), pytest.mark.filterwarnings("ignore:Seems like")]

# plateau from step 2 to 22; with a constant metric torch cuts at 5 (local 3) and 9 (local 7)
TEXT = "warmup(2) >> plateau(patience=1, factor=0.5, cooldown=2, min_lr=1e-3, steps=20) >> const(1e-3)"


def optimizer(*lrs: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs])


def trained(steps: int = 9) -> tuple[DSLScheduler, torch.optim.Optimizer]:
    opt = optimizer(0.1, 0.02)
    sched = DSLScheduler(opt, TEXT)
    for _ in range(steps):
        opt.step()
        sched.step(1.0)
    return sched, opt


def lrs(opt: torch.optim.Optimizer) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


def snapshot(sched: DSLScheduler, opt: torch.optim.Optimizer) -> dict:
    compiled = ("optimizer", "_schedules", "_feedback", "_calls")
    return {
        "attrs": copy.deepcopy({k: v for k, v in vars(sched).items() if k not in compiled}),
        "objects": (list(sched._schedules), list(sched._feedback), list(sched._calls)),
        "plateaus": copy.deepcopy([fb.state() for fb in sched._feedback]),
        "values": [[s(t) for t in range(40)] for s in sched.schedules],
        "state": copy.deepcopy(sched.state_dict()),
        "groups": [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups],
    }


def same(a: dict, b: dict) -> bool:
    objects_a, objects_b = a.pop("objects"), b.pop("objects")
    return a == b and all(x is y for xs, ys in zip(objects_a, objects_b) for x, y in zip(xs, ys))


def test_the_reference_state_is_what_torch_would_have_cut():
    sched, opt = trained()
    plateau = sched.state_dict()["plateaus"][0][0]
    assert plateau["cuts"] == [3, 7] and plateau["levels"] == [0.05, 0.025] and plateau["cooling"] == 2
    assert lrs(opt) == [0.025, 0.005]


DELETE = object()
P = ("plateaus", 0, 0)  # the first group's plateau
CASES = [
    # (changes, a word the message must contain, code)
    ({("last_epoch",): "9"}, "'last_epoch'", "E0305"),
    ({("last_epoch",): 3.7}, "'last_epoch'", "E0305"),
    ({("last_epoch",): 9.0}, "'last_epoch'", "E0305"),
    ({("last_epoch",): True}, "'last_epoch'", "E0305"),
    ({("last_epoch",): None}, "'last_epoch'", "E0305"),
    ({("last_epoch",): -1}, "'last_epoch'", "E0401"),
    ({("last_epoch",): MAX_STEP + 1}, "'last_epoch'", "E0401"),
    ({("step_count",): -1}, "'step_count'", "E0401"),
    ({("step_count",): 2**53}, "'step_count'", "E0401"),
    ({("step_count",): 1.5}, "'step_count'", "E0305"),
    ({("base_lrs", 0): "0.1"}, "'base_lrs'[0]", "E0305"),
    ({("base_lrs", 0): True}, "'base_lrs'[0]", "E0305"),
    ({("base_lrs", 1): math.nan}, "'base_lrs'[1]", "E0401"),
    ({("base_lrs", 0): math.inf}, "'base_lrs'[0]", "E0401"),
    ({("base_lrs", 0): -0.1}, "'base_lrs'", "E0503"),
    ({("base_lrs",): [0.1]}, "'base_lrs'", "E0305"),
    ({("base_lrs",): 0.1}, "'base_lrs'", "E0305"),
    ({("last_lr", 0): math.nan}, "'last_lr'[0]", "E0401"),
    ({("last_lr", 1): None}, "'last_lr'[1]", "E0305"),
    ({("schedules", 0): 1}, "'schedules'[0]", "E0305"),
    ({("fingerprint",): "0" * 64}, "'fingerprint'", "E0305"),
    ({("fingerprint",): 5}, "'fingerprint'", "E0305"),
    ({("format",): 2}, "'format'", "E0305"),
    ({("format",): True}, "'format'", "E0305"),
    ({("format",): DELETE}, "'format'", "E0305"),
    ({("lrdsl",): 1}, "'lrdsl'", "E0305"),
    ({("last_epoch",): DELETE}, "'last_epoch'", "E0305"),
    ({("extra",): 1}, "'extra'", "E0305"),
    ({("plateaus",): "x"}, "'plateaus'", "E0305"),
    ({("plateaus",): [[]]}, "'plateaus'", "E0305"),
    ({("plateaus", 0): {}}, "plateaus[0]", "E0305"),
    ({("plateaus", 0): []}, "plateaus[0]", "E0607"),
    ({(*P, "cuts"): DELETE}, "'cuts'", "E0305"),
    ({(*P, "extra"): 0}, "'extra'", "E0305"),
    ({(*P, "index"): 5}, "plateaus[0][0].index", "E0305"),
    ({(*P, "index"): "2"}, "plateaus[0][0].index", "E0305"),
    ({(*P, "best"): math.nan}, "plateaus[0][0].best", "E0401"),
    ({(*P, "best"): "1"}, "plateaus[0][0].best", "E0305"),
    ({(*P, "bad"): -1}, "plateaus[0][0].bad", "E0401"),
    ({(*P, "bad"): 1.5}, "plateaus[0][0].bad", "E0305"),
    ({(*P, "bad"): 2}, "plateaus[0][0].bad", "E0401"),  # torch never keeps more than patience
    ({(*P, "cooling"): 3}, "plateaus[0][0].cooling", "E0401"),  # more than cooldown
    ({(*P, "cuts"): [3, 7, 8, 9, 10, 11, 12, 13]}, "8 cuts but 2 levels", "E0305"),  # read past the table
    ({(*P, "levels"): [0.05]}, "2 cuts but 1 levels", "E0305"),
    ({(*P, "cuts"): [7, 3]}, "plateaus[0][0].cuts", "E0401"),
    ({(*P, "cuts"): [-1, 7]}, "plateaus[0][0].cuts[0]", "E0401"),
    ({(*P, "cuts"): [0, 7]}, "plateaus[0][0].cuts[0]", "E0401"),
    ({(*P, "cuts"): [3, 8]}, "plateaus[0][0].cuts[1]", "E0401"),  # a cut at step 10, the state is at 9
    ({(*P, "cuts"): [3, 21], ("last_epoch",): 30}, "plateaus[0][0].cuts[1]", "E0401"),  # past the end
    ({(*P, "cuts"): ["3", 7]}, "plateaus[0][0].cuts[0]", "E0305"),
    ({(*P, "cuts"): [3.0, 7]}, "plateaus[0][0].cuts[0]", "E0305"),
    ({(*P, "cuts"): (3, 7, 8)}, "3 cuts but 2 levels", "E0305"),
    ({(*P, "levels"): [-1.0, 0.025]}, "plateaus[0][0].levels[0]", "E0401"),
    ({(*P, "levels"): [math.inf, 0.025]}, "plateaus[0][0].levels[0]", "E0401"),
    ({(*P, "levels"): [0.05, math.nan]}, "plateaus[0][0].levels[1]", "E0401"),
    ({(*P, "levels"): [0.05, 0.5]}, "plateaus[0][0].levels[1]", "E0401"),  # cuts never raise the level
    ({(*P, "levels"): [0.2, 0.025]}, "plateaus[0][0].levels[0]", "E0401"),  # above the start (0.1)
    ({(*P, "levels"): [0.05, 1e-4]}, "plateaus[0][0].levels[1]", "E0401"),  # below min_lr
    ({(*P, "levels"): ["0.05", 0.025]}, "plateaus[0][0].levels[0]", "E0305"),
    ({("plateaus", 1, 0, "levels"): [0.01, True]}, "plateaus[1][0].levels[1]", "E0305"),
]


def tampered(state: dict, changes: dict) -> dict:
    state = copy.deepcopy(state)
    for path, value in changes.items():
        *parents, last = path
        target = state
        for key in parents:
            target = target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return state


@pytest.mark.parametrize(("changes", "word", "code"), CASES, ids=[str(c[0]) for c in CASES])
@pytest.mark.parametrize("strict", [True, False])
def test_a_tampered_state_is_refused_and_changes_nothing(changes, word, code, strict):
    if not strict and changes == {("fingerprint",): "0" * 64}:
        pytest.skip("strict=False does not compare fingerprints")
    sched, opt = trained()
    state = tampered(sched.state_dict(), changes)
    before = snapshot(sched, opt)
    with pytest.raises(lrdsl.LrdslError) as info:
        sched.load_state_dict(state, strict=strict)
    assert info.value.code == code and word in str(info.value), str(info.value)
    assert same(snapshot(sched, opt), before)


def test_a_refused_load_leaves_a_scheduler_that_runs_on_like_its_twin():
    sched, opt = trained()
    twin, twin_opt = trained()
    for changes, _, _ in CASES:
        with pytest.raises(lrdsl.LrdslError):
            sched.load_state_dict(tampered(sched.state_dict(), changes))
    for metric in [1.0, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4]:
        opt.step(), twin_opt.step()
        sched.step(metric), twin.step(metric)
        assert lrs(opt) == lrs(twin_opt)
    fresh = DSLScheduler(optimizer(0.1, 0.02), TEXT)
    fresh.load_state_dict(sched.state_dict())  # and good states still load
    assert fresh.get_last_lr() == sched.get_last_lr()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(st.integers(-2, 40), max_size=5),
    levels=st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.05, 0.025, 1e-3]), max_size=5),
    last_epoch=st.integers(0, 40),
)
def test_an_accepted_plateau_state_gives_a_staircase_through_its_levels(backend, cuts, levels, last_epoch):
    sched, opt = trained()
    changes = {(*P, "cuts"): cuts, (*P, "levels"): levels, ("last_epoch",): last_epoch}
    try:
        sched.load_state_dict(tampered(sched.state_dict(), changes))
    except lrdsl.LrdslError:
        return
    s = sched.schedules[0]
    allowed = {0.1, *levels}
    for t in range(2, 22):
        assert s(t) in allowed
    assert all(math.isfinite(s(t)) for t in range(60)) and lrs(opt)[0] == s(last_epoch)


def test_steps_are_checked_before_anything_changes():
    sched, opt = trained()
    before = snapshot(sched, opt)
    with pytest.raises(lrdsl.LrdslError) as info:
        sched.step(epoch=3.7)  # type: ignore[arg-type]
    assert info.value.code == "E0305" and same(snapshot(sched, opt), before)
    sched.load_state_dict({**sched.state_dict(), "last_epoch": MAX_STEP})
    before = snapshot(sched, opt)
    with pytest.raises(lrdsl.LrdslError) as info:
        sched.step()
    assert info.value.code == "E0401" and same(snapshot(sched, opt), before)
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLScheduler(optimizer(0.1), "cosine(10)", last_epoch=3.7)  # type: ignore[arg-type]
    assert info.value.code == "E0305"


# ---------------------------------------------------------------- per-group sequences


def test_per_group_schedules_may_be_any_sequence():
    omegaconf = pytest.importorskip("omegaconf")
    import lrdsl.omegaconf

    lrdsl.omegaconf.register()
    texts = ["cosine(10)", "linear(10, end=0)"]
    listconfig = omegaconf.OmegaConf.create({"s": ["cosine(10)", "${lrdsl:'linear(10, end=0)'}"]}).s
    for given_ in (tuple(texts), listconfig, [lrdsl.compile(texts[0]), texts[1]], omegaconf.ListConfig(texts)):
        opt = optimizer(0.1, 0.02)
        sched = DSLScheduler(opt, given_)  # type: ignore[arg-type]
        for _ in range(5):
            opt.step()
            sched.step()
        assert lrs(opt) == pytest.approx([0.05, 0.01], rel=1e-12)  # half a cosine from 0.1, half way to 0 from 0.02


@pytest.mark.parametrize(
    ("schedule", "word"),
    [
        (("cosine(10)",), "1 schedules for 2 param groups"),
        (["cosine(10)", 5], "schedule[1]"),
        (("cosine(10)", None), "schedule[1]"),
        (["cosine(10)", {}], "schedule[1] is empty"),
        (5, "got int"),
        (b"cosine(10)", "got bytes"),
    ],
)
def test_a_wrong_per_group_list_is_an_error(schedule, word):
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLScheduler(optimizer(0.1, 0.02), schedule)
    assert info.value.code == "E0305" and word in str(info.value)


@pytest.mark.parametrize(
    ("schedule", "word"),
    [
        # a mapping is a plan (issue 13): its keys must be the group's numeric entries
        (["cosine(10)", {"a": 1}], "param group 1 has no numeric entry 'a'"),
        ({"a": "cosine(10)", "b": "cosine(10)"}, "param group 0 has no numeric entry 'a'"),
    ],
)
def test_a_mapping_is_a_plan_whose_keys_must_be_the_groups(schedule, word):
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLScheduler(optimizer(0.1, 0.02), schedule)
    assert info.value.code == "E0207" and word in str(info.value)


# ---------------------------------------------------------------- copies and pickles


def via_torch_save(obj: object) -> object:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


COPIES = {"deepcopy": copy.deepcopy, "pickle": lambda x: pickle.loads(pickle.dumps(x)), "torch.save": via_torch_save}


@pytest.mark.parametrize("how", list(COPIES))
def test_a_scheduler_copies_and_the_copy_runs_on_identically(how):
    opt = optimizer(0.1, 0.02)
    sched = DSLScheduler(opt, [TEXT, lrdsl.compile("cosine(12) >> plateau(patience=0, factor=0.5)")])
    for _ in range(9):
        opt.step()
        sched.step(1.0)
    twin = COPIES[how](sched)
    assert isinstance(twin, DSLScheduler) and twin.optimizer is not opt
    assert lrs(twin.optimizer) == lrs(opt) and twin.state_dict() == sched.state_dict()
    for metric in [1.0, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]:
        opt.step(), twin.optimizer.step()
        sched.step(metric), twin.step(metric)
        assert lrs(twin.optimizer) == lrs(opt)
    assert sched.state_dict()["plateaus"][1][0]["cuts"]  # the compiled schedule's plateau did cut


@pytest.mark.parametrize("how", list(COPIES))
def test_a_plateau_schedule_copies(how):
    s = lrdsl.compile("warmup(2) >> plateau(patience=1)", base_lr=0.1)
    twin = COPIES[how](s)
    assert [twin(t) for t in range(5)] == [0.0, 0.05, 0.1, 0.1, 0.1]


class ScheduleDataset(torch.utils.data.Dataset):  # type: ignore[misc]
    """Item i is the schedule's value at step i, computed in the worker."""

    def __init__(self, schedule: lrdsl.Schedule) -> None:
        self.schedule = schedule

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int) -> tuple[int, float]:
        return os.getpid(), self.schedule(i)


def test_a_schedule_goes_to_a_spawned_dataloader_worker():
    data = ScheduleDataset(lrdsl.compile("warmup(4) >> cosine(4)", base_lr=2.0))
    loader = torch.utils.data.DataLoader(data, batch_size=None, num_workers=1, multiprocessing_context="spawn")
    items = list(loader)
    assert {int(pid) for pid, _ in items} != {os.getpid()}
    cos = 1.0 + math.cos(math.pi / 4)  # cosine(4) at step 1, times 2 / 2
    assert [float(v) for _, v in items] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, cos], rel=1e-12)


# ---------------------------------------------------------------- Keras


@pytest.fixture
def keras():  # type: ignore[no-untyped-def]
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    return pytest.importorskip("keras")


KERAS_CASES = [
    ("schedule", 5),
    ("base_lr", "0.1"),
    ("base_lr", True),
    ("total_steps", "100"),
    ("total_steps", 100.0),
    ("steps_per_epoch", [1]),
    ("placeholders", [1]),
    ("placeholders", {1: 2}),
    ("name", 3),
    ("name", DELETE),
    ("schedule", DELETE),
    ("extra", 1),
]


@pytest.mark.parametrize(("key", "value"), KERAS_CASES)
def test_keras_from_config_refuses_a_tampered_config(keras, key, value):
    from lrdsl.keras import DSLSchedule

    config = tampered(DSLSchedule("cosine(10)", base_lr=0.1, total_steps=100).get_config(), {(key,): value})
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLSchedule.from_config(config)
    assert info.value.code == "E0305" and f"'{key}'" in str(info.value)


def test_keras_load_model_refuses_a_tampered_saved_config(keras, tmp_path):
    from lrdsl.keras import DSLSchedule

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=DSLSchedule("cosine(10)", base_lr=0.1)), loss="mse")
    good, bad = tmp_path / "good.keras", tmp_path / "bad.keras"
    model.save(good)
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(bad, "w") as out:
        for name in z.namelist():
            blob = z.read(name)
            if name == "config.json":
                config = json.loads(blob)
                config["compile_config"]["optimizer"]["config"]["learning_rate"]["config"]["total_steps"] = "10"
                blob = json.dumps(config).encode()
            out.writestr(name, blob)
    assert isinstance(keras.models.load_model(good).optimizer._learning_rate, DSLSchedule)
    with pytest.raises(lrdsl.LrdslError) as info:
        keras.models.load_model(bad)
    assert info.value.code == "E0305" and "'total_steps'" in str(info.value)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_keras_schedule_copies(keras, how):
    from lrdsl.keras import DSLSchedule

    sched = DSLSchedule("cosine($n) >> const(1e-3)", base_lr=0.1, placeholders={"n": 10})
    twin = COPIES[how](sched)
    assert isinstance(twin, DSLSchedule) and twin.get_config() == sched.get_config()
    assert float(twin(5)) == pytest.approx(0.05, rel=1e-6) and float(twin(20)) == pytest.approx(1e-3, rel=1e-6)


# ---------------------------------------------------------------- OmegaConf


@pytest.fixture
def oc():  # type: ignore[no-untyped-def]
    omegaconf = pytest.importorskip("omegaconf")
    import lrdsl.omegaconf

    lrdsl.omegaconf.register()
    return omegaconf.OmegaConf


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"total_steps": 3.9}, "E0503"),
        ({"total_steps": "3.9"}, "E0503"),
        ({"total_steps": 1e400}, "E0503"),
        ({"total_steps": "1e400"}, "E0503"),
        ({"total_steps": math.nan}, "E0503"),
        ({"steps_per_epoch": -math.inf}, "E0503"),
        ({"base_lr": math.inf}, "E0503"),
        ({"base_lr": "nan"}, "E0503"),
        ({"total_steps": True}, "E0305"),
        ({"base_lr": False}, "E0305"),
        ({"base_lr": "fast"}, "E0305"),
        ({"base_lr": [0.1]}, "E0305"),
        ({"text": 5}, "E0305"),
    ],
)
def test_the_resolver_never_rounds_or_overflows(oc, args, code):
    import lrdsl.omegaconf

    args = {"text": "cosine(10)", **args}
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.omegaconf.resolve(**args)
    assert info.value.code == code


def test_the_resolver_in_a_config(oc):
    cfg = oc.create(
        {
            "a": "${lrdsl:'cosine(10)', 0.1, 3.9}",
            "b": "${lrdsl:'cosine(10)', 0.1, 1e400}",
            "c": "${lrdsl:'cosine(10)', true}",
        }
    )
    for key, word in (("a", "3.9"), ("b", "inf"), ("c", "True")):
        with pytest.raises(Exception, match=r"(LrdslError|ContextError) raised") as info:
            _ = cfg[key]
        assert word in str(info.value)
    ok = oc.create({"s": "${lrdsl:'cosine(10)', 0.1, 1e4}"}).s  # a whole float is a whole number
    assert ok.total_steps == 10_000 and isinstance(ok.total_steps, int)


def test_to_yaml_of_a_resolved_config_writes_what_lrdsl_load_reads(oc, tmp_path):
    import yaml

    cfg = oc.create({"lr": 3e-4, "sched": "${lrdsl:'warmup(5%) >> cosine(95%)', ${lr}, 10000}"})
    assert "${lrdsl:" in oc.to_yaml(cfg)  # unresolved, as before
    text = oc.to_yaml(cfg, resolve=True)
    data = yaml.safe_load(text)  # plain YAML: no Python object tags
    assert data["sched"] == {"schedule": "warmup(5%) >> cosine(95%)", "base_lr": 3e-4, "total_steps": 10000}
    assert oc.create(text).sched.total_steps == 10000
    path = tmp_path / "resolved.yaml"
    path.write_text(text)
    again = lrdsl.load(path, "sched")
    assert [again(t) for t in (0, 250, 500, 5000, 9999)] == [cfg.sched(t) for t in (0, 250, 500, 5000, 9999)]
    assert again(500) == 3e-4  # the warmup ends at 5% of 10000


def test_a_tensor_where_the_format_belongs_is_an_lrdsl_error() -> None:
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = DSLScheduler(opt, "cosine(10)")
    state = sched.state_dict()
    state["format"] = torch.tensor([1.0, 2.0])
    with pytest.raises(lrdsl.LrdslError):
        sched.load_state_dict(state)


def test_a_state_whose_lr_overflowed_reloads() -> None:
    # 1e308 * (1e300)**t overflows: the schedule's own value is inf
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1e308)
    sched = DSLScheduler(opt, "exp(1e300)")
    opt.step()
    sched.step()
    opt.step()
    sched.step()
    state = sched.state_dict()
    assert state["last_lr"][0] == float("inf")
    again = DSLScheduler(torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=1e308), "exp(1e300)")
    again.load_state_dict(state)
    assert again.last_epoch == 2
