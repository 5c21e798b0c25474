"""Data-parallel training with ``torch.distributed`` on one machine (chapter 7).

    launch           run worker(rank, world_size, *args) in world_size fresh processes that form a
                     gloo process group; return their results by rank; never leave a process behind
    shard            rank r's contiguous 1/p of a batch (the rows DDP's rank r computes on)
    ring_allreduce   ring all-reduce simulated in NumPy: every worker ends with the sum, and each
                     sends 2(p−1)/p of the array on the way
    ring_traffic     that count, 2(p−1)/p · n elements sent (and as many received) per worker
    zero_memory      bytes of model state per device under data parallelism and ZeRO stages 1–3
    preload          import torch's distributed parts once here, so that forked workers inherit them

Workers (module-level functions, so that a freshly spawned interpreter can import them too):

    all_reduce_sum   torch.distributed.all_reduce of this rank's array (the sum over ranks)
    ddp_gradients    the gradients DistributedDataParallel leaves after backward on this rank's shard
    ddp_train        SGD steps under DDP: per-step times, all-reduce times and the final weights

Data parallelism in four lines, what ``DistributedDataParallel`` (Li et al., 2020) does each step:

    every rank holds the same weights θ (DDP broadcasts rank 0's at construction)
    rank r computes g_r = ∇θ ℒ(θ; shard r of the batch)              (forward and backward)
    all-reduce: every rank receives ḡ = (1/p) Σ_r g_r                (overlapped with backward)
    every rank applies the same optimiser step with ḡ, so the copies stay identical

With equal shards and a mean loss, ḡ is the gradient of the mean loss over the whole batch, so p
processes compute what one process computes on the full batch, up to the order of the additions.

Processes are started by forking where the system can (Linux), else as fresh interpreters
("spawn"); workers are module-level functions so that both work, inside Jupyter too. They meet
through a file in a temporary directory and use the gloo backend (CPU). Arguments and results
cross the process boundary as ordinary pickles (no shared memory). torch is imported inside the
functions that need it.
"""

import multiprocessing
import os
import pickle
import queue as queue_module
import tempfile
import time
import traceback
from datetime import timedelta

import numpy as np

from dlnotes._checks import as_float_array, check_int, check_real

_STOP_GRACE = 2.0  # seconds a worker gets to exit after SIGTERM before SIGKILL


def _check_worker(worker, where):
    """A worker must be importable by name in a fresh interpreter: a module-level function of a
    module other than ``__main__`` (a notebook's functions and lambdas are not)."""
    if not callable(worker):
        raise TypeError(f"{where}: worker must be a function, got {type(worker).__name__}")
    module, qualname = getattr(worker, "__module__", None), getattr(worker, "__qualname__", "")
    if module in (None, "__main__") or "<" in qualname:
        raise TypeError(f"{where}: worker must be a module-level function importable in a new process "
                        f"(defined in a .py module, not in __main__ or a notebook), got {module}.{qualname}")


def _child(worker, rank, world_size, init_file, timeout, threads, payload, results):
    """Body of one worker process: join the group, run the worker, report (rank, ok, pickle)."""
    try:
        import torch
        import torch.distributed as dist

        torch.set_num_threads(threads)
        dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                                world_size=world_size, timeout=timedelta(seconds=timeout))
        try:
            value = worker(rank, world_size, *pickle.loads(payload))
        finally:
            dist.destroy_process_group()
        results.put((rank, True, pickle.dumps(value)))
    except BaseException:  # report everything, KeyboardInterrupt included, then exit
        results.put((rank, False, traceback.format_exc()))


