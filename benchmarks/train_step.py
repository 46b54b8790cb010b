"""Seconds per CycleGAN training iteration: style_wrap's step against a plain-PyTorch step.

The plain step is how the reference CycleGAN code does it: six separate generator passes
(fake, cycle and identity for each direction) and separate real/fake discriminator passes.
style_wrap's step batches each generator's fake and identity pass and each discriminator's real
and fake pass (instance norm is per sample, so the results are the same), and on CUDA adds
mixed precision and channels_last. Both run on the same random 64x64 batches, in alternating
blocks, in one process per configuration (peak memory is that process's: CUDA allocator peak per
implementation, or peak RSS on CPU).

Run: ``python benchmarks/train_step.py [--iters 5] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from torch import nn

from style_wrap.devices import resolve_device
from style_wrap.nets import PatchDiscriminator, ResnetGenerator
from style_wrap.train.config import TrainConfig
from style_wrap.train.model import CycleGAN

CONFIGS = [(16, 6, 8), (32, 6, 8), (64, 9, 4)]


class PlainCycleGAN:
    """The textbook step, written the plain way (fp32, six generator passes)."""

    def __init__(self, ngf: int, n_blocks: int, device: torch.device):
        torch.manual_seed(0)
        self.g_a, self.g_b = (ResnetGenerator(ngf=ngf, n_blocks=n_blocks).to(device) for _ in "ab")
        self.d_a, self.d_b = (PatchDiscriminator(ndf=64, n_layers=2).to(device) for _ in "ab")
        self.opt_g = torch.optim.Adam(
            [*self.g_a.parameters(), *self.g_b.parameters()], 2e-4, betas=(0.5, 0.999)
        )
        self.opt_d = torch.optim.Adam(
            [*self.d_a.parameters(), *self.d_b.parameters()], 2e-4, betas=(0.5, 0.999)
        )
        self.mse, self.l1 = nn.MSELoss(), nn.L1Loss()

    def step(self, real_a: torch.Tensor, real_b: torch.Tensor) -> None:
        fake_b, fake_a = self.g_a(real_a), self.g_b(real_b)
        rec_a, rec_b = self.g_b(fake_b), self.g_a(fake_a)
        idt_a, idt_b = self.g_a(real_b), self.g_b(real_a)
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(False)
        self.opt_g.zero_grad()
        pred_b, pred_a = self.d_b(fake_b), self.d_a(fake_a)
        loss_g = (
            self.mse(pred_b, torch.ones_like(pred_b))
            + self.mse(pred_a, torch.ones_like(pred_a))
            + 10 * (self.l1(rec_a, real_a) + self.l1(rec_b, real_b))
            + 5 * (self.l1(idt_a, real_b) + self.l1(idt_b, real_a))
        )
        loss_g.backward()
        self.opt_g.step()
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(True)
        self.opt_d.zero_grad()
        loss_d = 0.0
        for d, real, fake in ((self.d_a, real_a, fake_a), (self.d_b, real_b, fake_b)):
            pr, pf = d(real), d(fake.detach())
            loss_d = loss_d + 0.5 * (
                self.mse(pr, torch.ones_like(pr)) + self.mse(pf, torch.zeros_like(pf))
            )
        loss_d.backward()
        self.opt_d.step()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_one(ngf: int, n_blocks: int, batch: int, iters: int, device: torch.device) -> dict:
    cfg = TrainConfig(
        domain_a="a",
        domain_b="b",
        ngf=ngf,
        n_blocks=n_blocks,
        batch_size=batch,
        iters=10**6,
        pool_size=50,
    )
    ours = CycleGAN(cfg, (64, 64), device)
    plain = PlainCycleGAN(ngf, n_blocks, device)
    mf = ours.memory_format
    real = [torch.rand(batch, 3, 64, 64, device=device) * 2 - 1 for _ in range(2)]
    steps = {
        "style_wrap": lambda: ours.train_step(*(r.contiguous(memory_format=mf) for r in real)),
        "plain": lambda: plain.step(*real),
    }
    times: dict[str, list[float]] = {k: [] for k in steps}
    memory: dict[str, float] = {}
    for step in steps.values():  # warm up
        step()
    for name, step in steps.items():
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        for _ in range(iters):
            _sync(device)
            t = time.perf_counter()
            step()
            _sync(device)
            times[name].append(time.perf_counter() - t)
        if device.type == "cuda":
            memory[name] = torch.cuda.max_memory_allocated() / 2**20
    record = {
        "device": str(device),
        "ngf": ngf,
        "n_blocks": n_blocks,
        "batch": batch,
        "threads": torch.get_num_threads(),
    }
    for name, ts in times.items():
        record[f"{name}_s_per_iter"] = sorted(ts)[len(ts) // 2]
        if name in memory:
            record[f"{name}_peak_mib"] = memory[name]
    if device.type == "cpu":
        record["process_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record["speedup"] = record["plain_s_per_iter"] / record["style_wrap_s_per_iter"]
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iters", type=int, default=5, help="timed iterations per implementation")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", help="write the records here")
    parser.add_argument("--ngf", type=int, help="time this width only (6 blocks, batch 8)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # "ngf,blocks,batch": child process
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.one:
        ngf, blocks, batch = (int(v) for v in args.one.split(","))
        print(json.dumps(run_one(ngf, blocks, batch, args.iters, device)))
        return
    records = []
    for ngf, blocks, batch in [(args.ngf, 6, 8)] if args.ngf else CONFIGS:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                f"{ngf},{blocks},{batch}",
                "--iters",
                str(args.iters),
                "--device",
                args.device,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        records.append(r)
        mem = (
            f"peak {r['style_wrap_peak_mib']:.0f} vs {r['plain_peak_mib']:.0f} MiB"
            if "plain_peak_mib" in r
            else f"process peak RSS {r['process_peak_rss_mib']:.0f} MiB"
        )
        print(
            f"{r['device']} ngf {ngf:2d} blocks {blocks} batch {batch}: style_wrap "
            f"{r['style_wrap_s_per_iter']:.3f} s/it, plain {r['plain_s_per_iter']:.3f} s/it, "
            f"plain/style_wrap {r['speedup']:.2f}x, {mem}",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=2)


if __name__ == "__main__":
    main()
