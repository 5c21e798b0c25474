"""dlnotes.deploy: ONNX round trips (torch → .onnx → ONNX Runtime), safe weight files, latency."""

import hashlib
import io
import pickle

import numpy as np
import pytest
import torch

from testkit import raises_exactly
from dlnotes import deploy
from dlnotes.models import CNN, MLP


@pytest.fixture(scope="module")
def mlp_file(tmp_path_factory):
    """An MLP exported in float64, so the round trip can be checked to round-off."""
    model = MLP([6, 16, 8, 3], "tanh", rng=np.random.default_rng(0))
    path = tmp_path_factory.mktemp("onnx") / "mlp.onnx"
    module = model.to_torch().eval()
    deploy.export_onnx(module, np.zeros((2, 6)), path, output_name="logits")
    return model, module, path


def test_mlp_round_trip_matches_torch_and_dlnotes_in_float64(mlp_file):
    model, module, path = mlp_file
    session = deploy.onnx_session(path)
    for batch in (1, 5, 33):  # the batch axis is dynamic: any size runs
        x = np.random.default_rng(batch).standard_normal((batch, 6))
        with torch.no_grad():
            want = module(torch.from_numpy(x)).numpy()
        got = deploy.run_onnx(session, x)
        assert got.dtype == np.float64 and got.shape == (batch, 3)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(got, model.forward(x, train=False), rtol=1e-12, atol=1e-14)


def test_summary_describes_the_graph(mlp_file):
    _, _, path = mlp_file
    summary = deploy.onnx_summary(path)
    assert summary["ops"] == ["Gemm", "Tanh", "Gemm", "Tanh", "Gemm"]
    assert summary["inputs"] == [("input", ["batch", 6])]
    assert summary["outputs"] == [("logits", ["batch", 3])]
    assert summary["opset"] == 17 and summary["initializers"] == 6


def test_cnn_round_trip_in_float32_and_reproducible_file(tmp_path):
    cnn = CNN(8, 5, (3, 4), rng=np.random.default_rng(1))
    module = cnn.to_torch().float()
    x = np.random.default_rng(2).random((7, 1, 8, 8))
    paths = [tmp_path / f"cnn{i}.onnx" for i in range(2)]
    for path in paths:
        deploy.export_onnx(module, x[:2], path)
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert len(digests) == 1  # the same module gives the same bytes
    summary = deploy.onnx_summary(paths[0])
    assert summary["ops"] == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm"]
    assert summary["inputs"] == [("input", ["batch", 1, 8, 8])]
    got = deploy.run_onnx(deploy.onnx_session(paths[0], threads=0), x)  # float64 in, cast to float32
    assert got.dtype == np.float32
    with torch.no_grad():
        want = module(torch.from_numpy(x).float()).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, cnn.forward(x, train=False), rtol=1e-4, atol=1e-5)


def test_export_puts_the_module_in_eval_mode(tmp_path):
    model = MLP([4, 8, 2], rng=np.random.default_rng(3), dropout=0.5)
    module = model.to_torch().train()
    path = deploy.export_onnx(module, np.zeros((1, 4)), tmp_path / "drop.onnx")
    assert not module.training and "Dropout" not in deploy.onnx_summary(path)["ops"]
    x = np.random.default_rng(4).standard_normal((3, 4))
    np.testing.assert_allclose(deploy.run_onnx(deploy.onnx_session(path), x), model.forward(x, train=False),
                               rtol=1e-12, atol=1e-14)


def test_export_and_run_reject_bad_input(tmp_path, mlp_file):
    _, module, _ = mlp_file
    with raises_exactly(TypeError, "export_onnx: module must be a torch.nn.Module, got MLP"):
        deploy.export_onnx(MLP([2, 2], rng=np.random.default_rng(0)), np.zeros((1, 2)), tmp_path / "x.onnx")
    with raises_exactly(TypeError, "export_onnx: path must be a str or os.PathLike, got int"):
        deploy.export_onnx(module, np.zeros((1, 6)), 3)
    with raises_exactly(ValueError, "export_onnx: example must be a batch with at least one row, got shape (0, 6)"):
        deploy.export_onnx(module, np.zeros((0, 6)), tmp_path / "x.onnx")
    with raises_exactly(ValueError, "onnx_session: threads must be >= 0, got -1"):
        deploy.onnx_session(tmp_path / "x.onnx", threads=-1)


