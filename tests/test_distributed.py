"""dlnotes.distributed: real gloo process groups (no mocks). DDP's all-reduced gradients equal the
single-process full-batch gradients computed here with torch; the ring simulation equals torch's
all_reduce and sends 2(p−1)/p of the array; launch leaves no process behind on error, timeout or
interrupt, and refuses bad calls before starting anything."""

import _thread
import multiprocessing
import os
import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import distributed

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module", autouse=True)
def ddp_imported():
    distributed.preload()


@pytest.fixture(autouse=True)
def no_process_left():
    assert multiprocessing.active_children() == []
    yield
    assert multiprocessing.active_children() == [], "launch left a worker process running"


def mlp(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()


def batch(n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6)), rng.integers(0, 3, n)


# ---------------------------------------------------------------- workers used by the tests

def raises(rank, world_size):
    if rank == 1:
        raise ValueError("rank one refuses")
    return rank


def sleeps(rank, world_size, seconds):
    time.sleep(seconds)
    return rank


def exits(rank, world_size):
    os._exit(3)


# ---------------------------------------------------------------- DDP against one process

@pytest.mark.parametrize("world_size", [2, 3])
def test_ddp_gradients_equal_full_batch_gradients(world_size):
    module = mlp(0)
    X, y = batch(12, 1)
    ranks = distributed.launch(distributed.ddp_gradients, world_size, args=(module, X, y))
    F.cross_entropy(module(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    for name, p in module.named_parameters():
        for grads in ranks:
            np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-12, atol=1e-15)
        assert np.array_equal(ranks[0][name], ranks[-1][name])      # every rank holds the same ḡ


def test_shard_gradients_differ_so_the_all_reduce_matters():
    module = mlp(0)
    X, y = batch(12, 1)
    own = F.cross_entropy(module(torch.from_numpy(X[:6])), torch.from_numpy(y[:6]))
    g_own = torch.autograd.grad(own, module[0].weight)[0].numpy()
    g_ddp = distributed.launch(distributed.ddp_gradients, 2, args=(module, X, y))[0]["0.weight"]
    assert np.abs(g_own - g_ddp).max() > 1e-3


def test_ddp_training_keeps_replicas_identical_and_matches_one_process():
    X, y = batch(16, 2)
    one = distributed.launch(distributed.ddp_train, 1, args=(mlp(3), X, y, 5, 0.5))
    two = distributed.launch(distributed.ddp_train, 2, args=(mlp(3), X, y, 5, 0.5))
    reference = mlp(3)
    opt = torch.optim.SGD(reference.parameters(), lr=0.5)
    for _ in range(6):                                           # one warm-up step plus 5 timed
        opt.zero_grad()
        F.cross_entropy(reference(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        opt.step()
    for name, want in reference.state_dict().items():
        assert np.array_equal(two[0]["state"][name], two[1]["state"][name])
        np.testing.assert_allclose(one[0]["state"][name], want.numpy(), rtol=0, atol=1e-15)
        np.testing.assert_allclose(two[0]["state"][name], want.numpy(), rtol=1e-12, atol=1e-14)
    assert len(two[0]["step"]) == 5 and len(two[0]["all_reduce"]) == 5
    assert all(t > 0 for t in two[0]["step"] + two[1]["all_reduce"])


# ---------------------------------------------------------------- all-reduce and the ring

@pytest.mark.parametrize("world_size", [2, 3])
def test_ring_allreduce_equals_torch_all_reduce(world_size):
    arrays = [np.random.default_rng(r).normal(size=(5, 4)) for r in range(world_size)]
    torch_sums = distributed.launch(distributed.all_reduce_sum, world_size, args=(arrays,))
    ring_sums, _ = distributed.ring_allreduce(arrays)
    want = np.sum(arrays, axis=0)
    for got in torch_sums + ring_sums:
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_ring_allreduce_of_integers_is_exact_on_every_worker():
    arrays = [np.arange(10.0) * (r + 1) for r in range(4)]           # sums 10·k, exact in float64
    sums, _ = distributed.ring_allreduce(arrays)
    for got in sums:
        assert np.array_equal(got, 10.0 * np.arange(10.0))


@pytest.mark.parametrize("p, n", [(2, 8), (3, 12), (4, 12), (5, 40)])
def test_ring_sends_two_p_minus_one_over_p_of_the_array(p, n):
    _, sent = distributed.ring_allreduce([np.ones(n)] * p)
    # by hand: p − 1 reduce-scatter steps and p − 1 all-gather steps of one n/p chunk each
    assert sent.tolist() == [2 * (p - 1) * (n // p)] * p
    assert distributed.ring_traffic(n, p) == 2 * (p - 1) * (n // p)


def test_ring_with_uneven_chunks_sends_the_same_total():
    _, sent = distributed.ring_allreduce([np.ones(10)] * 3)          # chunks of 4, 3, 3
    assert sent.sum() == 2 * (3 - 1) * 10
    assert distributed.ring_traffic(10, 3) == pytest.approx(40 / 3, rel=1e-15)


def test_ring_traffic_by_hand():
    assert distributed.ring_traffic(1000, 1) == 0.0
    assert distributed.ring_traffic(1000, 2) == 1000.0               # 2·1/2
    assert distributed.ring_traffic(1000, 8) == 1750.0               # 2·7/8


def test_ring_allreduce_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"ring_allreduce: arrays\[1\] must have the shape of arrays\[0\]"):
        distributed.ring_allreduce([np.zeros(3), np.zeros(4)])
    with pytest.raises(TypeError, match="ring_allreduce: arrays must be a non-empty list"):
        distributed.ring_allreduce([])


def test_shard_is_an_equal_contiguous_split():
    x = np.arange(12)
    assert [distributed.shard(x, r, 3).tolist() for r in range(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    with pytest.raises(ValueError, match=r"shard: x must have a number of rows divisible by world_size \(5\)"):
        distributed.shard(x, 0, 5)
    with pytest.raises(ValueError, match=r"shard: rank must be below world_size \(3\), got 3"):
        distributed.shard(x, 3, 3)


def test_zero_memory_reproduces_the_papers_example():
    # Rajbhandari et al. (2020), Figure 1: 7.5 B parameters, 64 devices, K = 12 → 120 GB per
    # device with plain data parallelism, 31.4 GB (stage 1), 16.6 GB (stage 2), 1.9 GB (stage 3)
    gb = [distributed.zero_memory(7_500_000_000, 64, s) / 1e9 for s in range(4)]
    assert [round(g, 1) for g in gb] == [120.0, 31.4, 16.6, 1.9]


def test_zero_memory_on_one_device_is_plain_data_parallelism():
    assert {distributed.zero_memory(1000, 1, s) for s in range(4)} == {16000.0}
    with pytest.raises(ValueError, match="zero_memory: stage must be 0, 1, 2 or 3, got 4"):
        distributed.zero_memory(1000, 2, 4)


# ---------------------------------------------------------------- launch: failures and cleanup

def test_a_failing_worker_raises_with_its_traceback_and_nothing_is_left():
    with pytest.raises(RuntimeError, match=r"(?s)launch: rank 1 of raises failed:.*ValueError: rank one refuses"):
        distributed.launch(raises, 2, timeout=30)


def test_a_worker_that_dies_silently_is_reported():
    with pytest.raises(RuntimeError, match=r"launch: rank \d of exits exited with code 3 without a result"):
        distributed.launch(exits, 2, timeout=30)


def test_timeout_kills_the_workers():
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"launch: sleeps did not finish within 1 s \(ranks \[0, 1\]"):
        distributed.launch(sleeps, 2, args=(60,), timeout=1)
    assert time.monotonic() - start < 15


def test_an_interrupted_launch_kills_the_workers():
    timer = threading.Timer(1.0, _thread.interrupt_main)      # what stopping a Jupyter cell does
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            distributed.launch(sleeps, 2, args=(60,), timeout=60)
    finally:
        timer.cancel()


def test_spawned_workers_work_too():
    arrays = [np.full(3, r + 1.0) for r in range(2)]
    sums = distributed.launch(distributed.all_reduce_sum, 2, args=(arrays,), start_method="spawn", timeout=120)
    assert [s.tolist() for s in sums] == [[3.0, 3.0, 3.0]] * 2


@pytest.mark.parametrize("call, error, message", [
    (lambda: distributed.launch(lambda r, p: r), TypeError,
     "launch: worker must be a module-level function importable in a new process"),
    (lambda: distributed.launch(distributed.all_reduce_sum, 0), ValueError, "launch: world_size must be"),
    (lambda: distributed.launch(distributed.all_reduce_sum, 2, args=[1]), TypeError,
     "launch: args must be a tuple, got list"),
    (lambda: distributed.launch(distributed.all_reduce_sum, 2, args=(lambda: 0,)), TypeError,
     "launch: args must be picklable to reach the workers"),
    (lambda: distributed.launch(distributed.all_reduce_sum, 2, timeout=0), ValueError, "launch: timeout must be"),
    (lambda: distributed.launch(distributed.all_reduce_sum, 2, start_method="teleport"), ValueError,
     "launch: start_method must be one of"),
])
def test_bad_calls_are_refused_before_any_process_starts(call, error, message):
    with pytest.raises(error, match=message):
        call()