def _stop(processes):
    """Terminate (then kill) every process still alive and reap them all."""
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + _STOP_GRACE
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def launch(worker, world_size=2, *, args=(), timeout=60.0, threads=1, start_method=None):
    """Run ``worker(rank, world_size, *args)`` in ``world_size`` new processes; results by rank.

    Each process sets torch to ``threads`` threads, joins a gloo process group of ``world_size``
    ranks (``torch.distributed.init_process_group``) and calls the worker, which may use
    collectives (``all_reduce``, DDP, ...). The call returns ``[result of rank 0, result of
    rank 1, ...]``; results and ``args`` cross the process boundary as pickles.

    Cleanup is guaranteed: when a worker raises (RuntimeError with its traceback), a process dies
    without reporting, ``timeout`` seconds pass (TimeoutError; the same value bounds every
    collective inside the group), or the caller is interrupted (KeyboardInterrupt, e.g. a Jupyter
    cell stopped), every process still running is terminated, then killed, and reaped before the
    exception propagates. Arguments are checked (and pickled) before any process starts.

    start_method: how the processes start (``multiprocessing``'s names). None picks "fork" where
    the system has it (Linux: the child is a copy of this process, torch already imported, so it
    starts in milliseconds) and "spawn" elsewhere (a fresh interpreter that imports torch itself,
    seconds). A script that launches with "spawn" needs the ``if __name__ == "__main__":`` guard;
    Jupyter does not.
    """
    where = "launch"
    _check_worker(worker, where)
    world_size = check_int(world_size, "world_size", where, low=1)
    timeout = check_real(timeout, "timeout", where, low=0.0, low_open=True)
    threads = check_int(threads, "threads", where, low=1)
    if not isinstance(args, tuple):
        raise TypeError(f"{where}: args must be a tuple, got {type(args).__name__}")
    try:
        payload = pickle.dumps(args)
    except Exception as err:
        raise TypeError(f"{where}: args must be picklable to reach the workers, got {err}") from None

    methods = multiprocessing.get_all_start_methods()
    if start_method is None:
        start_method = "fork" if "fork" in methods else "spawn"
    if start_method not in methods:
        raise ValueError(f"{where}: start_method must be one of {methods} or None, got {start_method!r}")
    context = multiprocessing.get_context(start_method)
    results = context.Queue()
    processes = []
    with tempfile.TemporaryDirectory(prefix="dlnotes-dist-") as rendezvous:
        init_file = os.path.join(rendezvous, "init")
        try:
            for rank in range(world_size):
                p = context.Process(target=_child, daemon=True, name=f"dlnotes-rank{rank}",
                                    args=(worker, rank, world_size, init_file, timeout, threads, payload, results))
                p.start()
                processes.append(p)
            return _collect(processes, results, worker, timeout)
        finally:
            _stop(processes)
            results.close()
            results.join_thread()


def preload():
    """Import ``torch.distributed`` and ``DistributedDataParallel`` with what its constructor
    imports on first use (``torch._dynamo``, several seconds) into this process.

    Forked workers (the default on Linux) inherit the imported modules, so each launch does not
    pay for the import again in every worker. Harmless to call more than once.
    """
    import torch
    import torch.distributed  # noqa: F401
    import torch.nn.parallel  # noqa: F401

    torch._dynamo.utils.get_optimize_ddp_mode()    # the import DDP's constructor triggers


def _collect(processes, results, worker, timeout):
    """Wait for one report per process; raise on a failure, a silent death or the deadline."""
    name = getattr(worker, "__name__", "worker")
    deadline = time.monotonic() + timeout
    values = {}
    while len(values) < len(processes):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            missing = sorted(set(range(len(processes))) - set(values))
            raise TimeoutError(f"launch: {name} did not finish within {timeout:g} s (ranks {missing} still running)")
        try:
            rank, ok, value = results.get(timeout=min(remaining, 0.2))
        except queue_module.Empty:
            dead = [(r, p.exitcode) for r, p in enumerate(processes)
                    if r not in values and p.exitcode is not None]
            if dead and results.empty():
                raise RuntimeError(f"launch: rank {dead[0][0]} of {name} exited with code {dead[0][1]} "
                                   "without a result") from None
            continue
        if not ok:
            raise RuntimeError(f"launch: rank {rank} of {name} failed:\n{value}")
        values[rank] = pickle.loads(value)
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
    return [values[r] for r in range(len(processes))]


