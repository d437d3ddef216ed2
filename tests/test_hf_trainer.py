"""lrdsl.hf in a real ``transformers.Trainer`` on the CPU (a Linear(4, 1) module
returning {"loss": ...}, 32 samples, nothing downloaded), and accelerate's
scheduler stepping with lrdsl.hf.prepare_scheduler.

Expected values: ``Schedule.values`` (within 1e-12 relative) per optimizer
step, torch's own ``ReduceLROnPlateau`` fed the evaluations the Trainer made
for the plateau, and the first run's lrs, bit for bit, after
``resume_from_checkpoint``.  The eval loss is held at 1.0, so a plateau stalls.
"""

from __future__ import annotations

import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
accelerate = pytest.importorskip("accelerate")

from torch_runs import close, plateau_lrs  # noqa: E402
from transformers import Trainer, TrainerCallback, TrainingArguments  # noqa: E402

import lrdsl  # noqa: E402
from lrdsl.hf import DSLTrainer, PlateauCallback, prepare_scheduler, scheduler_steps_per_update  # noqa: E402
from lrdsl.torch import DSLScheduler  # noqa: E402

PLATEAU = "warmup(3) >> plateau(patience=1, factor=0.5)"


class Tiny(torch.nn.Module):
    """A model the Trainer can train: forward(x, labels) -> {"loss": ...}; eval loss 1.0."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(4, 1)

    def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
        out = self.lin(x)
        loss = torch.nn.functional.mse_loss(out, labels) if self.training else 1.0 + 0.0 * out.sum()
        return {"loss": loss, "logits": out}


def dataset(n: int = 32) -> list[dict[str, Any]]:
    x = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))
    return [{"x": x[i], "labels": x[i].sum(0, keepdim=True)} for i in range(n)]


class Record(TrainerCallback):  # type: ignore[misc]
    """The lrs each optimizer step uses (by global step), the micro-batches, the evaluations."""

    def __init__(self) -> None:
        self.lrs: dict[int, list[float]] = {}
        self.micro = 0
        self.evals: list[tuple[int, float]] = []

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kw):  # type: ignore[no-untyped-def]
        self.lrs[state.global_step] = [float(g["lr"]) for g in optimizer.param_groups]

    def on_substep_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
        self.micro += 1  # a micro-batch with no optimizer step

    def on_evaluate(self, args, state, control, metrics=None, **kw):  # type: ignore[no-untyped-def]
        self.evals.append((state.global_step, metrics["eval_loss"]))


def arguments(out: Path, **kw: Any) -> TrainingArguments:
    base = dict(
        output_dir=str(out),
        use_cpu=True,
        report_to=[],
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        learning_rate=0.1,
        logging_steps=1000,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
        dataloader_num_workers=0,
    )
    return TrainingArguments(**{**base, **kw})


def train(out: Path, schedule: Any, resume: str | None = None, **kw: Any) -> tuple[Record, Any]:
    rec = Record()
    trainer = DSLTrainer(
        model=Tiny(), args=arguments(out, **kw), train_dataset=dataset(), eval_dataset=dataset(4),
        lr_schedule=schedule, callbacks=[rec],
    )  # fmt: skip
    trainer.train(resume_from_checkpoint=resume)
    return rec, trainer


# ---------------------------------------------------------------- the Trainer


def test_one_scheduler_step_per_optimizer_step_under_gradient_accumulation(tmp_path: Path) -> None:
    text = "warmup(25%) >> cosine(75%, min=1e-3)"  # % of the Trainer's num_training_steps
    rec, trainer = train(tmp_path, text, max_steps=12)
    assert sorted(rec.lrs) == list(range(12)) and rec.micro == 12  # 24 micro-batches, 12 updates
    assert isinstance(trainer.lr_scheduler, DSLScheduler) and trainer.lr_scheduler.last_epoch == 12
    want = lrdsl.compile(text, base_lr=0.1, total_steps=12).values(np.arange(12))
    for group in (0, 1):  # the Trainer's decay and no-decay groups
        close([rec.lrs[k][group] for k in range(12)], want)


def test_epoch_lengths_use_the_trainers_update_steps_per_epoch(tmp_path: Path) -> None:
    text = "warmup(1ep) >> cosine(2ep)"  # 32 samples / 4 a batch / 2 accumulated: 4 updates an epoch
    rec, _ = train(tmp_path, text, num_train_epochs=3)
    want = lrdsl.compile(text, base_lr=0.1, steps_per_epoch=4).values(np.arange(12))
    assert sorted(rec.lrs) == list(range(12))
    close([rec.lrs[k][0] for k in range(12)], want)


def _plateau_expected(rec: Record, n: int, start: int) -> list[float]:
    """torch's ReduceLROnPlateau fed each evaluation whose measuring step is in the plateau."""
    return plateau_lrs(rec.evals, start, n, lrdsl.compile(PLATEAU, base_lr=0.1).values(np.arange(n)))


