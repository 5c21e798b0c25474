"""Deployment: export to ONNX, run with ONNX Runtime, save weights safely, time inference (chapter 7).

    export_onnx      write a torch module to an .onnx file (torch.onnx.export, batch axis dynamic;
                     the torch.export-based exporter, or the deprecated tracing one on request)
    onnx_summary     what the file holds: operator types, inputs and outputs with their shapes, opset
    onnx_session     an onnxruntime.InferenceSession on the CPU, with a fixed number of threads
    run_onnx         run a session on a NumPy batch (cast to the dtype the graph expects)
    save_npz         a model's ``state_dict()`` as a NumPy .npz archive: arrays only, no code
    load_npz         read it back into a model (``allow_pickle=False``: a file cannot run code)
    latencies        median wall-clock seconds per call of several functions, timed in turn
    latency          the same for one function

The path from a dlnotes model to a deployed one:

    module = model.to_torch().float().eval()                  # the same weights in torch.nn
    export_onnx(module, X[:1], path)                          # the graph and weights in one file
    out = run_onnx(onnx_session(path), X)                     # any batch size, no torch needed

torch, onnx and onnxruntime are imported inside the functions that need them.
"""

import os

import numpy as np

from dlnotes._checks import check_int, check_real
from dlnotes.timing import median_times

_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}


def _check_path(path, where):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a str or os.PathLike, got {type(path).__name__}")
    return os.fspath(path)


def export_onnx(module, example, path, *, dynamo=True, opset=18, input_name="input", output_name="output"):
    """Export a torch module to ONNX at ``path``, with a dynamic batch axis (axis 0).

    example: one input batch (a NumPy array or tensor; it is converted to the dtype of the
    module's parameters) with which torch runs the module once; any batch size works later.
    opset: the ONNX operator-set version. The module is put in eval mode first (dropout off,
    batch norm on running statistics), as a deployed model runs.

    dynamo=True (torch's default and supported route since 2.9): ``torch.export`` captures the
    graph, which is then translated to ONNX by onnxscript and optimised; the batch axis is
    declared with ``dynamic_shapes``. dynamo=False: the TorchScript-based tracing exporter,
    which torch deprecates (it raises a DeprecationWarning that this function lets through and
    says the feature will be removed); for a plain feed-forward network it writes the same
    operators and takes far less time. Returns the path.
    """
    import torch

    where = "export_onnx"
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"{where}: module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(dynamo, bool):
        raise TypeError(f"{where}: dynamo must be True or False, got {type(dynamo).__name__}")
    path = _check_path(path, where)
    opset = check_int(opset, "opset", where, low=7)
    # A module without parameters (nn.ReLU()) runs in torch's default dtype.
    first = next(iter(module.parameters()), None)
    dtype = torch.get_default_dtype() if first is None else first.dtype
    x = torch.as_tensor(np.asarray(example) if not isinstance(example, torch.Tensor) else example).to(dtype)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{where}: example must be a batch with at least one row, got shape {tuple(x.shape)}")
    module.eval()
    names = {"input_names": [input_name], "output_names": [output_name]}
    if dynamo:
        torch.onnx.export(module, (x,), path, dynamo=True, opset_version=opset, verbose=False,
                          dynamic_shapes=({0: "batch"},), **names)
    else:
        torch.onnx.export(module, (x,), path, dynamo=False, opset_version=opset,
                          dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}}, **names)
    return path


def onnx_summary(path):
    """Check the file with ``onnx.checker`` and describe it.

    Returns a dict: "ops" (the node operator types in graph order), "inputs" and "outputs"
    (lists of (name, shape) with symbolic dimensions as strings, e.g. ("input", ["batch", 64])),
    "opset" (the default-domain operator-set version) and "initializers" (number of stored
    weight tensors).
    """
    import onnx

    model = onnx.load(_check_path(path, "onnx_summary"))
    onnx.checker.check_model(model)

    def described(values):
        return [(v.name, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in values]

    return {
        "ops": [node.op_type for node in model.graph.node],
        "inputs": described(model.graph.input),
        "outputs": described(model.graph.output),
        "opset": next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "initializers": len(model.graph.initializer),
    }


def onnx_session(path, threads=1):
    """An ``onnxruntime.InferenceSession`` for ``path`` on the CPU execution provider.

    threads: the size of ONNX Runtime's intra-op thread pool (1 by default, so timings compare
    with single-threaded NumPy and torch; 0 lets ONNX Runtime choose).
    """
    import onnxruntime as ort

    where = "onnx_session"
    path = _check_path(path, where)
    options = ort.SessionOptions()
    options.intra_op_num_threads = check_int(threads, "threads", where, low=0)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run_onnx(session, x):
    """Run a single-input, single-output session on the batch x; returns the output array.

    x is cast to the element type the graph's input declares (float32 for a float module),
    as ONNX Runtime does not convert types itself.
    """
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ValueError(f"run_onnx: session must have exactly one input, got {len(inputs)}")
    dtype = _ORT_DTYPES.get(inputs[0].type)
    if dtype is None:
        raise TypeError(f"run_onnx: the graph's input must be float or double, got {inputs[0].type}")
    return session.run(None, {inputs[0].name: np.ascontiguousarray(x, dtype=dtype)})[0]


def save_npz(model, path):
    """Write ``model.state_dict()`` (parameters and buffers, torch's dotted names) to an .npz file.

    An .npz is a zip of raw arrays; loading it with ``allow_pickle=False`` cannot execute code,
    unlike unpickling an arbitrary file (what ``torch.load(weights_only=False)`` does).
    """
    np.savez(_check_path(path, "save_npz"), **model.state_dict())


def load_npz(model, path):
    """Copy the arrays of an .npz written by :func:`save_npz` into ``model`` in place.

    The file's keys and shapes must match ``model.state_dict()`` exactly (``load_state_dict``
    says which differ). Returns the model.
    """
    with np.load(_check_path(path, "load_npz"), allow_pickle=False) as archive:
        model.load_state_dict({name: archive[name] for name in archive.files})
    return model


def latencies(candidates, *, repeat=5, min_time=0.01):
    """{name: median wall-clock seconds per call} for several zero-argument functions.

    The number of calls per round doubles until one round of every candidate lasts at least
    ``min_time`` seconds (so the clock's resolution does not matter); then
    :func:`dlnotes.timing.median_times` runs ``repeat`` rounds that *interleave* the candidates,
    so a burst of load from other programs slows all of them alike, and the median over the
    rounds ignores the odd slow round. Compare the results as ratios: they describe the machine.
    """
    where = "latencies"
    if not isinstance(candidates, dict) or not candidates or not all(map(callable, candidates.values())):
        raise TypeError(f"{where}: candidates must be a non-empty dict of name -> callable, got {candidates!r:.80}")
    repeat = check_int(repeat, "repeat", where, low=1)
    min_time = check_real(min_time, "min_time", where, low=0.0)
    calls = 1
    while min(median_times(candidates, repeat=1, number=calls, warmup=0).values()) * calls < min_time:
        calls *= 2
    return median_times(candidates, repeat=repeat, number=calls, warmup=0)


def latency(fn, *, repeat=5, min_time=0.01):
    """Median wall-clock seconds per call of ``fn()`` (no arguments): :func:`latencies` for one."""
    where = "latency"
    if not callable(fn):
        raise TypeError(f"{where}: fn must be callable, got {type(fn).__name__}")
    repeat = check_int(repeat, "repeat", where, low=1)
    min_time = check_real(min_time, "min_time", where, low=0.0)
    return latencies({"fn": fn}, repeat=repeat, min_time=min_time)["fn"]