def shard(x, rank, world_size):
    """Rows [rank·m, (rank+1)·m) of x, m = len(x) / world_size: rank's equal share of a batch.

    len(x) must be divisible by world_size, so every shard has m rows and the mean of the
    shards' mean losses is the mean loss of the whole batch. (torch's DistributedSampler deals
    rows out round-robin and pads instead; any split into equal parts gives the same average.)
    """
    where = "shard"
    world_size = check_int(world_size, "world_size", where, low=1)
    rank = check_int(rank, "rank", where, low=0)
    if rank >= world_size:
        raise ValueError(f"{where}: rank must be below world_size ({world_size}), got {rank}")
    x = np.asarray(x)
    if x.ndim == 0 or len(x) % world_size:
        raise ValueError(f"{where}: x must have a number of rows divisible by world_size ({world_size}), "
                         f"got shape {x.shape}")
    m = len(x) // world_size
    return x[rank * m:(rank + 1) * m]


def ring_traffic(n, world_size):
    """Elements each worker sends in a ring all-reduce of n elements over p = world_size workers:

        reduce-scatter: p − 1 steps, each sending one chunk of n/p      →  (p − 1)/p · n
        all-gather:     p − 1 steps, each sending one chunk of n/p      →  (p − 1)/p · n
        total per worker                                                   2(p − 1)/p · n

    (and as many received). It tends to 2n as p grows: the traffic per worker hardly depends on
    the number of workers, which is why the ring scales (Patarasuk & Yuan, 2009).
    """
    n = check_int(n, "n", "ring_traffic", low=0)
    p = check_int(world_size, "world_size", "ring_traffic", low=1)
    return 2 * (p - 1) * n / p


def ring_allreduce(arrays):
    """Simulate ring all-reduce on p arrays of one shape; returns (sums, sent).

    Worker r holds arrays[r], split into p chunks. Reduce-scatter: at step s = 0 … p−2 worker r
    sends chunk (r − s) mod p to worker r+1, which adds it to its own; afterwards worker r holds
    the complete sum of chunk (r + 1) mod p. All-gather: at step s worker r sends chunk
    (r + 1 − s) mod p to worker r+1, which overwrites its copy. sums: p arrays, each the
    elementwise sum (up to the order of the additions); sent: (p,) int array, elements each
    worker sent, 2(p−1)/p · n when p divides n (:func:`ring_traffic`).
    """
    where = "ring_allreduce"
    if not isinstance(arrays, (list, tuple)) or len(arrays) == 0:
        raise TypeError(f"{where}: arrays must be a non-empty list of arrays (one per worker), "
                        f"got {type(arrays).__name__}")
    arrays = [as_float_array(a, f"arrays[{r}]", where) for r, a in enumerate(arrays)]
    shape = arrays[0].shape
    for r, a in enumerate(arrays):
        if a.shape != shape:
            raise ValueError(f"{where}: arrays[{r}] must have the shape of arrays[0] {shape}, got {a.shape}")
    p = len(arrays)
    chunks = [np.array_split(a.ravel().copy(), p) for a in arrays]   # chunks[worker][chunk]
    sent = np.zeros(p, dtype=np.int64)
    for s in range(p - 1):                                            # reduce-scatter
        outgoing = [(r, (r - s) % p, chunks[r][(r - s) % p].copy()) for r in range(p)]
        for r, c, data in outgoing:
            chunks[(r + 1) % p][c] += data
            sent[r] += data.size
    for s in range(p - 1):                                            # all-gather
        outgoing = [(r, (r + 1 - s) % p, chunks[r][(r + 1 - s) % p].copy()) for r in range(p)]
        for r, c, data in outgoing:
            chunks[(r + 1) % p][c] = data
            sent[r] += data.size
    return [np.concatenate(c).reshape(shape) for c in chunks], sent


