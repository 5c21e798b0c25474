"""One forward + backward of a dlnotes layer against its torch twin, timed alike (for the bench_*.py).

    times, gap = time_forward_backward(ours, theirs, lambda m, xt: m(xt)[0], x, grad, threads=1, rounds=30)

``ours`` is a dlnotes layer (``forward(x)``, then ``backward(grad)`` returning d loss / d x);
``theirs`` is the torch module, and ``call(theirs, xt)`` gives its output tensor for the input
tensor. Both run under the same BLAS thread limit, in interleaved rounds
(dlnotes.timing.median_times). Returns ({"dlnotes": s, "torch": s}, max |d x difference|), the
second a check that the two computed the same gradient.
"""

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from dlnotes.timing import median_times


def time_forward_backward(ours, theirs, call, x, grad, *, threads, rounds):
    xt = torch.from_numpy(x).requires_grad_(True)
    gt = torch.from_numpy(grad)

    def ours_step():
        ours.forward(x)
        return ours.backward(grad)

    def torch_step():
        xt.grad = None
        theirs.zero_grad()
        call(theirs, xt).backward(gt)

    with threadpool_limits(limits=threads, user_api="blas"):
        dx = ours_step()
        torch_step()
        gap = float(np.max(np.abs(dx - xt.grad.numpy())))
        times = median_times({"dlnotes": ours_step, "torch": torch_step}, repeat=rounds)
    return times, gap


def report(title, times, gap, target):
    """Print the workload line, both medians and the ratio against its target."""
    print(f"{title}, torch {torch.__version__}, numpy {np.__version__}")
    for name, seconds in times.items():
        print(f"  {name:>7}: median {seconds * 1e3:7.2f} ms")
    print(f"  ratio dlnotes / torch (median): {times['dlnotes'] / times['torch']:4.2f}  (target <= {target})   "
          f"max |dx diff| {gap:.1e}")
