"""First-order optimisers: SGD (with momentum and Nesterov), Adagrad, RMSprop, Adam, AdamW.

Each optimiser holds a list of parameter arrays and updates them **in place**:

    opt = Adam(model.parameters(), lr=1e-3)
    for batch in data:
        ...                                # fill the gradients
        opt.step(model.gradients())        # θ ← θ − (update)
        opt.lr = schedule(epoch)           # the learning rate may change between steps

The defaults and the order of the floating-point operations follow the single-tensor
(``foreach=False``) code of ``torch.optim``, so float64 trajectories agree with PyTorch to about
1e-12 after hundreds of steps. Below, g is the gradient handed to ``step``, θ the parameter,
t the step count (1 on the first call), and every operation is elementwise.
"""

import numpy as np

from dlnotes._checks import check_bool, check_finite, check_real


def _lerp_(start, end, weight):
    """start ← start + weight·(end − start), in place, written the way torch's ``lerp_`` is.

    Mathematically one formula; numerically torch picks the form that keeps the result exact at
    weight = 0 and weight = 1, and so do we (this is how Adam and RMSprop form their averages).
    """
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        np.subtract(end, (end - start) * (1.0 - weight), out=start)


class Optimizer:
    """What every optimiser shares: the parameter list, the learning rate, the step count.

    params: list of float ndarrays (any shapes), updated in place by ``step``.
    lr: learning rate, a finite number >= 0; may be reassigned between steps (``opt.lr = 0.1``).
    t: number of ``step`` calls so far (the bias corrections and the Adagrad decay use it).
    Subclasses implement ``_update(i, param, grad)`` for one parameter array.
    """

    def __init__(self, params, lr):
        where = type(self).__name__
        if not isinstance(params, (list, tuple)) or len(params) == 0:
            raise TypeError(
                f"{where}: params must be a non-empty list of float arrays, got {type(params).__name__}"
                + (" of length 0" if isinstance(params, (list, tuple)) else "")
            )
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                got = f"dtype {p.dtype}" if isinstance(p, np.ndarray) else type(p).__name__
                raise TypeError(f"{where}: params[{i}] must be a float ndarray (updated in place), got {got}")
            if not p.flags.writeable:
                raise ValueError(f"{where}: params[{i}] must be a writeable array (updated in place), got a read-only one")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{where}: params must not contain the same array twice (it would be updated twice)")
        self.params = list(params)
        self.lr = lr
        self.t = 0

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_real(value, "lr", type(self).__name__, low=0.0)

    def _zeros(self):
        """One zero array per parameter: the optimiser's state starts at zero."""
        return [np.zeros_like(p) for p in self.params]

    def step(self, grads):
        """Apply one update to every parameter. grads: list of arrays, grads[i].shape == params[i].shape.

        Every gradient is checked (type, shape, finite) before any parameter or state changes, so a
        refused step leaves the optimiser and the parameters exactly as they were.
        """
        where = f"{type(self).__name__}.step"
        if not isinstance(grads, (list, tuple)):
            raise TypeError(f"{where}: grads must be a list of arrays, got {type(grads).__name__}")
        if len(grads) != len(self.params):
            raise ValueError(
                f"{where}: grads must have one array per parameter ({len(self.params)}), got {len(grads)}"
            )
        checked = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            g = np.asarray(g)
            if g.dtype.kind not in "fiu":
                raise TypeError(f"{where}: grads[{i}] must be a real numeric array, got dtype {g.dtype}")
            if g.shape != p.shape:
                raise ValueError(f"{where}: grads[{i}] must have shape {p.shape} like params[{i}], got {g.shape}")
            checked.append(check_finite(g.astype(p.dtype, copy=False), f"grads[{i}]", where))
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, checked)):
            self._update(i, p, g)

    def _update(self, i, param, grad):
        raise NotImplementedError

    @staticmethod
    def _with_weight_decay(grad, param, weight_decay):
        """L2 penalty folded into the gradient: g ← g + λ·θ (a new array; the caller's g is untouched)."""
        return grad + weight_decay * param if weight_decay != 0 else grad


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, dampening, Nesterov and weight decay.

    g ← g + λ·θ                                    (weight_decay λ ≠ 0)
    b ← g                                          (first step, momentum μ ≠ 0)
    b ← μ·b + (1 − dampening)·g                    (later steps)
    g ← g + μ·b   if nesterov   else   g ← b
    θ ← θ − lr·g

    Momentum here is PyTorch's "velocity = sum of past gradients": b = g_t + μ g_{t−1} + μ² g_{t−2} + …,
    so a steady gradient gives steps lr·g/(1 − μ). Writing it as an average b ← μ b + (1 − μ) g
    (dampening = μ) only rescales the later steps by (1 − μ); neither form "keeps the gradient
    direction unchanged":
    momentum cancels gradient components that flip sign across a narrow valley and adds up the ones
    that point along it (errata #13).

    Nesterov momentum evaluates the gradient at the look-ahead point θ + μ·v. The rule
    v ← μ v − lr ∇L(θ) alone is classical momentum, not Nesterov (errata #16); PyTorch stores the
    look-ahead point itself as θ, which turns Nesterov into the cheap form g + μ·b above.

    Matches torch.optim.SGD(lr, momentum, dampening, weight_decay, nesterov) to 1e-12 in float64.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        where = type(self).__name__
        self.momentum = check_real(momentum, "momentum", where, low=0.0)
        self.dampening = check_real(dampening, "dampening", where, low=0.0, high=1.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", where, low=0.0)
        nesterov = check_bool(nesterov, "nesterov", where)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                f"{where}: nesterov=True needs momentum > 0 and dampening = 0, "
                f"got momentum={self.momentum}, dampening={self.dampening}"
            )
        self.nesterov = nesterov
        self.momentum_buffer = self._zeros() if self.momentum != 0 else None

    def _update(self, i, param, grad):
        grad = self._with_weight_decay(grad, param, self.weight_decay)
        if self.momentum != 0:
            buf = self.momentum_buffer[i]
            if self.t == 1:
                buf[...] = grad
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param -= self.lr * grad


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate steps shrink with the summed squared gradients.

    g ← g + λ·θ                                    (weight_decay λ ≠ 0)
    lr_t ← lr / (1 + (t − 1)·lr_decay)
    s ← s + g²                                     (s starts at initial_accumulator_value)
    θ ← θ − lr_t · g / (sqrt(s) + eps)

    Matches torch.optim.Adagrad(lr, lr_decay, weight_decay, initial_accumulator_value, eps)
    to 1e-12 in float64.
    """

    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, lr)
        where = type(self).__name__
        self.lr_decay = check_real(lr_decay, "lr_decay", where, low=0.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", where, low=0.0)
        value = check_real(initial_accumulator_value, "initial_accumulator_value", where, low=0.0)
        self.eps = check_real(eps, "eps", where, low=0.0, low_open=True)
        self.sum = [np.full_like(p, value) for p in self.params]

    def _update(self, i, param, grad):
        grad = self._with_weight_decay(grad, param, self.weight_decay)
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        self.sum[i] += grad * grad
        std = np.sqrt(self.sum[i])
        std += self.eps
        param += (-clr * grad) / std


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): divide the step by a running root-mean-square of the gradients.

    g ← g + λ·θ                                    (weight_decay λ ≠ 0)
    v ← α·v + (1 − α)·g²
    ḡ ← ḡ + (1 − α)·(g − ḡ)                        (centered only: a running mean of g)
    d ← sqrt(v − ḡ²) + eps   if centered   else   d ← sqrt(v) + eps
    b ← μ·b + g / d,   θ ← θ − lr·b                (momentum μ > 0)
    θ ← θ − lr · g / d                             (momentum μ = 0)

    Centered RMSprop divides by an estimate of the gradient's standard deviation instead of its
    root mean square. eps is added after the square root.

    Matches torch.optim.RMSprop(lr, alpha, eps, weight_decay, momentum, centered) to 1e-12 in float64.
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, lr)
        where = type(self).__name__
        self.alpha = check_real(alpha, "alpha", where, low=0.0, high=1.0)
        self.eps = check_real(eps, "eps", where, low=0.0, low_open=True)
        self.weight_decay = check_real(weight_decay, "weight_decay", where, low=0.0)
        self.momentum = check_real(momentum, "momentum", where, low=0.0)
        self.centered = check_bool(centered, "centered", where)
        self.square_avg = self._zeros()
        self.grad_avg = self._zeros() if centered else None
        self.momentum_buffer = self._zeros() if self.momentum > 0 else None

    def _update(self, i, param, grad):
        grad = self._with_weight_decay(grad, param, self.weight_decay)
        square_avg = self.square_avg[i]
        square_avg *= self.alpha
        square_avg += ((1.0 - self.alpha) * grad) * grad
        if self.centered:
            _lerp_(self.grad_avg[i], grad, 1.0 - self.alpha)
            avg = np.sqrt(square_avg - self.grad_avg[i] * self.grad_avg[i])
        else:
            avg = np.sqrt(square_avg)
        avg += self.eps
        if self.momentum > 0:
            buf = self.momentum_buffer[i]
            buf *= self.momentum
            buf += grad / avg
            param -= self.lr * buf
        else:
            param += (-self.lr * grad) / avg


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): momentum on g and per-coordinate scaling by a running mean of g².

    g ← g + λ·θ                                    (weight_decay λ ≠ 0; L2 penalty, coupled)
    m ← β1·m + (1−β1)·g                            (computed as m + (1−β1)·(g − m))
    v ← β2·v + (1−β2)·g²
    v_max ← max(v_max, v)                          (amsgrad only; then v_max replaces v below)
    θ ← θ − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps)

    computed as  θ ← θ − (lr/(1−β1^t)) · m / (sqrt(v)/sqrt(1−β2^t) + eps), so eps is added to the
    bias-corrected root, not to v. m and v start at zero; the bias corrections 1−β^t undo that start
    (at t = 1, m/(1−β1) = g and v/(1−β2) = g², so the first step is lr·g/(|g| + eps)).

    The moments are exponential averages of g and g²; the bias correction divides them, it does not
    replace them. Writing m_t = m_{t−1}/(1−β1^t) and dividing by sqrt(m_t) (a common slip) is not Adam
    (errata #14). Adam rescales each coordinate's step to about lr; it does not bound or clip the
    gradients themselves (errata #15).

    Matches torch.optim.Adam(lr, betas, eps, weight_decay, amsgrad) to 1e-12 in float64.
    """

    decoupled = False  # AdamW sets True: decay θ directly instead of adding λ·θ to g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, lr)
        where = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            check_real(betas[0], "betas[0]", where, low=0.0, high=1.0, high_open=True),
            check_real(betas[1], "betas[1]", where, low=0.0, high=1.0, high_open=True),
        )
        self.eps = check_real(eps, "eps", where, low=0.0, low_open=True)
        self.weight_decay = check_real(weight_decay, "weight_decay", where, low=0.0)
        self.amsgrad = check_bool(amsgrad, "amsgrad", where)
        self.exp_avg = self._zeros()
        self.exp_avg_sq = self._zeros()
        self.max_exp_avg_sq = self._zeros() if amsgrad else None

    def _update(self, i, param, grad):
        beta1, beta2 = self.betas
        if self.decoupled:
            param *= 1 - self.lr * self.weight_decay
        else:
            grad = self._with_weight_decay(grad, param, self.weight_decay)
        exp_avg, exp_avg_sq = self.exp_avg[i], self.exp_avg_sq[i]
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += ((1 - beta2) * grad) * grad
        if self.amsgrad:
            second = np.maximum(self.max_exp_avg_sq[i], exp_avg_sq, out=self.max_exp_avg_sq[i])
        else:
            second = exp_avg_sq
        step_size = self.lr / (1 - beta1**self.t)
        denom = np.sqrt(second)
        denom /= (1 - beta2**self.t) ** 0.5
        denom += self.eps
        param += (-step_size * exp_avg) / denom


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    θ ← θ · (1 − lr·λ)                             (decay first, outside the moments)
    m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²
    θ ← θ − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps)

    With plain Adam the penalty λ·θ enters g and is then divided by sqrt(v̂), so large-gradient
    coordinates are barely regularised; AdamW shrinks every weight by the same factor. Its default
    λ is 0.01 (Adam's is 0). The amsgrad variant and the numerics are those of ``Adam``.

    Matches torch.optim.AdamW(lr, betas, eps, weight_decay, amsgrad) to 1e-12 in float64.
    """

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
