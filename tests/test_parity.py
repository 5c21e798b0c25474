"""dlnotes.parity: conversions, the max-abs-diff measure and the one-line report."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from dlnotes import parity


def test_to_numpy_detaches_tensors_and_passes_arrays():
    t = torch.arange(6, dtype=torch.float64).reshape(2, 3).requires_grad_(True)
    out = parity.to_numpy(t * 2)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, 2 * np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(parity.to_numpy([[1, 2]]), np.array([[1, 2]]))


def test_max_abs_diff_mixes_arrays_and_tensors():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    expected = max(abs(x - y) for x, y in zip(a.ravel(), b.ravel()))
    assert parity.max_abs_diff(a, torch.from_numpy(b)) == expected
    assert parity.max_abs_diff(torch.from_numpy(a), b) == expected
    assert parity.max_abs_diff(a, a.copy()) == 0.0
    assert parity.max_abs_diff(np.zeros((0, 2)), torch.zeros(0, 2)) == 0.0


def test_max_abs_diff_float32_against_float64():
    a = np.array([0.1], dtype=np.float32)
    assert parity.max_abs_diff(a, np.array([0.1])) == abs(float(a[0]) - 0.1) > 0


def test_max_abs_diff_refuses_other_shapes():
    with pytest.raises(ValueError, match=r"^max_abs_diff: b must have the shape of a \(3,\), got \(3, 1\)$"):
        parity.max_abs_diff(np.zeros(3), torch.zeros(3, 1))


def test_report_line():
    a = np.array([1.0, 2.0])
    t = torch.tensor([1.0, 2.0 + 3e-13], dtype=torch.float64)
    line = parity.report("softmax", a, t)
    assert line == f"softmax: max |dlnotes - torch| = {abs(2.0 - (2.0 + 3e-13)):.1e}"
    assert line.startswith("softmax: max |dlnotes - torch| = 3.0e-13")


def test_core_modules_do_not_import_torch():
    code = (
        "import sys; import dlnotes.parity, dlnotes.activations, dlnotes.losses, dlnotes.init; "
        "import numpy as np; dlnotes.parity.report('x', np.ones(2), np.ones(2)); "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