def test_a_plateau_is_cut_by_eval_loss(tmp_path: Path) -> None:
    rec, _ = train(tmp_path, PLATEAU, max_steps=12, eval_strategy="steps", eval_steps=2)
    assert [t for t, _ in rec.evals] == [2, 4, 6, 8, 10, 12]
    got = [rec.lrs[k][0] for k in range(12)]
    close(got, _plateau_expected(rec, 12, 3))
    assert got[8] == 0.05 and got[7] == 0.1  # cut at step 8: best at 4, bad at 6 and 8


def test_resume_from_checkpoint_is_bit_identical(tmp_path: Path) -> None:
    kw = dict(max_steps=12, eval_strategy="steps", eval_steps=2, save_strategy="steps", save_steps=6)
    first, _ = train(tmp_path, PLATEAU, **kw)  # type: ignore[arg-type]
    ckpt = tmp_path / "checkpoint-6"
    assert (ckpt / "scheduler.pt").exists()
    state = torch.load(ckpt / "scheduler.pt", weights_only=True)  # what the Trainer loads
    assert state["last_epoch"] == 6
    again, _ = train(tmp_path, PLATEAU, resume=str(ckpt), **kw)  # type: ignore[arg-type]
    assert sorted(again.lrs) == list(range(6, 12))
    assert all(again.lrs[k] == first.lrs[k] for k in again.lrs)
    assert first.lrs[8][0] == 0.05  # the cut comes after the checkpoint: its plateau state was restored


def test_a_plain_trainer_with_a_dsl_scheduler_and_the_callback(tmp_path: Path) -> None:
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    rec = Record()
    trainer = Trainer(
        model=model, args=arguments(tmp_path, max_steps=12, eval_strategy="steps", eval_steps=2),
        train_dataset=dataset(), eval_dataset=dataset(4),
        optimizers=(opt, DSLScheduler(opt, PLATEAU)), callbacks=[rec, PlateauCallback()],
    )  # fmt: skip
    trainer.train()
    close([rec.lrs[k][0] for k in range(12)], _plateau_expected(rec, 12, 3))


