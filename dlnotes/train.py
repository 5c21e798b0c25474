"""A minimal training loop and the extras chapter 5 discusses, nothing hidden:

    for epoch in range(epochs):
        for X_b, y_b in batches(X, y, batch_size, rng):       # a fresh shuffle every epoch
            out = model.forward(X_b, train=True)
            model.backward(grad_fn(out, y_b))                 # fills model.gradients()
            g = gradients + penalty gradients (L1/L2)         # optional
            clip_grad_norm(g, clip_norm)                      # optional
            optimizer.step(g)
        evaluate on val_data; scheduler.step(); callbacks (early stopping)

``model`` is anything with forward(x, *, train), backward(grad_out), parameters() and gradients()
(a dlnotes layer, Sequential or model). ``loss`` is a name from ``LOSSES`` or a pair
(loss_fn, grad_fn) with the signatures of ``dlnotes.losses``.
"""

import os
import sys

import numpy as np
from tqdm import tqdm

from dlnotes import losses
from dlnotes._checks import as_float_array, check_finite, check_generator, check_int, check_real
from dlnotes.data import batches

LOSSES = {
    "cross_entropy": (losses.cross_entropy, losses.cross_entropy_grad),
    "mse": (losses.mse, losses.mse_grad),
    "bce_with_logits": (losses.binary_cross_entropy_with_logits, losses.binary_cross_entropy_with_logits_grad),
}


def _loss_pair(loss, where):
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    if isinstance(loss, tuple) and len(loss) == 2 and all(callable(f) for f in loss):
        return loss
    raise ValueError(f"{where}: loss must be one of {sorted(LOSSES)} or a pair (loss_fn, grad_fn), got {loss!r}")


def _xy(data, name, where):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{where}: {name} must be a pair (X, y), got {type(data).__name__}")
    return data


