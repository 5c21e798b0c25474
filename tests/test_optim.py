"""dlnotes.optim against torch.optim (single-tensor code path), step by step, in float64."""

import numpy as np
import pytest
import torch

from dlnotes import optim

STEPS = 200
LR_CHANGE_AT = 120  # every run multiplies lr by 0.3 here, on both sides

# (optimiser, keyword arguments): every hyper-parameter the optimisers take, alone and combined.
# torch fuses a·x + y into one rounding (FMA) where NumPy rounds twice, so the two runs differ by an
# ulp per step. Near the MLP's minimum, short averages with a large lr (e.g. RMSprop alpha=0.9 at
# lr=0.003, Adam betas=(0.3, 0.6) at lr=0.01) make the iteration chaotic: that ulp grows about 5x per
# step and reaches 1e-3 by step 200. The cases below stay out of that regime, where the runs agree
# to ~1e-14.
CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.05)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, weight_decay=0.01, eps=1e-6)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.003, centered=True)),
    ("RMSprop", dict(lr=0.003, momentum=0.9)),
    ("RMSprop", dict(lr=0.003, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.003, alpha=0.95, eps=1e-6, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.001, betas=(0.5, 0.9), eps=1e-6)),
    ("Adam", dict(lr=0.01, betas=(0.0, 0.0))),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3)),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True)),
]
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]


