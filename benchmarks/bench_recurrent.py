"""Time dlnotes' recurrent layers against torch.nn on the CPU, forward + backward through time.

Workload (the defaults): LSTM(input 8, hidden 64) over T = 50 steps, batch 32, float32; one
step = forward over the whole sequence, then backward of a fixed random d loss / d output.
Target: dlnotes within 5× of torch.

Both libraries get the same number of threads (``--threads``, default 1: the NumPy layer's
matrices are small, and a second BLAS thread mostly waits on a shared machine). The two are
timed in alternating rounds (dlnotes.timing.median_times) so a busy machine slows both alike,
and the median over the rounds is reported.

    .venv/bin/python benchmarks/bench_recurrent.py [--cell LSTM|GRU|RNN] [--threads N] [--rounds R]
"""

import argparse

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from dlnotes.layers import recurrent
from dlnotes.timing import median_times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=["LSTM", "GRU", "RNN"], default="LSTM")
    parser.add_argument("--input-size", type=int, default=8)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    ours = getattr(recurrent, args.cell)(args.input_size, args.hidden_size, rng=rng, dtype=np.float32)
    theirs = ours.to_torch().float()
    x = rng.normal(size=(args.steps, args.batch, args.input_size)).astype(np.float32)
    grad = rng.normal(size=(args.steps, args.batch, args.hidden_size)).astype(np.float32)
    xt = torch.from_numpy(x).requires_grad_(True)
    gt = torch.from_numpy(grad)

    def ours_step():
        ours.forward(x)
        return ours.backward(grad)

    def torch_step():
        xt.grad = None
        theirs.zero_grad()
        out, _ = theirs(xt)
        out.backward(gt)

    with threadpool_limits(limits=args.threads, user_api="blas"):
        dx = ours_step()
        torch_step()
        gap = float(np.max(np.abs(dx - xt.grad.numpy())))
        times = median_times({"dlnotes": ours_step, "torch": torch_step}, repeat=args.rounds)

    print(f"{args.cell}({args.input_size}, {args.hidden_size}), T={args.steps}, N={args.batch}, float32, "
          f"forward + backward, {args.threads} thread(s), torch {torch.__version__}, numpy {np.__version__}")
    for name, seconds in times.items():
        print(f"  {name:>7}: median {seconds * 1e3:7.2f} ms")
    ratio = times["dlnotes"] / times["torch"]
    print(f"  ratio dlnotes / torch (median): {ratio:4.2f}  (target <= 5)   max |dx diff| {gap:.1e}")


if __name__ == "__main__":
    main()
