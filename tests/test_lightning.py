"""lrdsl.lightning in a real ``lightning.Trainer.fit`` on the CPU (a Linear(4, 1),
10 batches an epoch, tests/lightning_runs.py).

Expected values: ``Schedule.values`` (within 1e-12 relative) for what the
schedule is without feedback,
and torch's own ``ReduceLROnPlateau`` fed the same metrics for where a plateau
cuts.  The resume test runs the resumed half in a new process from a mid-run
checkpoint (a plateau's state inside it) and compares every lr bit for bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

pl = pytest.importorskip("lightning.pytorch")
torch = pytest.importorskip("torch")

from lightning_runs import run, val_metric  # noqa: E402
from torch_runs import close, plateau_lrs  # noqa: E402

import lrdsl  # noqa: E402
from lrdsl.errors import LrdslError  # noqa: E402
from lrdsl.lightning import PlateauFeed, scheduler_config  # noqa: E402
from lrdsl.torch import DSLScheduler  # noqa: E402

HERE = Path(__file__).resolve().parent
PLATEAU = "warmup(5) >> plateau(patience=1, factor=0.5)"


def test_step_interval_lrs_are_the_schedules_values() -> None:
    text = "warmup(5) >> cosine(20, min=1e-3) >> const(1e-3)"
    rec = run({"texts": text, "max_steps": 30, "total_steps": 30})
    want = lrdsl.compile(text, base_lr=0.1, total_steps=30).values(np.arange(30))
    assert sorted(rec.steps) == list(range(30))
    close([rec.steps[k][0] for k in range(30)], want)


def test_config_keys() -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    plain = scheduler_config(DSLScheduler(opt, "cosine(10)"), name="lr")
    assert plain == {"scheduler": plain["scheduler"], "interval": "step", "frequency": 1, "name": "lr"}
    sched = DSLScheduler(opt, "warmup(2) >> plateau(patience=3)")
    per_epoch = scheduler_config(sched, monitor="val_loss", interval="epoch")
    assert per_epoch["reduce_on_plateau"] is True and per_epoch["monitor"] == "val_loss"
    assert per_epoch["interval"] == "epoch" and per_epoch["strict"] is True
    with pytest.raises(LrdslError) as info:  # the README's old form: a plateau that never hears a metric
        scheduler_config(sched, interval="epoch")
    assert info.value.code == "E0607" and "monitor" in info.value.message
    with pytest.raises(LrdslError) as info:  # per step, with no trainer to attach the feed to
        scheduler_config(sched, monitor="val_loss")
    assert info.value.code == "E0607" and any("trainer=self.trainer" in h for h in info.value.hints)
    for bad in ({"interval": "batch"}, {"frequency": 0}):
        with pytest.raises(LrdslError):
            scheduler_config(sched, monitor="val_loss", **bad)  # type: ignore[arg-type]


def test_a_step_plateau_is_cut_by_the_logged_validation_metric() -> None:
    n = 40
    rec = run({"texts": PLATEAU, "monitor": "val_loss", "max_steps": n, "val_check_interval": 5})
    got = [rec.steps[k][0] for k in range(n)]
    warm = lrdsl.compile(PLATEAU, base_lr=0.1).values(np.arange(n))
    reports = [(t, val_metric(t)) for t in range(5, n + 1, 5)]  # validation after every 5th step
    want = plateau_lrs(reports, 5, n, warm)
    close(got, want)
    assert min(got[5:]) < 0.1  # it did cut (twice: at steps 25 and 35)


def test_lightnings_own_plateau_path_cannot_feed_a_step_schedule() -> None:
    """Why the step case uses PlateauFeed: with reduce_on_plateau=True per step,
    Lightning asks for the metric before the first validation has logged it."""

    class Naive(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            return self.net(batch[0]).pow(2).mean()

        def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            self.log("val_loss", 1.0)

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            cfg = {"scheduler": DSLScheduler(opt, PLATEAU), "interval": "step"}
            return {"optimizer": opt, "lr_scheduler": {**cfg, "monitor": "val_loss", "reduce_on_plateau": True}}

    from lightning.fabric.utilities.exceptions import MisconfigurationException
    from lightning_runs import loader

    trainer = pl.Trainer(
        accelerator="cpu", max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    with pytest.raises(MisconfigurationException, match="val_loss"):
        trainer.fit(Naive(), loader(1), loader(2, 4))


def test_an_epoch_plateau_gets_the_metric_at_each_epochs_end() -> None:
    text = "warmup(2) >> plateau(patience=1, factor=0.5)"
    epochs = 9
    rec = run({"texts": text, "monitor": "val_loss", "interval": "epoch", "max_epochs": epochs, "stall": 3})
    got = [rec.epochs[e][0] for e in range(epochs)]
    warm = lrdsl.compile(text, base_lr=0.1).values(np.arange(epochs))
    # Lightning: step(metric of epoch e) at epoch e's end, so the report reaches step e + 1
    reports = [(e + 1, val_metric(e, 3)) for e in range(epochs)]
    close(got, plateau_lrs(reports, 2, epochs, warm))
    assert min(got[2:]) < 0.1
    assert all(rec.steps[10 * e + b] == rec.epochs[e] for e in range(epochs) for b in range(10))  # one lr an epoch


def test_per_group_schedules() -> None:
    texts = ["warmup(5) >> cosine(25)", "linear(30, start=base, end=0.1 * base)"]
    rec = run({"texts": texts, "groups": True, "max_steps": 30})
    for i, (text, base) in enumerate(zip(texts, (0.1, 0.02))):
        want = lrdsl.compile(text, base_lr=base).values(np.arange(30))
        close([rec.steps[k][i] for k in range(30)], want)


def test_a_wrong_total_is_reported() -> None:
    with pytest.warns(UserWarning, match=r"runs 100 steps.*step it 30 times"):
        run({"texts": "warmup(5) >> cosine(95%)", "total_steps": 100, "max_steps": 30})


def test_no_feedback_warning_before_the_first_validation() -> None:
    """PlateauFeed tells the scheduler's guard that the metric comes once per
    validation: 5 plateau steps before the first one are no FeedbackWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = run({"texts": PLATEAU, "monitor": "val_loss", "max_steps": 20, "val_check_interval": 10})
    assert [w.message for w in caught if issubclass(w.category, lrdsl.FeedbackWarning)] == []
    assert sorted(rec.steps) == list(range(20)) and len(rec.feeds) == 1


