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

from layer_timing import report, time_forward_backward

from dlnotes.layers import recurrent


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
    times, gap = time_forward_backward(ours, theirs, lambda m, xt: m(xt)[0], x, grad,
                                       threads=args.threads, rounds=args.rounds)
    report(f"{args.cell}({args.input_size}, {args.hidden_size}), T={args.steps}, N={args.batch}, float32, "
           f"forward + backward, {args.threads} thread(s)", times, gap, target=5)

if __name__ == "__main__":
    main()