def _pnorm(v, p):
    """‖v‖_p; where Σ|v|^p overflows (a large p or large entries), as m·‖v/m‖_p with m = max|v|."""
    with np.errstate(over="ignore"):
        norm = np.linalg.norm(v, ord=p)
    if np.isfinite(norm) or v.size == 0:
        return norm
    m = np.max(np.abs(v))
    with np.errstate(under="ignore"):
        return m * np.linalg.norm(v / m, ord=p)


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Rescale the gradients in place so that their joint p-norm is at most ``max_norm``.

        total = ‖(‖g_1‖_p, …, ‖g_k‖_p)‖_p          (the p-norm of all entries together)
        g_i ← g_i · min(1, max_norm / (total + 1e-6))

    The direction of the full gradient is kept; only its length is capped (this, not Adam,
    is what bounds an exploding gradient). Returns total, measured before clipping.
    grads: one float array or a list of them (as torch takes one tensor or several).
    Matches torch.nn.utils.clip_grad_norm_ (norm_type 2, any p ≥ 1, or inf). Every array is
    checked (float, writeable, finite: torch's ``error_if_nonfinite=True``) before any is scaled.
    """
    where = "clip_grad_norm"
    max_norm = check_real(max_norm, "max_norm", where, low=0.0)
    is_inf = isinstance(norm_type, float) and norm_type == np.inf
    p = np.inf if is_inf else check_real(norm_type, "norm_type", where, low=1.0)
    grads = [grads] if isinstance(grads, np.ndarray) else grads
    if not isinstance(grads, (list, tuple)):
        raise TypeError(f"{where}: grads must be a float array or a list of them, got {type(grads).__name__}")
    for i, g in enumerate(grads):
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f" or not g.flags.writeable:
            got = f"{'read-only ' if not g.flags.writeable else ''}dtype {g.dtype}" if isinstance(g, np.ndarray) \
                else type(g).__name__
            raise TypeError(f"{where}: grads[{i}] must be a writeable float array (scaled in place), got {got}")
        check_finite(g, f"grads[{i}]", where)
    norms = [_pnorm(np.ravel(g), p) for g in grads]
    total = float(_pnorm(np.array(norms), p)) if norms else 0.0
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g *= scale
    return total


def penalty(params, l1=0.0, l2=0.0):
    """λ₁·Σ|w| + λ₂·Σw² over the weight arrays (ndim ≥ 2; biases and norm scales are not penalised),
    and its gradient: one array per parameter, λ₁·sign(w) + 2λ₂·w for weights, 0 for the rest.

    Adding λ₂‖w‖² to the loss pulls weights towards 0 (a Gaussian prior); λ₁‖w‖₁ pushes small
    weights to exactly 0 (a Laplace prior, sparsity). Note torch's ``weight_decay=λ`` adds λ·w to
    the gradient, which is the gradient of (λ/2)‖w‖².
    """
    where = "penalty"
    l1 = check_real(l1, "l1", where, low=0.0)
    l2 = check_real(l2, "l2", where, low=0.0)
    if not isinstance(params, (list, tuple)):
        raise TypeError(f"{where}: params must be a list of arrays, got {type(params).__name__}")
    params = [as_float_array(p, f"params[{i}]", where) for i, p in enumerate(params)]
    weights = [p.ndim >= 2 for p in params]
    value = sum(l1 * np.abs(p).sum() + l2 * (p * p).sum() for p, w in zip(params, weights) if w)
    grads = [l1 * np.sign(p) + 2.0 * l2 * p if w else np.zeros_like(p) for p, w in zip(params, weights)]
    return float(value), grads


def evaluate(model, X, y, loss="cross_entropy"):
    """Loss (and accuracy, for the classification losses) of ``model`` on (X, y), in eval mode.

    Accuracy is argmax(out) == y for "cross_entropy" and (out > 0) == y for "bce_with_logits".
    Returns {"loss": float} plus "accuracy" where it applies.
    """
    loss_fn, _ = _loss_pair(loss, "evaluate")
    out = model.forward(X, train=False)
    scores = {"loss": float(loss_fn(out, y))}
    if loss == "cross_entropy":
        scores["accuracy"] = float(np.mean(np.argmax(out, axis=1) == y))
    elif loss == "bce_with_logits":
        scores["accuracy"] = float(np.mean((out > 0) == (np.asarray(y) > 0.5)))
    return scores


def _show_progress(progress):
    """Bars only for a person watching a terminal: never under TQDM_DISABLE=1, by default only
    when stdout is a tty (so notebooks and CI logs stay byte-for-byte stable)."""
    if os.environ.get("TQDM_DISABLE") == "1":
        return False
    return sys.stdout.isatty() if progress is None else bool(progress)


def fit(model, loss, optimizer, data, epochs, batch_size, *, rng, val_data=None, callbacks=(),
        scheduler=None, clip_norm=None, l1=0.0, l2=0.0, progress=None):
    """Train ``model`` on data = (X, y) for up to ``epochs`` epochs of mini-batches.

    optimizer: a ``dlnotes.optim`` optimiser built on ``model.parameters()``. rng: shuffles the
    batches. scheduler: stepped once after every epoch. clip_norm: cap on the joint gradient
    norm (``clip_grad_norm``). l1, l2: penalty weights (``penalty``). callbacks: callables
    ``cb(epoch, history, model)`` run after each epoch; training stops when one returns True;
    those with an ``on_train_end(model)`` method get it called at the end (``EarlyStopping``).
    progress: a tqdm bar over epochs; None means "only if stdout is a terminal".

    Returns the history {"train_loss", "lr", and with val_data "val_loss" (+ "val_accuracy")}:
    one entry per epoch; train_loss is the mean data loss over the epoch's batches (penalty
    excluded, so it compares with val_loss), lr the rate used during the epoch.
    """
    where = "fit"
    loss_fn, grad_fn = _loss_pair(loss, where)
    X, y = _xy(data, "data", where)
    epochs = check_int(epochs, "epochs", where, low=1)
    batch_size = check_int(batch_size, "batch_size", where, low=1)
    check_generator(rng, where)
    l1 = check_real(l1, "l1", where, low=0.0)
    l2 = check_real(l2, "l2", where, low=0.0)
    if clip_norm is not None:
        check_real(clip_norm, "clip_norm", where, low=0.0, low_open=True)
    if val_data is not None:
        X_val, y_val = _xy(val_data, "val_data", where)
    params = model.parameters()
    owned = getattr(optimizer, "params", None)
    if owned is not None and (len(owned) != len(params) or any(a is not b for a, b in zip(owned, params))):
        raise ValueError(
            f"{where}: optimizer must be built on model.parameters() (the same arrays, in order), "
            f"got one on {len(owned)} other array(s): it would train nothing"
        )
    history = {"train_loss": [], "lr": []}
    bar = tqdm(range(epochs), desc="epoch", disable=not _show_progress(progress))
    for epoch in bar:
        history["lr"].append(optimizer.lr)
        total = 0.0
        for X_b, y_b in batches(X, y, batch_size, rng):
            out = model.forward(X_b, train=True)
            total += loss_fn(out, y_b) * len(X_b)
            model.backward(grad_fn(out, y_b))
            grads = model.gradients()
            if l1 or l2:
                grads = [g + pg for g, pg in zip(grads, penalty(params, l1, l2)[1])]
            if clip_norm is not None:
                clip_grad_norm(grads, clip_norm)
            optimizer.step(grads)
        history["train_loss"].append(total / len(X))
        if val_data is not None:
            for key, value in evaluate(model, X_val, y_val, loss).items():
                history.setdefault("val_" + key, []).append(value)
        bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items()})
        if scheduler is not None:
            scheduler.step()
        if any([cb(epoch, history, model) for cb in callbacks]):  # a list: every callback runs
            break
    for cb in callbacks:
        if hasattr(cb, "on_train_end"):
            cb.on_train_end(model)
    return history


class EarlyStopping:
    """Stop when ``monitor`` (a history key) has not improved for ``patience`` epochs in a row.

    An epoch improves when value < best − min_delta. After ``patience`` epochs without
    improvement the callback returns True and ``fit`` stops; ``stopped_epoch`` records when.
    With ``restore_best`` it keeps a copy of the model's state at the best epoch and, when
    training ends (early or not), copies it back in place: ``state_dict()`` (parameters and
    buffers such as batch-norm statistics) when the model has one, else ``parameters()``.
    Use a fresh instance for each ``fit``.
    """

    def __init__(self, patience, min_delta=0.0, restore_best=True, monitor="val_loss"):
        self.patience = check_int(patience, "patience", "EarlyStopping", low=1)
        self.min_delta = check_real(min_delta, "min_delta", "EarlyStopping", low=0.0)
        self.restore_best, self.monitor = bool(restore_best), monitor
        self.best, self.best_epoch, self.stopped_epoch, self.wait = np.inf, None, None, 0
        self._best_state = None

    def __call__(self, epoch, history, model):
        if self.monitor not in history:
            raise ValueError(f"EarlyStopping: monitor must be a history key {sorted(history)}, got {self.monitor!r}")
        value = history[self.monitor][-1]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self._best_state = (model.state_dict() if hasattr(model, "state_dict")
                                    else [p.copy() for p in model.parameters()])
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model):
        """Copy the best state back into the model (when ``restore_best``)."""
        if self._best_state is None:
            return
        if isinstance(self._best_state, dict):
            model.load_state_dict(self._best_state)
        else:
            for p, best in zip(model.parameters(), self._best_state):
                p[...] = best