def test_a_metric_missing_after_a_validation() -> None:
    from lightning.pytorch.trainer.states import TrainerFn

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = DSLScheduler(opt, "plateau(patience=0, factor=0.5)")
    opt.step()
    sched.step()
    trainer = types.SimpleNamespace(
        sanity_checking=False,
        state=types.SimpleNamespace(fn=TrainerFn.FITTING),
        lr_scheduler_configs=[types.SimpleNamespace(scheduler=sched, reduce_on_plateau=False)],
        callback_metrics={"train_loss": 1.0},
    )
    best = lambda: sched.state_dict()["plateaus"][0][0]["best"]  # noqa: E731
    with pytest.raises(LrdslError, match=r"monitors 'val_loss', which this validation did not log") as info:
        PlateauFeed("val_loss").on_validation_end(trainer, None)  # type: ignore[arg-type]
    assert info.value.message.endswith("logged: ['train_loss']") and info.value.code == "E0607"
    assert list(info.value.hints) == ["self.log('val_loss', ...) in validation_step"]
    with pytest.warns(RuntimeWarning, match=r"logged: \['train_loss'\]; the plateau got no report$"):
        PlateauFeed("val_loss", strict=False).on_validation_end(trainer, None)  # type: ignore[arg-type]
    assert best() == float("inf")  # no report
    trainer.callback_metrics["val_loss"] = torch.tensor(2.0)
    PlateauFeed("val_loss").on_validation_end(trainer, None)  # type: ignore[arg-type]
    assert best() == 2.0


def test_the_feed_is_attached_once() -> None:
    feed = PlateauFeed("val_loss")
    cfg = {"texts": PLATEAU, "monitor": "val_loss", "max_steps": 20, "val_check_interval": 5}
    rec = run({**cfg, "extra_callbacks": [feed]})
    assert len(rec.feeds) == 1 and rec.feeds[0] is feed


def test_resume_in_a_new_process_is_bit_identical(tmp_path: Path) -> None:
    cfg = {"texts": PLATEAU, "monitor": "val_loss", "max_steps": 40, "val_check_interval": 5}
    first = run({**cfg, "ckpt_dir": str(tmp_path), "ckpt_every": 12})
    (ckpt,) = tmp_path.glob("*step=24*.ckpt")  # mid-epoch, mid-plateau (a bad report kept, the cut to come)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, str(HERE / "lightning_runs.py"), json.dumps({**cfg, "ckpt_path": str(ckpt)})],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    resumed = {int(k): v for k, v in json.loads(out.stdout.strip().splitlines()[-1])["steps"].items()}
    assert sorted(resumed) == list(range(24, 40))
    assert all(resumed[k] == first.steps[k] for k in resumed)  # floats from JSON: repr-exact
    assert first.steps[25][0] == 0.05 and first.steps[35][0] == 0.025  # the cuts happen after the resume