def test_npz_round_trip_restores_every_array(tmp_path):
    rng = np.random.default_rng(5)
    source = MLP([3, 6, 2], rng=rng, batchnorm=True)
    source.forward(rng.standard_normal((10, 3)) + 2)  # running statistics are saved too
    target = MLP([3, 6, 2], rng=np.random.default_rng(6), batchnorm=True)
    path = tmp_path / "weights.npz"
    deploy.save_npz(source, path)
    assert deploy.load_npz(target, path) is target
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], value)
    with np.load(path, allow_pickle=False) as archive:  # plain arrays: no pickled objects inside
        assert sorted(archive.files) == sorted(source.state_dict())


def test_npz_file_loads_into_torch_and_refuses_the_wrong_model(tmp_path):
    model = MLP([3, 5, 2], rng=np.random.default_rng(7))
    path = tmp_path / "w.npz"
    deploy.save_npz(model, path)
    module = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2)).double()
    with np.load(path) as archive:
        module.load_state_dict({k: torch.from_numpy(archive[k]) for k in archive.files})
    x = np.random.default_rng(8).standard_normal((4, 3))
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), model.forward(x), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=r"MLP.load_state_dict: 0.weight must have shape \(4, 3\), got \(5, 3\)"):
        deploy.load_npz(MLP([3, 4, 2], rng=np.random.default_rng(0)), path)


def test_npz_loader_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"0.weight": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="allow_pickle=False"):
        deploy.load_npz(MLP([1, 1], rng=np.random.default_rng(0)), path)


def test_torch_weights_only_load_refuses_code_but_reads_tensors():
    """The fact the chapter relies on: weights_only=True unpickles tensors, nothing else."""
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["w"].sum().item() == 2.0
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2), "extra": pickle.loads}, buffer)  # a function: code, not data
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(buffer, weights_only=True)


def test_latency_calls_enough_times_and_returns_a_median():
    calls = []
    seconds = deploy.latency(lambda: calls.append(1), repeat=3, min_time=0.002)
    assert 0 < seconds < 1e-3 and len(calls) >= 4
    with raises_exactly(TypeError, "latency: fn must be callable, got int"):
        deploy.latency(3)
    with raises_exactly(ValueError, "latency: repeat must be >= 1, got 0"):
        deploy.latency(lambda: None, repeat=0)


def test_latencies_interleave_the_candidates_round_by_round():
    order = []
    times = deploy.latencies({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, repeat=3,
                             min_time=0.0)
    # min_time 0: one calibration round of one call each, then three interleaved rounds
    assert order == ["a", "b"] * 4 and set(times) == {"a", "b"} and all(t >= 0 for t in times.values())


def test_latencies_calibrate_the_calls_per_round_on_the_fastest_candidate():
    counts = {"fast": 0, "slow": 0}

    def fast():
        counts["fast"] += 1

    def slow():
        counts["slow"] += 1
        sum(range(2000))

    deploy.latencies({"fast": fast, "slow": slow}, repeat=2, min_time=0.003)
    assert counts["fast"] == counts["slow"] >= 8     # the same number of calls for both, doubled at least 3 times


def test_latencies_bad_input():
    with raises_exactly(TypeError, "latencies: candidates must be a non-empty dict of name -> callable, got []"):
        deploy.latencies([])
    with raises_exactly(TypeError, "latencies: candidates must be a non-empty dict of name -> callable, got {'a': 3}"):
        deploy.latencies({"a": 3})
    with raises_exactly(ValueError, "latencies: repeat must be >= 1, got 0"):
        deploy.latencies({"a": lambda: None}, repeat=0)