def quadratic(rng, n=6, cond=100.0):
    """f(θ) = ½ θᵀHθ − bᵀθ with eigenvalues of H spread over [1, cond]; returns (grad_fn, [θ0])."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    hess = q @ np.diag(np.geomspace(1.0, cond, n)) @ q.T
    b = rng.standard_normal(n)

    def grads(params):
        return [hess @ params[0] - b]

    return grads, [rng.standard_normal(n)]


def mlp_loss(rng, n=32, d_in=4, hidden=8, classes=3):
    """Cross-entropy of a tanh MLP on fixed random data; gradients from torch.autograd."""
    x = torch.tensor(rng.standard_normal((n, d_in)))
    y = torch.tensor(rng.integers(0, classes, n))
    shapes = [(hidden, d_in), (hidden,), (classes, hidden), (classes,)]
    params0 = [rng.standard_normal(s) * 0.5 for s in shapes]

    def grads(params):
        w1, b1, w2, b2 = [torch.tensor(p, requires_grad=True) for p in params]
        loss = torch.nn.functional.cross_entropy(torch.tanh(x @ w1.T + b1) @ w2.T + b2, y)
        loss.backward()
        return [t.grad.numpy() for t in (w1, b1, w2, b2)]

    return grads, params0


def run_both(name, kwargs, grad_fn, params0, steps=STEPS):
    """Run dlnotes and torch.optim side by side from the same start; return both final parameter lists."""
    ours = [p.copy() for p in params0]
    opt = getattr(optim, name)(ours, **kwargs)
    theirs = [torch.tensor(p) for p in params0]
    ref = getattr(torch.optim, name)(theirs, foreach=False, **kwargs)
    for step in range(steps):
        if step == LR_CHANGE_AT:
            opt.lr *= 0.3
            ref.param_groups[0]["lr"] *= 0.3
        opt.step(grad_fn(ours))
        for t, g in zip(theirs, grad_fn([t.numpy() for t in theirs])):
            t.grad = torch.tensor(g)
        ref.step()
    return ours, [t.numpy() for t in theirs]


def assert_close_lists(ours, theirs, rtol=1e-10, atol=1e-12):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
def test_matches_torch_on_ill_conditioned_quadratic(name, kwargs):
    grad_fn, params0 = quadratic(np.random.default_rng(0))
    ours, theirs = run_both(name, kwargs, grad_fn, params0)
    assert_close_lists(ours, theirs)
    assert not np.array_equal(ours[0], params0[0])  # the run did move


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
def test_matches_torch_on_mlp_loss(name, kwargs):
    grad_fn, params0 = mlp_loss(np.random.default_rng(1))
    ours, theirs = run_both(name, kwargs, grad_fn, params0)
    assert_close_lists(ours, theirs)


def test_lr_change_takes_effect():
    """Changing opt.lr between steps changes the next step: halving lr halves a plain SGD step."""
    p = np.array([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1)
    opt.step([np.array([1.0, 1.0])])
    np.testing.assert_allclose(p, [0.9, -2.1], rtol=0, atol=1e-15)
    opt.lr = 0.05
    opt.step([np.array([1.0, 1.0])])
    np.testing.assert_allclose(p, [0.85, -2.15], rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_float32_parameters_stay_float32_and_track_torch(name):
    grad_fn, params0 = quadratic(np.random.default_rng(2))
    params32 = [p.astype(np.float32) for p in params0]
    ours, theirs = run_both(name, dict(lr=0.01), lambda ps: [g.astype(np.float32) for g in grad_fn(ps)], params32)
    assert ours[0].dtype == np.float32
    assert_close_lists(ours, theirs, rtol=1e-5, atol=1e-6)


def test_parameters_are_updated_in_place():
    p = np.zeros(3)
    alias = p
    optim.Adam([p], lr=0.1).step([np.ones(3)])
    assert alias is p and np.all(p < 0)


def test_state_starts_at_zero_and_sgd_buffer_is_first_gradient():
    p = np.ones(2)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_array_equal(opt.momentum_buffer[0], 0.0)
    opt.step([np.array([2.0, -4.0])])
    # torch copies g into the buffer on the first step: no dampening applied yet
    np.testing.assert_array_equal(opt.momentum_buffer[0], [2.0, -4.0])


def notes_adam(params, grad_fn, lr, betas, eps, steps):
    """Errata #14: the notes divide the running averages themselves by (1 − βᵗ) and keep the result.

    m ← (β1·m + (1−β1)·g) / (1−β1^t),  v ← (β2·v + (1−β2)·g²) / (1−β2^t),  θ ← θ − lr·m / (sqrt(v)+eps)
    (the bias correction is compounded into the state instead of applied to a copy).
    """
    m, v = np.zeros_like(params[0]), np.zeros_like(params[0])
    for t in range(1, steps + 1):
        g = grad_fn(params)[0]
        m = (betas[0] * m + (1 - betas[0]) * g) / (1 - betas[0] ** t)
        v = (betas[1] * v + (1 - betas[1]) * g * g) / (1 - betas[1] ** t)
        params[0] -= lr * m / (np.sqrt(v) + eps)
    return params


def test_errata_14_compounded_bias_correction_is_not_adam():
    grad_fn, params0 = quadratic(np.random.default_rng(3))
    adam, torch_adam = run_both("Adam", dict(lr=0.01), grad_fn, params0, steps=100)
    wrong = notes_adam([params0[0].copy()], grad_fn, 0.01, (0.9, 0.999), 1e-8, steps=100)
    assert_close_lists(adam, torch_adam)
    assert np.max(np.abs(wrong[0] - adam[0])) > 1e-2


def test_errata_14_literal_notes_formula_never_moves():
    """Read literally, m_t = m_{t−1}/(1−β1^t) from m_0 = 0 stays 0: the parameters never change."""
    m = np.zeros(3)
    for t in range(1, 50):
        m = m / (1 - 0.9**t)
    assert np.all(m == 0)
    p = np.zeros(3)
    optim.Adam([p], lr=0.1).step([np.ones(3)])
    np.testing.assert_allclose(p, -0.1, rtol=1e-7)  # real Adam: first step is lr·sign(g)


def test_errata_16_nesterov_is_look_ahead_gradient():
    """Sutskever's NAG (gradient at θ + μv) equals SGD(nesterov=True) on the look-ahead point θ + μv."""
    mu, lr = 0.9, 0.01
    grad_fn, params0 = quadratic(np.random.default_rng(4))
    theta, v = params0[0].copy(), np.zeros_like(params0[0])
    lookahead = [params0[0].copy()]
    opt = optim.SGD(lookahead, lr=lr, momentum=mu, nesterov=True)
    classical = [params0[0].copy()]
    heavy_ball = optim.SGD(classical, lr=lr, momentum=mu)
    for _ in range(100):
        v = mu * v - lr * grad_fn([theta + mu * v])[0]
        theta = theta + v
        opt.step(grad_fn(lookahead))
        heavy_ball.step(grad_fn(classical))
    np.testing.assert_allclose(lookahead[0], theta + mu * v, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(classical[0] - lookahead[0])) > 1e-3


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
@pytest.mark.parametrize(
    ("lr", "error", "match"),
    [
        (-0.1, ValueError, r"lr must be in \[0.0, inf\], got -0.1"),
        (float("nan"), ValueError, r"lr must be finite, got nan"),
        (float("inf"), ValueError, r"lr must be finite, got inf"),
        ("0.1", TypeError, r"lr must be a real number, got str"),
    ],
)
def test_bad_lr(name, lr, error, match):
    with pytest.raises(error, match=f"{name}: {match}"):
        getattr(optim, name)([np.zeros(2)], lr=lr)
    opt = getattr(optim, name)([np.zeros(2)], lr=0.1)
    with pytest.raises(error, match=f"{name}: {match}"):
        opt.lr = lr


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (np.zeros(3), r"params must be a non-empty list of float arrays, got ndarray"),
        ([], r"params must be a non-empty list of float arrays, got list of length 0"),
        ([np.zeros(2), np.arange(3)], r"params\[1\] must be a float ndarray \(updated in place\), got dtype int64"),
        ([[0.0, 1.0]], r"params\[0\] must be a float ndarray \(updated in place\), got list"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(TypeError, match=f"Adam: {match}"):
        optim.Adam(params)


def test_same_array_twice_is_refused():
    p = np.zeros(2)
    with pytest.raises(ValueError, match=r"SGD: params must not contain the same array twice"):
        optim.SGD([p, p], lr=0.1)


@pytest.mark.parametrize(
    ("grads", "error", "match"),
    [
        (np.zeros(2), TypeError, r"grads must be a list of arrays, got ndarray"),
        ([np.zeros(2)], ValueError, r"grads must have one array per parameter \(2\), got 1"),
        ([np.zeros(2), np.zeros(4)], ValueError, r"grads\[1\] must have shape \(2, 3\) like params\[1\], got \(4,\)"),
        ([np.zeros(2), np.full((2, 3), "a")], TypeError, r"grads\[1\] must be a real numeric array, got dtype <U1"),
    ],
)
def test_bad_grads(grads, error, match):
    params = [np.zeros(2), np.zeros((2, 3))]
    opt = optim.RMSprop(params)
    with pytest.raises(error, match=f"RMSprop.step: {match}"):
        opt.step(grads)
    assert opt.t == 0 and not params[0].any()  # nothing was applied


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "match"),
    [
        ("Adam", dict(betas=(1.0, 0.999)), ValueError, r"Adam: betas\[0\] must be in \[0.0, 1.0\), got 1.0"),
        ("AdamW", dict(betas=(0.9, -0.1)), ValueError, r"AdamW: betas\[1\] must be in \[0.0, 1.0\), got -0.1"),
        ("Adam", dict(betas=0.9), TypeError, r"Adam: betas must be a pair \(beta1, beta2\), got 0.9"),
        ("Adam", dict(eps=-1e-8), ValueError, r"Adam: eps must be in \(0.0, inf\], got -1e-08"),
        ("Adagrad", dict(eps=-1.0), ValueError, r"Adagrad: eps must be in \(0.0, inf\], got -1.0"),
        ("RMSprop", dict(eps=-1.0), ValueError, r"RMSprop: eps must be in \(0.0, inf\], got -1.0"),
        ("Adam", dict(amsgrad=1), TypeError, r"Adam: amsgrad must be a bool, got int"),
        ("Adam", dict(weight_decay=-0.1), ValueError, r"Adam: weight_decay must be in \[0.0, inf\], got -0.1"),
        ("SGD", dict(momentum=-0.5), ValueError, r"SGD: momentum must be in \[0.0, inf\], got -0.5"),
        ("SGD", dict(dampening=1.5), ValueError, r"SGD: dampening must be in \[0.0, 1.0\], got 1.5"),
        ("SGD", dict(nesterov=True), ValueError, r"SGD: nesterov=True needs momentum > 0 and dampening = 0"),
        ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), ValueError, r"dampening=0.1"),
        ("SGD", dict(nesterov="yes"), TypeError, r"SGD: nesterov must be a bool, got str"),
        ("Adagrad", dict(lr_decay=-1.0), ValueError, r"Adagrad: lr_decay must be in \[0.0, inf\], got -1.0"),
        (
            "Adagrad",
            dict(initial_accumulator_value=-1.0),
            ValueError,
            r"Adagrad: initial_accumulator_value must be in \[0.0, inf\], got -1.0",
        ),
        ("RMSprop", dict(alpha=1.5), ValueError, r"RMSprop: alpha must be in \[0.0, 1.0\], got 1.5"),
        ("RMSprop", dict(centered=None), TypeError, r"RMSprop: centered must be a bool, got NoneType"),
    ],
)
def test_bad_hyper_parameters(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        getattr(optim, name)([np.zeros(2)], **kwargs)