def test_no_feedback_warning_before_the_first_evaluation(tmp_path: Path) -> None:
    """PlateauCallback tells the scheduler's guard that the metric comes once per
    evaluation: 13 plateau steps (over 2 epochs of 4) before the first one are no
    FeedbackWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec, _ = train(tmp_path, PLATEAU, max_steps=16, eval_strategy="steps", eval_steps=16)
    assert [w.message for w in caught if issubclass(w.category, lrdsl.FeedbackWarning)] == []
    assert [t for t, _ in rec.evals] == [16]
    with pytest.warns(lrdsl.FeedbackWarning):  # a Trainer that never evaluates: nothing feeds the plateau
        train(tmp_path, PLATEAU, max_steps=16)


def test_the_trainers_own_schedule_settings_are_reported(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"warmup \(2 steps\) not applied"):
        train(tmp_path, "cosine(100%)", max_steps=4, warmup_steps=2)
    with pytest.warns(UserWarning, match=r"runs 100 steps .*the Trainer \(num_training_steps\) will step it 4 times"):
        train(tmp_path, "cosine(100)", max_steps=4)  # a horizon the Trainer does not run


def test_a_plateau_mode_against_greater_is_better() -> None:
    sched = DSLScheduler(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), PLATEAU)
    args = types.SimpleNamespace(greater_is_better=True, metric_for_best_model="accuracy")
    with pytest.warns(UserWarning, match="mode is min, but greater_is_better=True"):
        PlateauCallback().on_train_begin(args, None, None, lr_scheduler=sched)


def test_a_metric_missing_from_an_evaluation_is_an_error() -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = DSLScheduler(opt, "plateau(patience=0, factor=0.5)")
    opt.step()
    sched.step()
    args = types.SimpleNamespace(greater_is_better=None, metric_for_best_model=None, eval_strategy="steps")
    callback = PlateauCallback(metric="accuracy")
    callback.on_train_begin(args, None, None, lr_scheduler=sched)
    with pytest.raises(lrdsl.LrdslError) as info:
        callback.on_evaluate(args, None, None, metrics={"eval_loss": 1.0}, lr_scheduler=sched)
    assert info.value.code == "E0607"
    assert info.value.message == (
        "the plateau reads 'eval_accuracy', which the evaluation did not return; it returned: ['eval_loss']"
    )
    callback.on_evaluate(args, None, None, metrics={"eval_accuracy": 2.0}, lr_scheduler=sched)
    assert sched.state_dict()["plateaus"][0][0]["best"] == 2.0


# ---------------------------------------------------------------- accelerate


@pytest.fixture
def fresh_accelerate():  # type: ignore[no-untyped-def]
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(True)
    GradientState._reset_state()


def _accelerate_loop(accelerator: Any, how: str, updates: int = 6) -> tuple[list[float], Any]:
    """accelerate's documented loop (``with accelerator.accumulate(model)``, one
    ``scheduler.step()`` per micro-batch); the lr at each optimizer update."""
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = DSLScheduler(opt, "warmup(4) >> cosine(20)")
    data = torch.utils.data.DataLoader(dataset(updates * 2 * 4), batch_size=4)
    if how == "prepare":
        model, opt, data, stepped = accelerator.prepare(model, opt, data, sched)
    else:
        model, opt, data = accelerator.prepare(model, opt, data)
        if how == "lrdsl-after":  # built on the prepared optimizer, as accelerate's examples often do
            sched = DSLScheduler(opt, "warmup(4) >> cosine(20)")
        stepped = prepare_scheduler(accelerator, sched)
    lrs = []
    for batch in data:
        with accelerator.accumulate(model):
            loss = torch.nn.functional.mse_loss(model(batch["x"]), batch["labels"])
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                lrs.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            stepped.step()
            opt.zero_grad()
    return lrs, sched


def _two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """What AcceleratedScheduler.step reads, as on 2 processes (its loop over
    AcceleratorState().num_processes is the code path; nothing else changes)."""
    monkeypatch.setattr(accelerate.scheduler, "AcceleratorState", lambda: types.SimpleNamespace(num_processes=2))


def test_accelerate_prepare_steps_once_per_update_on_one_process(fresh_accelerate) -> None:  # type: ignore[no-untyped-def]
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    lrs, sched = _accelerate_loop(acc, "prepare")
    assert len(lrs) == 6 and sched.last_epoch == 6
    close(lrs, lrdsl.compile("warmup(4) >> cosine(20)", base_lr=0.1).values(np.arange(6)))
    assert scheduler_steps_per_update(acc) == 1


def test_accelerate_prepare_steps_once_per_process(fresh_accelerate, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The pitfall: on N processes a prepared scheduler advances N steps an update."""
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    _two_processes(monkeypatch)
    lrs, sched = _accelerate_loop(acc, "prepare")
    assert len(lrs) == 6 and sched.last_epoch == 12  # double stepping
    close(lrs, lrdsl.compile("warmup(4) >> cosine(20)", base_lr=0.1).values(np.arange(0, 12, 2)))


@pytest.mark.parametrize("how", ["lrdsl", "lrdsl-after"])
def test_prepare_scheduler_steps_once_per_update_on_any_process_count(fresh_accelerate, monkeypatch, how) -> None:  # type: ignore[no-untyped-def]
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    _two_processes(monkeypatch)
    lrs, sched = _accelerate_loop(acc, how)
    assert len(lrs) == 6 and sched.last_epoch == 6
    close(lrs, lrdsl.compile("warmup(4) >> cosine(20)", base_lr=0.1).values(np.arange(6)))


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning")
def test_without_step_with_optimizer_every_call_steps(fresh_accelerate) -> None:  # type: ignore[no-untyped-def]
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2, step_scheduler_with_optimizer=False)
    _, sched = _accelerate_loop(acc, "prepare")
    assert sched.last_epoch == 12 == 6 * scheduler_steps_per_update(acc)  # per micro-batch
