"""accelerate: how ``accelerator.prepare(scheduler)`` counts steps, and a
prepared scheduler that steps once per optimizer update.

What accelerate does (``accelerate/scheduler.py``, ``AcceleratedScheduler.step``):
while gradients accumulate (``sync_gradients`` false) it does not step (it only
bumps ``_step_count``); on an optimizer update it steps nothing when the
optimizer step was skipped (fp16 overflow), else once with
``Accelerator(split_batches=True)`` and otherwise ``num_processes`` times:
accelerate's convention is a schedule written for one process, whose lengths
count the updates one process would make over the data, while each of N
processes makes 1/N of them.  With ``step_scheduler_with_optimizer=False`` it
steps at every ``scheduler.step()`` call, micro-batches included.

lrdsl lengths are absolute (``warmup(500)`` is 500 scheduler steps), so under
the default a ``warmup(500)`` on 8 GPUs lasts 63 updates.  Three ways to the
intended schedule, with ``total_steps`` counted in this process's optimizer
updates (``math.ceil(len(loader) / grad_accum) * epochs`` after ``prepare``):

- :func:`prepare_scheduler` (``lrdsl.hf.prepare_scheduler(accelerator, sched)``):
  accelerate's own wrapper with one step per update on every process (skipped
  updates skipped, accumulation respected), registered for
  ``save_state``/``load_state``;
- or do not pass the scheduler to ``prepare``: call ``sched.step()`` when
  ``accelerator.sync_gradients`` (and ``accelerator.register_for_checkpointing(sched)``);
- or keep accelerate's convention: build the schedule for the single-process
  count, every length scaled by :func:`scheduler_steps_per_update` (``%`` lengths
  scale by themselves when ``total_steps`` is that count).

The HuggingFace Trainer does not prepare its scheduler (only DeepSpeed's): it
steps it once per optimizer update on every process, so
``total_steps=num_training_steps`` is right there (:mod:`lrdsl.emit.hf`).
Importing this module imports accelerate.
"""

from __future__ import annotations

from typing import Any

from accelerate.scheduler import AcceleratedScheduler

from ..language.errors import LrdslError

__all__ = ["prepare_scheduler", "scheduler_steps_per_update"]


def scheduler_steps_per_update(accelerator: Any) -> int:
    """How many steps ``accelerator.prepare(scheduler)`` makes per optimizer
    update when ``scheduler.step()`` is called once per micro-batch, as
    accelerate's examples do: ``num_processes`` (1 with ``split_batches=True``),
    or, with ``step_scheduler_with_optimizer=False``, one per call, so
    ``gradient_accumulation_steps``."""
    if not accelerator.step_scheduler_with_optimizer:
        return int(accelerator.gradient_accumulation_steps)
    return 1 if accelerator.split_batches else int(accelerator.num_processes)


def prepare_scheduler(accelerator: Any, scheduler: Any, optimizer: Any = None) -> AcceleratedScheduler:
    """``scheduler`` wrapped as accelerate wraps it, but stepping once per
    optimizer update whatever the number of processes; ``optimizer`` is the
    prepared optimizer it follows (default: the one ``accelerator.prepare``
    made for the scheduler's optimizer).  Call ``.step()`` once per micro-batch
    (or per update); it is registered for ``accelerator.save_state``."""
    if optimizer is None:
        target = scheduler.optimizer  # the raw optimizer, or the prepared one it was built on
        mine = [o for o in getattr(accelerator, "_optimizers", []) if target is o or target is o.optimizer]
        if not mine:
            raise LrdslError(
                "prepare the optimizer first (accelerator.prepare(model, optimizer, ...)), or pass optimizer=",
                code="E0305",
            )
        optimizer = mine[0]
    wrapped = AcceleratedScheduler(scheduler, optimizer, step_with_optimizer=True, split_batches=True)
    accelerator.register_for_checkpointing(wrapped)
    return wrapped
