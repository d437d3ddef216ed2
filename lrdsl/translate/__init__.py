"""Translation stage, inward: framework schedules -> lrdsl text.

The other stages take a text to values (:mod:`lrdsl.language.syntax` -> :mod:`lrdsl.language.check`
-> :mod:`lrdsl.compile` -> evaluators and emitters); this one runs the other way
and writes the text for a schedule someone already has in PyTorch, Keras or a
HuggingFace ``lr_scheduler_type``:

* :func:`from_torch` reads a ``torch.optim.lr_scheduler`` object's documented
  attributes (``T_max``, ``eta_min``, ``base_lrs``, ``milestones``, ...; it never
  steps the scheduler) and returns a text whose values at steps ``0, 1, 2, ...``
  are the lrs torch gives after ``0, 1, 2, ...`` calls of ``step()``.
  Where torch also drives the momentum (``CyclicLR`` and ``OneCycleLR`` with
  ``cycle_momentum=True``, alone or in a ``SequentialLR``) it returns a plan
  ``{"lr": ..., "momentum": ...}`` -- ``"betas[0]"`` instead of ``"momentum"``
  exactly where torch drives the betas (``"betas" in optimizer.defaults``) --
  that :class:`lrdsl.torch.DSLScheduler` takes as it is; a plain text when
  only the lr is driven.
* :func:`from_keras` reads a ``keras.optimizers.schedules`` object's
  ``get_config()`` and returns a text whose value at step ``t`` is
  ``schedule(t)``.
* :func:`from_hf` takes a HuggingFace ``SchedulerType`` name and the arguments
  of ``transformers.get_scheduler`` and returns the text of the lr its
  ``LambdaLR`` gives (``base`` times the lambda) -- without importing
  transformers: each lambda's formula is translated by hand, as written in
  ``transformers/optimization.py``.

Each text compiles with ``lrdsl.compile(text, base_lr=...)`` alone: lengths are
explicit whole steps (no ``%``, no elastic segment), so no ``total_steps`` is
needed.  Numbers are written with ``repr`` (they read back as the same float64)
and the text is returned in canonical form.  Every function takes ``steps=N``:
the text then only has to match on steps ``0..N-1``, which lets a periodic
schedule that is never run past its first descent read as a plain ``cosine``.

What ``base`` means.  torch: the param group's ``initial_lr`` (what torch's
schedulers read as ``base_lrs`` and :class:`lrdsl.torch.DSLScheduler` reads as
base), for group ``group=`` (default 0).  Where torch's parameters are factors
of it (``ConstantLR``, ``LinearLR``, ``StepLR``, ``MultiStepLR``,
``ExponentialLR``, ``PolynomialLR``, the peaks of the cosines) the text says
``0.1 * base``, so one text serves every param group whose settings differ only
in their lr; torch's absolute parameters (``eta_min``, ``CyclicLR``'s and
``OneCycleLR``'s lrs, ``min_lr``) are written as numbers.  ``CyclicLR`` and
``OneCycleLR`` overwrite the group's ``lr``/``initial_lr`` themselves, so a
scheduler containing one of them is written in absolute numbers throughout.
Keras: all numbers are absolute (a Keras schedule has no separate base), so
``base_lr`` does not matter.  HuggingFace: ``base`` is the lr the ``LambdaLR``
multiplies (the optimizer's lr); ``lr_end`` and ``min_lr``, absolute in HF, are
written as numbers unless ``lr_init=`` (HF's ``optimizer.defaults['lr']``) is
given, which makes them factors of base.

torch, exactly (steps from 0 on, checked value for value against the real
schedulers in tests/test_translate.py): ``ConstantLR``, ``LinearLR``,
``StepLR``, ``MultiStepLR`` (repeated milestones too), ``ExponentialLR``,
``PolynomialLR``, ``CosineAnnealingLR`` (torch's is periodic: it climbs back
to base over the next ``T_max`` steps, so the text repeats a descent and a
cosine warm-up, unless ``steps`` ends within the first descent),
``CosineAnnealingWarmRestarts``, ``CyclicLR`` (three modes, ``step_size_down``),
``OneCycleLR`` (every parameter; steps ``0..total_steps-1``: after its last
``step()`` torch sets an lr extrapolated past the final phase, which no
optimizer step uses, and raises on the next ``step()``), ``ReduceLROnPlateau``
(-> ``plateau(...)``, the same decisions when fed the same metrics),
``SequentialLR`` of these (with torch's real behaviour, below) and
``ChainedScheduler`` of the multiplicative ones (a product of factor
schedules).

torch's ``SequentialLR``, as torch 2.13 runs it: at construction it resets
every group's lr to ``initial_lr`` and re-runs the initial step of the
scheduler active at step 0 on that lr; at a milestone it calls the next
scheduler's ``_update_lr(0)``, which evaluates its *closed form* at step 0 from
its own ``base_lrs`` where it has one (so it restarts from base, not from the
lr the previous scheduler left) and its ``get_lr()`` otherwise (``CyclicLR``,
``OneCycleLR``, ``CosineAnnealingWarmRestarts``: absolute formulas), and then
steps it as usual.  Each scheduler's ``base_lrs`` is the group's
``initial_lr`` when *it* was built: normally the optimizer's lr, but a
``CyclicLR`` built first makes it its ``base_lr`` and a ``OneCycleLR`` sets it
to ``max_lr/div_factor`` -- which then is also the lr the first scheduler starts
from.  A ``ChainedScheduler`` at a ``SequentialLR``'s start has its schedulers'
initial steps re-run outside torch's initial mode, so an ``ExponentialLR`` in it
applies ``gamma`` once more at step 0 (and a ``PolynomialLR`` its first ratio).
A ``OneCycleLR`` that a milestone leaves running for ``total_steps + 1`` steps
uses its extrapolated last value at the extra step.  A milestone that cuts a scheduler before its end gives a segment of
exactly that many steps; the few shapes that cannot be cut with their own
parameters (``PolynomialLR`` with power != 1, ``OneCycleLR``) are cut with a
0/1 window: ``a * (const(1, steps=n) >> const(0)) + (const(0, steps=n) >> rest)``.

The momentum, torch exactly: ``OneCycleLR``'s is
``one_cycle(n, start=max_momentum, peak=base_momentum, end=max_momentum, ...)``
with the lr's ``pct_start``, ``anneal`` and ``three_phase``, ``CyclicLR``'s is
``cyclic(up, start=max_momentum, peak=base_momentum, ...)`` with the lr's
mode, gamma and ``down``: absolute numbers, the group's own (torch's per-group
lists).  In a ``SequentialLR`` each momentum-cycling scheduler sets it while
active, from its own step 0 (a milestone restarts it with ``get_lr()``); where
none is active it holds the last value set -- before the first of them, the
value the last one built set at construction (its step 0), which is refused
(E0801) when they would set different ones, since torch does not record which
was built last.

Not translated (:class:`~lrdsl.errors.UnsupportedError`, code E0801, with the
reason): ``LambdaLR`` and ``MultiplicativeLR`` (an arbitrary Python function:
use :func:`from_hf` for HuggingFace's), a ``CyclicLR`` with a custom
``scale_fn``, subclasses of the built-ins (they may override the formula),
``ChainedScheduler`` containing a scheduler that is not a pure factor
(``CosineAnnealingLR`` adds ``eta_min`` and restarts from base_lr; ``CyclicLR``,
``OneCycleLR``, ``CosineAnnealingWarmRestarts`` and others set the lr outright,
discarding the others' factors), a ``SequentialLR`` or ``ChainedScheduler``
nested after a milestone of a ``SequentialLR`` (torch itself raises
``NotImplementedError`` there) and a nested ``SequentialLR`` at its start,
settings with which torch itself fails (a division by zero, a ``OneCycleLR``
stepped past ``total_steps`` inside a ``SequentialLR``), and lengths that are
not whole steps.  Keras: ``PolynomialDecay(cycle=True)`` without ``steps``
(each cycle is a different polynomial, so there are as many segments as
cycles), ``CosineDecayRestarts`` with ``t_mul < 1`` (its cycles shrink to
nothing; Keras gives NaN after them), non-positive decay rates.  (Keras turns
Python-float arguments into float32; the text has the float64 values, so it
matches Keras to 1e-12 when the schedule was built with ``np.float64``
arguments, to float32 precision otherwise.)  HuggingFace:
``greedy`` (GreedyLR raises the lr on improvement), ``cosine_warmup_with_min_lr``
with num_warmup_steps 0 (or 1 with warmup_lr_rate != 1: its cosine starts one step
past its peak), cosines whose cycle is not a whole number of steps, and names HF
does not have.

The LLM trainers: :func:`from_torchtitan` reads torchtitan's ``[lr_scheduler]``
section (warmup_steps, decay_ratio, decay_type, min_lr_factor) and
:func:`from_megatron` Megatron-LM's ``--lr-*`` options (a dict of them, dashes or
underscores), each value for value with its trainer's own step formula.
"""

from __future__ import annotations

from ._hf import HF_SCHEDULER_TYPES, from_hf
from ._keras import from_keras
from ._llm import from_megatron, from_torchtitan
from ._torch import from_torch

__all__ = ["HF_SCHEDULER_TYPES", "from_hf", "from_keras", "from_megatron", "from_torch", "from_torchtitan"]
