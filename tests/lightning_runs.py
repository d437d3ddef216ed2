"""A tiny Lightning run for tests/test_lightning.py, importable and runnable as a
script (the resume test runs it in a new process):

    python tests/lightning_runs.py '{"texts": "...", "max_steps": 30, ...}'

prints one JSON line: the lr of every param group at the start of every
training batch, by global step, and at the start of every epoch.  The data and
the model are seeded; the validation metric is a function of the global step
(or the epoch), so a resumed run sees the same metrics as the first.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from lrdsl.lightning import PlateauFeed, scheduler_config
from lrdsl.torch import DSLScheduler

BATCHES = 10  # per epoch: 40 samples, 4 a batch


def val_metric(t: int, stall: int = 12) -> float:
    """Improves until ``stall`` (a step or an epoch), then stalls: a plateau that cuts."""
    return 1.0 / (1.0 + min(t, stall))


class Tiny(pl.LightningModule):
    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__()
        self.cfg = cfg
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        t = self.trainer.current_epoch if self.cfg.get("interval") == "epoch" else self.trainer.global_step
        self.log("val_loss", val_metric(t, self.cfg.get("stall", 12)))

    def configure_optimizers(self) -> Any:
        cfg = self.cfg
        groups = [{"params": [self.net.weight], "lr": 0.1}, {"params": [self.net.bias], "lr": 0.02}]
        opt = torch.optim.SGD(groups if cfg.get("groups") else self.parameters(), lr=0.1)
        sched = DSLScheduler(opt, cfg["texts"], total_steps=cfg.get("total_steps"))
        kw = {k: cfg[k] for k in ("monitor", "interval") if k in cfg}
        return {"optimizer": opt, "lr_scheduler": scheduler_config(sched, trainer=self.trainer, **kw)}


class Record(pl.Callback):
    def __init__(self) -> None:
        self.steps: dict[int, list[float]] = {}
        self.epochs: dict[int, list[float]] = {}
        self.feeds: list[PlateauFeed] = []

    def _lrs(self, trainer: pl.Trainer) -> list[float]:
        return [float(g["lr"]) for g in trainer.optimizers[0].param_groups]

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        self.steps[trainer.global_step] = self._lrs(trainer)

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        self.epochs[trainer.current_epoch] = self._lrs(trainer)

    def on_fit_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.feeds = [cb for cb in trainer.callbacks if isinstance(cb, PlateauFeed)]


def loader(seed: int, n: int = 4 * BATCHES) -> DataLoader:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=4)


def run(cfg: dict[str, Any]) -> Record:
    """Fit ``Tiny(cfg)``; ``cfg`` also takes max_steps / max_epochs,
    val_check_interval, ckpt_dir + ckpt_every (ModelCheckpoint every n steps),
    ckpt_path (resume), trainer (extra Trainer keywords) and extra_callbacks."""
    torch.manual_seed(0)
    record = Record()
    callbacks: list[pl.Callback] = [record, *cfg.get("extra_callbacks", [])]
    if cfg.get("ckpt_dir"):
        callbacks.append(
            pl.callbacks.ModelCheckpoint(dirpath=cfg["ckpt_dir"], every_n_train_steps=cfg["ckpt_every"], save_top_k=-1)
        )
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=cfg.get("max_steps", -1),
        max_epochs=cfg.get("max_epochs"),
        val_check_interval=cfg.get("val_check_interval"),
        limit_val_batches=1,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=bool(cfg.get("ckpt_dir")),
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
        **cfg.get("trainer", {}),
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers|LeafSpec).*")
        trainer.fit(Tiny(cfg), loader(1), loader(2, 4), ckpt_path=cfg.get("ckpt_path"))
    return record


if __name__ == "__main__":
    rec = run(json.loads(sys.argv[1]))
    print(json.dumps({"steps": rec.steps, "epochs": rec.epochs}))
