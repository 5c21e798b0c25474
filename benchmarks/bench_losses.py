"""Time softmax cross-entropy forward + backward: dlnotes (NumPy) vs PyTorch on the CPU.

Run from the repository root:  .venv/bin/python benchmarks/bench_losses.py [--n 4096] [--k 1000]

For each dtype it prints the time of one forward + backward pass, the median over --repeat
rounds of --number calls that alternate between the two libraries (dlnotes.timing.median_times,
so a burst of load on a shared machine slows both alike), and the ratio dlnotes / torch (below
1 means dlnotes is faster; the target is below 3). PyTorch uses its default thread count unless
--torch-threads is given (printed); NumPy's elementwise kernels run on one thread.
"""

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from dlnotes.losses import cross_entropy, cross_entropy_grad
from dlnotes.timing import median_times


def bench(n, k, dtype, repeat, number, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(n, k)).astype(dtype)
    labels = rng.integers(0, k, size=n)
    z = torch.from_numpy(logits.copy()).requires_grad_(True)
    y = torch.from_numpy(labels)

    def ours():
        cross_entropy(logits, labels)
        cross_entropy_grad(logits, labels)

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
                        help="torch.set_num_threads (default: torch's own choice); 1 = like NumPy")
    args = parser.parse_args()
    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)
    print(f"cross-entropy forward + backward, logits ({args.n}, {args.k}), "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads, numpy {np.__version__}")
    for dtype in (np.float32, np.float64):
        ours, theirs, gap = bench(args.n, args.k, dtype, args.repeat, args.number)
        print(f"{np.dtype(dtype).name:>8}: dlnotes {ours * 1e3:7.2f} ms   torch {theirs * 1e3:7.2f} ms   "
              f"ratio {ours / theirs:4.2f}   max |grad diff| {gap:.1e}")


if __name__ == "__main__":
    main()
