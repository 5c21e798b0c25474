"""Data-parallel training on the CPU: step time with 1, 2, ... gloo processes, and the all-reduce alone.

Run from the repository root:  .venv/bin/python benchmarks/bench_distributed.py [--width 256] [--batch 2048]

An MLP 64 → width → width → 10 (float32) is trained with SGD under DistributedDataParallel on a
fixed global batch of --batch rows of the 8×8 digits, split equally over p processes
(dlnotes.distributed.launch, gloo backend, one torch thread per process). For each p the script
prints the median step time (the slower rank counts), its ratio to one process (perfect scaling:
1/p), the median time of an all-reduce of a buffer as large as all the gradients as a fraction of
a step, and whether the weights after the steps equal those of one process to float32 round-off.
With more processes than free cores the ratio measures the machine's contention, not DDP.
"""

import argparse
import statistics

import numpy as np
import torch

from dlnotes import distributed
from dlnotes.data import digits


def wide_mlp(width, seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                               torch.nn.ReLU(), torch.nn.Linear(width, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=256, help="hidden units per layer")
    parser.add_argument("--batch", type=int, default=2048, help="global batch (divisible by every p)")
    parser.add_argument("--steps", type=int, default=20, help="timed SGD steps per run")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="world sizes to time")
    args = parser.parse_args()

    (X, y), _, _ = digits(seed=0)
    X, y = np.resize(X, (args.batch, 64)).astype(np.float32), np.resize(y, args.batch)
    module = wide_mlp(args.width, seed=0)
    distributed.preload()
    n_params = sum(p.numel() for p in module.parameters())
    print(f"MLP 64-{args.width}-{args.width}-10 ({n_params:,} parameters), global batch {args.batch}, "
          f"{args.steps} steps")
    print(f"{'processes':>9} {'step':>10} {'vs 1 process':>13} {'all-reduce / step':>18} {'same weights':>13}")
    base_time, base_state = None, None
    for p in args.processes:
        runs = distributed.launch(distributed.ddp_train, p, args=(module, X, y, args.steps, 0.05), timeout=600)
        step = statistics.median(max(ts) for ts in zip(*(r["step"] for r in runs)))
        reduce = statistics.median(runs[0]["all_reduce"])
        state = runs[0]["state"]
        if base_time is None:
            base_time, base_state = step, state
        same = max(float(np.abs(state[k] - base_state[k]).max()) for k in state) < 1e-5
        print(f"{p:>9} {step * 1e3:>7.2f} ms {step / base_time:>13.2f} {reduce / step:>18.3f} {str(same):>13}")


if __name__ == "__main__":
    main()
