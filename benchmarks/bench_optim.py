"""Time one Adam step on a million parameters: dlnotes.optim.Adam (NumPy) vs torch.optim.Adam.

Run from the repository root:  .venv/bin/python benchmarks/bench_optim.py [--n 1000000]

torch.optim.Adam runs with its default implementation choice (foreach/fused left at None), with
torch's default thread count (which follows OMP_NUM_THREADS), on 2 threads and on one thread
(NumPy's elementwise kernels use one thread; on a busy machine extra torch threads can make
torch slower, not faster). For each dtype
the script prints the time of one step, the median over --repeat rounds of --number steps that
alternate between the two optimisers (dlnotes.timing.median_times, so a burst of load on a shared
machine slows both alike), the ratio dlnotes / torch (below 1 means dlnotes is faster) and the
largest parameter difference after the timed steps (both optimisers see the same gradient every
step and take the same number of steps). The target is a ratio below 3.
"""

import argparse

import numpy as np
import torch

from dlnotes.optim import Adam
from dlnotes.timing import median_times


def bench(n, dtype, repeat, number, threads, seed=0):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(n).astype(dtype)
    grad = rng.standard_normal(n).astype(dtype)

    ours = start.copy()
    opt = Adam([ours], lr=1e-3)
    theirs = torch.from_numpy(start.copy())
    theirs.grad = torch.from_numpy(grad.copy())
    ref = torch.optim.Adam([theirs], lr=1e-3)

    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads)  # torch's own pool only: NumPy's step is unaffected
    times = median_times({"dlnotes": lambda: opt.step([grad]), "torch": ref.step}, repeat=repeat, number=number)
    torch.set_num_threads(default_threads)
    assert opt.t == ref.state[theirs]["step"].item(), "both optimisers must have taken the same steps"
    gap = float(np.max(np.abs(ours - theirs.numpy())))
    return times["dlnotes"], times["torch"], gap


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of parameters")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=10)
    args = parser.parse_args()
    default = torch.get_num_threads()
    print(f"Adam step on {args.n:,} parameters, torch {torch.__version__} (default {default} "
          f"thread{'s' if default > 1 else ''}), numpy {np.__version__}")
    for dtype in (np.float32, np.float64):
        for threads in sorted({default, 2, 1}, reverse=True):
            ours, theirs, gap = bench(args.n, dtype, args.repeat, args.number, threads)
            tag = ", default" if threads == default else ""
            print(f"{np.dtype(dtype).name:>8}: dlnotes {ours * 1e3:7.2f} ms   torch ({threads} thread"
                  f"{'s' if threads > 1 else ''}{tag}) {theirs * 1e3:7.2f} ms   ratio {ours / theirs:4.2f}   "
                  f"max |param diff| {gap:.1e}")


if __name__ == "__main__":
    main()