def zero_memory(n_params, world_size, stage, *, optimizer_bytes=12):
    """Bytes of model state each of p = world_size devices holds (Rajbhandari et al., 2020):

        Ψ parameters trained in mixed precision with Adam: 2Ψ for the 16-bit weights, 2Ψ for the
        16-bit gradients, KΨ for the optimiser (K = optimizer_bytes = 12: a 32-bit copy of the
        weights, Adam's first and second moments)
        stage 0 (plain data parallelism, DDP)      (2 + 2 + K)·Ψ           everything replicated
        stage 1 (optimiser states sharded)         (2 + 2)·Ψ + K·Ψ/p
        stage 2 (… and gradients)                  2·Ψ + (2 + K)·Ψ/p
        stage 3 (… and weights; FSDP's full shard) (2 + 2 + K)·Ψ/p

    Activations, buffers and fragmentation come on top. Stages 1 and 2 communicate as much as
    DDP's all-reduce (a reduce-scatter and an all-gather); stage 3 gathers the weights again
    for the backward pass, 1.5 times that.
    """
    where = "zero_memory"
    n = check_int(n_params, "n_params", where, low=0)
    p = check_int(world_size, "world_size", where, low=1)
    stage = check_int(stage, "stage", where, low=0)
    if stage > 3:
        raise ValueError(f"{where}: stage must be 0, 1, 2 or 3, got {stage}")
    k = check_real(optimizer_bytes, "optimizer_bytes", where, low=0.0)
    replicated, sharded = ((2 + 2 + k, 0.0), (2 + 2, k), (2, 2 + k), (0.0, 2 + 2 + k))[stage]
    return replicated * n + sharded * n / p


# ---------------------------------------------------------------- workers (run inside launch)

def all_reduce_sum(rank, world_size, arrays):
    """Worker: ``torch.distributed.all_reduce(arrays[rank], SUM)``; every rank returns the sum."""
    import torch
    import torch.distributed as dist

    t = torch.from_numpy(np.array(arrays[rank]))
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.numpy()


def ddp_gradients(rank, world_size, module, X, y):
    """Worker: wrap ``module`` in DistributedDataParallel, run the cross-entropy of this rank's
    shard (:func:`shard`) forward and backward; return {parameter name: gradient} as NumPy.

    After ``backward`` DDP has all-reduced the gradients, so every rank returns the average of
    the ranks' shard gradients: the full-batch gradient of the mean loss.
    """
    import torch
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    ddp = DistributedDataParallel(module)
    x, t = torch.from_numpy(shard(X, rank, world_size)), torch.from_numpy(shard(y, rank, world_size))
    F.cross_entropy(ddp(x), t).backward()
    return {name: p.grad.numpy() for name, p in module.named_parameters()}


def ddp_train(rank, world_size, module, X, y, steps, lr):
    """Worker: ``steps`` SGD steps (learning rate lr) of DDP on the full batch (X, y), each rank
    computing on its shard. Returns {"step": seconds of each step, "all_reduce": seconds of an
    all-reduce of a buffer as large as all the gradients (once per step), "state": the final
    state_dict as NumPy}.

    Both timings start after a barrier, so the ranks start together; a step includes the
    forward and backward on the shard, DDP's all-reduce (overlapped with backward) and the
    optimiser step. One warm-up step is not timed.
    """
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    steps = check_int(steps, "steps", "ddp_train", low=1)
    ddp = DistributedDataParallel(module)
    opt = torch.optim.SGD(ddp.parameters(), lr=lr)
    x, t = torch.from_numpy(shard(X, rank, world_size)), torch.from_numpy(shard(y, rank, world_size))
    flat = torch.zeros(sum(p.numel() for p in module.parameters()), dtype=next(module.parameters()).dtype)
    times = {"step": [], "all_reduce": []}
    for step in range(steps + 1):
        dist.barrier()
        start = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(ddp(x), t).backward()
        opt.step()
        elapsed = time.perf_counter() - start
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(flat)
        if step:
            times["step"].append(elapsed)
            times["all_reduce"].append(time.perf_counter() - start)
    times["state"] = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    return times
