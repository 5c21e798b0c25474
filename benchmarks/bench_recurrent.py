"""Time dlnotes' recurrent layers against torch.nn on the CPU, forward + backward through time.

Workload (the defaults): LSTM(input 8, hidden 64) over T = 50 steps, batch 32, float32; one
step = forward over the whole sequence, then backward of a fixed random d loss / d output.
Target: dlnotes within 5× of torch.

Both libraries get the same number of threads (``--threads``, default 1: the NumPy layer's
matrices are small, and a second BLAS thread mostly waits on a shared machine). The two are
timed in alternating rounds so a busy machine slows both alike; the minimum over rounds is the
figure of merit, the median is printed beside it.

    .venv/bin/python benchmarks/bench_recurrent.py [--cell LSTM|GRU|RNN] [--threads N] [--rounds R]
"""

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from dlnotes.layers import recurrent


def seconds(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


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
        times = {"dlnotes": [], "torch": []}
        for _ in range(args.rounds):
            times["dlnotes"].append(seconds(ours_step))
            times["torch"].append(seconds(torch_step))

    print(f"{args.cell}({args.input_size}, {args.hidden_size}), T={args.steps}, N={args.batch}, float32, "
          f"forward + backward, {args.threads} thread(s), torch {torch.__version__}, numpy {np.__version__}")
    for name, ts in times.items():
        print(f"  {name:>7}: min {min(ts) * 1e3:7.2f} ms   median {statistics.median(ts) * 1e3:7.2f} ms")
    ratio = min(times["dlnotes"]) / min(times["torch"])
    print(f"  ratio dlnotes / torch (min): {ratio:4.2f}  (target <= 5)   max |dx diff| {gap:.1e}")


if __name__ == "__main__":
    main()
