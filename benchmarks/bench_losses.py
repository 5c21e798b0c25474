"""Time softmax cross-entropy forward + backward: dlnotes (NumPy) vs PyTorch on the CPU.

Run from the repository root:  .venv/bin/python benchmarks/bench_losses.py [--n 4096] [--k 1000]

For each dtype it prints the time of one forward + backward pass, the median over --repeat
rounds of --number calls that alternate between the two libraries (dlnotes.timing.median_times,
so a burst of load on a shared machine slows both alike), and the ratio dlnotes / torch (below
1 means dlnotes is faster). The target, a ratio below 3, is measured with torch on 2 threads;
the script also reports torch at its default thread count (which follows OMP_NUM_THREADS) and
at any --torch-threads given. NumPy's elementwise kernels run on one thread. dlnotes computes
the loss and its gradient in one call (``cross_entropy_with_grad``), as a training step does.
"""

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from dlnotes.losses import cross_entropy_grad, cross_entropy_with_grad
from dlnotes.timing import median_times


def bench(n, k, dtype, repeat, number, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(n, k)).astype(dtype)
    labels = rng.integers(0, k, size=n)
    z = torch.from_numpy(logits.copy()).requires_grad_(True)
    y = torch.from_numpy(labels)

    def ours():
        cross_entropy_with_grad(logits, labels)

    def theirs():
        z.grad = None
        F.cross_entropy(z, y).backward()

    theirs()
    gap = float(np.max(np.abs(cross_entropy_grad(logits, labels) - z.grad.numpy())))
    times = median_times({"dlnotes": ours, "torch": theirs}, repeat=repeat, number=number)
    return times["dlnotes"], times["torch"], gap


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="batch size N")
    parser.add_argument("--k", type=int, default=1000, help="number of classes K")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="one more torch.set_num_threads setting to report; 1 = like NumPy")
    args = parser.parse_args()
    default = torch.get_num_threads()
    settings = dict.fromkeys([2, default] + ([args.torch_threads] if args.torch_threads else []))
    print(f"cross-entropy forward + backward, logits ({args.n}, {args.k}), torch {torch.__version__} "
          f"(default {default} thread{'s' if default > 1 else ''}), numpy {np.__version__}; target: ratio < 3 "
          f"with torch on 2 threads")
    for threads in settings:
        torch.set_num_threads(threads)
        label = f"torch on {threads} thread{'s' if threads > 1 else ''}" + (" (default)" if threads == default else "")
        for dtype in (np.float32, np.float64):
            ours, theirs, gap = bench(args.n, args.k, dtype, args.repeat, args.number)
            print(f"{np.dtype(dtype).name:>8}, {label}: dlnotes {ours * 1e3:7.2f} ms   torch {theirs * 1e3:7.2f} ms   "
                  f"ratio {ours / theirs:4.2f}   max |grad diff| {gap:.1e}")
    torch.set_num_threads(default)


if __name__ == "__main__":
    main()
