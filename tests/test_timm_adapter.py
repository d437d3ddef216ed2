"""lrdsl.timm.Scheduler driven exactly as timm's train.py drives a scheduler.

timm needs torchvision, which does not install beside the pinned CPU torch, so
:func:`timm_fit` re-creates the scheduler calls of timm's ``train.py``
(huggingface/pytorch-image-models at aa4b5850c1543fa488abf260f18390eda46cf85d),
line for line where it touches the scheduler or the update count:

- train.py:1079   ``updates_per_epoch = (len(loader_train) + args.grad_accum_steps - 1) // args.grad_accum_steps``
- train.py:1091-1095  on resume: ``lr_scheduler.step_update(start_epoch * updates_per_epoch)`` when
  ``args.sched_on_updates``, else ``lr_scheduler.step(start_epoch)``
- train.py:1137-1143  ``epoch_p_1 = epoch + 1``; an epoch not evaluated: ``lr_scheduler.step(epoch_p_1, metric=None)``
- train.py:1191, 1199-1201  ``latest_metric = eval_metrics[eval_metric]``; ``lr_scheduler.step(epoch_p_1, latest_metric)``
- train.py:1267-1280 (train_one_epoch)  ``num_updates = epoch * updates_per_epoch``; ``need_update = last_batch
  or (batch_idx + 1) % accum_steps == 0``; the last partial accumulation
- train.py:1326, 1387-1391, 1438-1439  ``optimizer.step()`` on an update; ``num_updates += 1``;
  ``lr_scheduler.step_update(num_updates=num_updates, metric=losses_m.avg)``

Expected values: ``Schedule.values`` (1e-12 relative), timm's cosine formula
(timm/scheduler/cosine_lr.py:81-105) by hand, and torch's ReduceLROnPlateau for
plateau cuts.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_runs import close, plateau_lrs  # noqa: E402

import lrdsl  # noqa: E402
from lrdsl.errors import LrdslError  # noqa: E402
from lrdsl.timm import Scheduler  # noqa: E402

BATCHES = 10


class Run:
    def __init__(self) -> None:
        self.updates: dict[int, list[float]] = {}  # lr at each optimizer update, by num_updates before it
        self.epochs: dict[int, list[float]] = {}  # lr at the first update of each epoch
        self.reports: list[tuple[int, int, float]] = []  # (epoch_p_1, num_updates, metric) passed to step()


def _model_and_optimizer(lr_scale: float | None = None) -> tuple[Any, Any]:
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    groups = [{"params": [model.weight]}, {"params": [model.bias]}]
    if lr_scale is not None:
        groups[1]["lr_scale"] = lr_scale
    return model, torch.optim.SGD(groups, lr=0.1)


def train_one_epoch(epoch, model, loader, optimizer, grad_accum_steps, lr_scheduler, run):  # type: ignore[no-untyped-def]
    accum_steps = grad_accum_steps
    last_accum_steps = len(loader) % accum_steps
    updates_per_epoch = (len(loader) + accum_steps - 1) // accum_steps
    num_updates = epoch * updates_per_epoch
    last_batch_idx = len(loader) - 1
    last_batch_idx_to_accum = len(loader) - last_accum_steps
    losses = []
    optimizer.zero_grad()
    for batch_idx, (x, y) in enumerate(loader):
        last_batch = batch_idx == last_batch_idx
        need_update = last_batch or (batch_idx + 1) % accum_steps == 0
        if batch_idx >= last_batch_idx_to_accum:
            accum_steps = last_accum_steps
        loss = torch.nn.functional.mse_loss(model(x), y)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if need_update:
            lrs = [float(g["lr"]) for g in optimizer.param_groups]
            run.updates[num_updates] = lrs
            run.epochs.setdefault(epoch, lrs)
            optimizer.step()
        if not need_update:
            continue
        num_updates += 1
        optimizer.zero_grad()
        lr_scheduler.step_update(num_updates=num_updates, metric=sum(losses) / len(losses))


def timm_fit(lr_scheduler, optimizer, model, *, num_epochs, grad_accum_steps=1, sched_on_updates=False,  # type: ignore[no-untyped-def]
             val_interval=1, start_epoch=0, metric=lambda epoch: 1.0, run=None):  # fmt: skip
    run = run or Run()
    g = torch.Generator().manual_seed(1)
    xs = torch.randn(BATCHES * 4, 4, generator=g)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xs, xs.sum(1, keepdim=True)), batch_size=4)
    updates_per_epoch = (len(loader) + grad_accum_steps - 1) // grad_accum_steps
    if lr_scheduler is not None and start_epoch > 0:
        if sched_on_updates:
            lr_scheduler.step_update(start_epoch * updates_per_epoch)
        else:
            lr_scheduler.step(start_epoch)
    for epoch in range(start_epoch, num_epochs):
        train_one_epoch(epoch, model, loader, optimizer, grad_accum_steps, lr_scheduler, run)
        epoch_p_1 = epoch + 1
        if epoch_p_1 % val_interval != 0 and epoch_p_1 != num_epochs:
            lr_scheduler.step(epoch_p_1, metric=None)
            continue
        latest_metric = metric(epoch)
        run.reports.append((epoch_p_1, epoch_p_1 * updates_per_epoch, latest_metric))
        lr_scheduler.step(epoch_p_1, latest_metric)
    return run


def test_per_update_with_gradient_accumulation() -> None:
    text = "warmup(1ep) >> cosine(3ep, min=1e-4)"
    model, opt = _model_and_optimizer()
    upe = (BATCHES + 3 - 1) // 3  # 4 updates an epoch, the last from one batch
    sched = Scheduler(opt, text, t_in_epochs=False, updates_per_epoch=upe, num_epochs=4)
    run = timm_fit(sched, opt, model, num_epochs=4, grad_accum_steps=3, sched_on_updates=True)
    assert sorted(run.updates) == list(range(16))
    want = lrdsl.compile(text, base_lr=0.1, steps_per_epoch=4).values(np.arange(16))
    for group in (0, 1):
        close([run.updates[u][group] for u in range(16)], want)


def test_per_epoch_the_lr_holds_within_an_epoch() -> None:
    text = "warmup(2) >> cosine(8, min=1e-4)"
    model, opt = _model_and_optimizer()
    sched = Scheduler(opt, text, t_in_epochs=True, updates_per_epoch=BATCHES)
    run = timm_fit(sched, opt, model, num_epochs=10)
    want = lrdsl.compile(text, base_lr=0.1).values(np.arange(10))
    close([run.updates[u][0] for u in range(100)], np.repeat(want, BATCHES))  # step_update moves nothing


def test_timms_own_cosine_by_its_formula() -> None:
    """CosineLRScheduler(t_initial=T, warmup_t=w, warmup_lr_init=0, warmup_prefix=True,
    lr_min=m), from cosine_lr.py:81-105, equals warmup(w) >> cosine(T, min=m)."""
    w, big_t, m, base = 3, 12, 1e-4, 0.1

    def timm_cosine(t: int) -> float:
        if t < w:
            return 0.0 + t * (base - 0.0) / w
        t = t - w
        i, t_curr = t // big_t, t - big_t * (t // big_t)
        return m + 0.5 * (base - m) * (1 + math.cos(math.pi * t_curr / big_t)) if i < 1 else m

    model, opt = _model_and_optimizer()
    sched = Scheduler(opt, f"warmup({w}) >> cosine({big_t}, min={m}) >> const({m})", t_in_epochs=True)
    run = timm_fit(sched, opt, model, num_epochs=w + big_t + 2)
    close([run.epochs[e][0] for e in range(w + big_t + 2)], [timm_cosine(e) for e in range(w + big_t + 2)])


def stall(epoch: int) -> float:
    return 1.0 / (1 + min(epoch, 3))


def test_a_plateau_per_epoch_from_the_evaluated_epochs() -> None:
    text = "warmup(2) >> plateau(patience=1, factor=0.5)"
    model, opt = _model_and_optimizer()
    sched = Scheduler(opt, text, t_in_epochs=True)
    run = timm_fit(sched, opt, model, num_epochs=12, val_interval=2, metric=stall)  # odd epochs: metric=None
    assert [r[0] for r in run.reports] == [2, 4, 6, 8, 10, 12]
    warm = lrdsl.compile(text, base_lr=0.1).values(np.arange(12))
    got = [run.epochs[e][0] for e in range(12)]
    close(got, plateau_lrs([(t, v) for t, _, v in run.reports], 2, 12, warm))
    assert min(got) < 0.1 and got[-1] < got[5]


def test_a_plateau_per_update_from_the_epoch_metric() -> None:
    text = "warmup(10) >> plateau(patience=1, factor=0.5)"
    model, opt = _model_and_optimizer()
    sched = Scheduler(opt, text, t_in_epochs=False, updates_per_epoch=BATCHES)
    run = timm_fit(sched, opt, model, num_epochs=8, sched_on_updates=True, metric=stall)
    n = 8 * BATCHES
    warm = lrdsl.compile(text, base_lr=0.1).values(np.arange(n))
    got = [run.updates[u][0] for u in range(n)]
    close(got, plateau_lrs([(u, v) for _, u, v in run.reports], 10, n, warm))
    assert min(got) < 0.1


@pytest.mark.parametrize("on_updates", [False, True])
def test_resume_with_the_state_and_without_it(on_updates: bool) -> None:
    text = "warmup(2ep) >> cosine(4ep, min=1e-4)"
    kw = dict(t_in_epochs=not on_updates, updates_per_epoch=BATCHES)
    model, opt = _model_and_optimizer()
    first = timm_fit(Scheduler(opt, text, **kw), opt, model, num_epochs=6, sched_on_updates=on_updates)
    model, opt = _model_and_optimizer()
    sched = Scheduler(opt, text, **kw)
    half = timm_fit(sched, opt, model, num_epochs=3, sched_on_updates=on_updates)
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)
    for with_state in (True, False):  # timm's own train.py resumes from the epoch alone
        model, opt = _model_and_optimizer()
        resumed = Scheduler(opt, text, **kw)
        if with_state:
            buf.seek(0)
            resumed.load_state_dict(torch.load(buf, weights_only=True))
        again = timm_fit(resumed, opt, model, num_epochs=6, start_epoch=3, sched_on_updates=on_updates)
        assert all(again.updates[u] == first.updates[u] for u in again.updates)
        assert sorted(again.updates) == list(range(30, 60))
    assert all(half.updates[u] == first.updates[u] for u in half.updates)


def test_lr_scale_multiplies_a_groups_lr() -> None:
    text = "warmup(2) >> cosine(6)"
    model, opt = _model_and_optimizer(lr_scale=0.5)
    run = timm_fit(Scheduler(opt, text), opt, model, num_epochs=8)
    want = lrdsl.compile(text, base_lr=0.1).values(np.arange(8))
    close([run.epochs[e][0] for e in range(8)], want)
    close([run.epochs[e][1] for e in range(1, 8)], 0.5 * want[1:])


def test_refusals_and_state_checks() -> None:
    _, opt = _model_and_optimizer()
    with pytest.raises(LrdslError) as info:
        Scheduler(opt, "cosine(10)", noise_range_t=5)
    assert info.value.code == "E0801"
    with pytest.raises(LrdslError):
        Scheduler(opt, "cosine(10)", t_in_epochs=False, num_epochs=3)  # epochs without updates_per_epoch
    per_epoch = Scheduler(opt, "cosine(10)")
    _, opt2 = _model_and_optimizer()
    with pytest.raises(LrdslError):
        Scheduler(opt2, "cosine(10)", t_in_epochs=False).load_state_dict(per_epoch.state_dict())
    with pytest.raises(LrdslError):
        per_epoch.load_state_dict({"nope": 1})
