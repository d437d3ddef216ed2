"""lrdsl.torch under torch.distributed: two processes on the gloo backend see
identical learning rates for 1,000 steps, also after one rank rebuilds its
optimizer and scheduler from a checkpoint mid-run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest

import lrdsl

torch = pytest.importorskip("torch")

DDP_SCRIPT = textwrap.dedent(
    """
    import os, sys, warnings
    import torch, torch.distributed as dist
    from lrdsl.torch import DSLScheduler

    warnings.simplefilter("ignore")
    rank, world, init, out = int(sys.argv[1]), 2, sys.argv[2], sys.argv[3]
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    TEXT = "warmup(50) >> cosine_restarts(100, t_mul=2, m_mul=0.8) >> const(1e-5)"

    def build(model):
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return opt, DSLScheduler(opt, TEXT, total_steps=1000)

    torch.manual_seed(rank)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
    opt, sched = build(model)
    lrs = []
    for step in range(1000):
        x = torch.randn(8, 4)
        loss = model(x).pow(2).mean()
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        if step == 499 and rank == 1:  # rank 1 rebuilds optimizer and scheduler from a checkpoint
            path = out + ".ckpt"
            torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, path)
            state = torch.load(path, weights_only=True)
            opt, sched = build(model)
            opt.load_state_dict(state["opt"]); sched.load_state_dict(state["sched"])
    mine = torch.tensor(lrs, dtype=torch.float64)
    gathered = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(gathered, mine)
    if rank == 0:
        same = bool(torch.equal(gathered[0], gathered[1]))
        with open(out, "w") as fh:
            fh.write(f"{same} {len(lrs)} {lrs[0]!r} {lrs[-1]!r}")
    dist.barrier()  # leave together: gloo aborts a rank whose peer hung up mid-teardown
    dist.destroy_process_group()
    """
)


def test_two_gloo_ranks_agree_for_1000_steps_across_a_restore(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    init = f"file://{tmp_path / 'rendezvous'}"
    out = tmp_path / "result.txt"
    procs = [
        subprocess.Popen([sys.executable, str(script), str(rank), init, str(out)], stderr=subprocess.PIPE)
        for rank in range(2)
    ]
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    same, count, first, last = out.read_text().split()
    assert same == "True" and int(count) == 1000
    expected = lrdsl.compile(
        "warmup(50) >> cosine_restarts(100, t_mul=2, m_mul=0.8) >> const(1e-5)", total_steps=1000, base_lr=0.1
    )
    assert float(first) == expected(1) and float(last) == expected(1000)


def test_import_lrdsl_does_not_import_torch_but_lrdsl_torch_does():
    code = "import sys, lrdsl; assert 'torch' not in sys.modules; import lrdsl.torch; assert 'torch' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lrdsl.compile("cosine(5)")(5) == 0.0
