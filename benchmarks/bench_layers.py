"""Time dlnotes' Conv2d against torch.nn.Conv2d on CPU, forward + backward.

Workload: Conv2d(1→16, 3×3, pad 1) then Conv2d(16→32, 3×3, pad 1) on a float32 batch
(64, 1, 28, 28); one step = forward through both, backward of sum(y) through both.

Both libraries get the same number of threads: by default the number numpy's BLAS uses
(read with threadpoolctl); ``--threads N`` limits both to N. The two are timed in alternating
rounds (dlnotes.timing.median_times) so a busy machine slows both alike, and the median over
the rounds is reported. Peak RSS is read after a few dlnotes steps and before torch is
imported, so it is dlnotes' own. Targets: ratio dlnotes/torch below 4, peak RSS below 1 GiB.

    .venv/bin/python benchmarks/bench_layers.py [--threads N] [--rounds R]
"""

import argparse
import resource

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from dlnotes.layers import Conv2d
from dlnotes.timing import median_times

SHAPE = (64, 1, 28, 28)


def blas_threads():
    """Threads of the BLAS numpy calls (the largest if several libraries are loaded)."""
    return max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


def dlnotes_step(x, rng):
    """One forward+backward of the two-conv stack in dlnotes (float32 parameters)."""
    conv1 = Conv2d(1, 16, 3, padding=1, rng=rng, dtype=np.float32)
    conv2 = Conv2d(16, 32, 3, padding=1, rng=rng, dtype=np.float32)

    def step():
        y = conv2.forward(conv1.forward(x))
        conv1.backward(conv2.backward(np.ones_like(y)))

    return step


def torch_step(x):
    """The same step in torch (float32), with autograd."""
    import torch

    conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
    conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
    xt = torch.from_numpy(x).requires_grad_()

    def step():
        conv2(conv1(xt)).sum().backward()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads for both (default: numpy's BLAS)")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per library")
    args = parser.parse_args()
    threads = args.threads or blas_threads()

    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        ours = dlnotes_step(x, rng)
        for _ in range(3):  # later steps allocate what these did, so the peak is reached
            ours()
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

        import torch

        torch.set_num_threads(threads)
        times = median_times({"dlnotes": ours, "torch": torch_step(x)}, repeat=args.rounds, warmup=3)

    print(f"threads: numpy BLAS {threads}, torch {torch.get_num_threads()}")
    print(f"workload: Conv2d(1->16, 3x3, pad 1) -> Conv2d(16->32, 3x3, pad 1), x {SHAPE} float32, fwd+bwd")
    for name, seconds in times.items():
        print(f"{name + ':':8} median {seconds * 1e3:7.1f} ms")
    print(f"ratio dlnotes/torch (median): {times['dlnotes'] / times['torch']:.2f}   (target < 4)")
    print(f"dlnotes peak RSS: {rss_mib:.0f} MiB   (target < 1024)")


if __name__ == "__main__":
    main()
