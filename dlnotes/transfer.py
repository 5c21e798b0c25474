"""Transfer learning: reuse what one trained network learned in another (chapter 7).

    select_classes          the examples of some classes, renumbered 0 … k−1 (a new task)
    take_per_class          a small training set: n random examples of every class
    features                a network's activations before its last layer(s): frozen features
    replace_head            a copy of a network with a fresh last Linear layer, ready to fine-tune
    distillation_loss       Hinton et al.'s soft-target loss: a student learns a teacher's outputs
    distillation_loss_grad  its gradient with respect to the student's logits

The three ways to learn a new task, in dlnotes terms:

    frozen features + new head   fit(Linear(h, k), ..., data=(features(pretrained, X), y))
    full fine-tuning             fit(replace_head(pretrained, k), ..., lr smaller than from scratch)
    from scratch                 fit(MLP([...], rng=rng), ...)

Training a head on frozen features is logistic regression on a fixed representation, so it is a
convex problem; fine-tuning moves every weight and can adapt the representation (or spoil it).
"""

import copy

import numpy as np

from dlnotes._checks import as_float_array, check_generator, check_int, check_real, check_rows
from dlnotes.activations import log_softmax, softmax
from dlnotes.layers.container import Sequential
from dlnotes.layers.linear import Linear


def _labelled(X, y, where):
    """X and y (one class label per row of X: a 1-D integer array)."""
    X, y = check_rows(X, y, where)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"{where}: y must be a 1-D integer array of class labels, got shape {y.shape} dtype {y.dtype}")
    return X, y


def select_classes(X, y, classes):
    """The rows of (X, y) whose label is in ``classes``, relabelled by position in ``classes``.

    select_classes(X, y, [5, 6, 7, 8, 9]) turns digits 5 … 9 into a 5-class task with labels
    0 … 4 (5 → 0, 6 → 1, …). Rows keep their order. Returns (X_sub, y_sub) with y_sub int64.
    """
    where = "select_classes"
    X, y = _labelled(X, y, where)
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.size == 0 or classes.dtype.kind not in "iu":
        raise ValueError(f"{where}: classes must be a non-empty list of integer labels, got {classes.tolist()!r}")
    if len(np.unique(classes)) != classes.size:
        raise ValueError(f"{where}: classes must not repeat a label, got {classes.tolist()!r}")
    keep = np.isin(y, classes)
    position = {int(c): i for i, c in enumerate(classes)}
    return X[keep], np.array([position[int(c)] for c in y[keep]], dtype=np.int64)


def take_per_class(X, y, n, *, rng):
    """A random subset with n examples of every class (all of a class's examples if it has fewer).

    The rows are drawn without replacement from ``rng`` and returned grouped by class, in
    increasing label order. Returns (X_sub, y_sub).
    """
    where = "take_per_class"
    X, y = _labelled(X, y, where)
    n = check_int(n, "n", where, low=1)
    check_generator(rng, where)
    rows = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:n] for c in np.unique(y)])
    return X[rows], y[rows]


def _sequential(model, where):
    if not isinstance(model, Sequential) or len(model) == 0:
        got = type(model).__name__
        raise TypeError(f"{where}: model must be a non-empty dlnotes Sequential (MLP, CNN, ...), got {got}")
    return model


def features(model, X, depth=None):
    """The output of the first ``depth`` layers of ``model`` in eval mode: (N, ...) features.

    depth=None means every layer but the last, i.e. the input of the classifier head (the
    "penultimate" features). Nothing is cached for backward and no weight changes: these are
    frozen features, computed once and reused for every epoch of training a new head.
    """
    where = "features"
    layers = _sequential(model, where).layers
    depth = len(layers) - 1 if depth is None else check_int(depth, "depth", where, low=0)
    if depth > len(layers):
        raise ValueError(f"{where}: depth must be at most the number of layers ({len(layers)}), got {depth}")
    out = as_float_array(X, "X", where)
    for layer in layers[:depth]:
        out = layer.forward(out, train=False)
    return out


def replace_head(model, out_features, *, rng):
    """A deep copy of ``model`` whose last layer, a Linear, is replaced by a fresh
    Linear(in_features, out_features) initialised from ``rng`` (torch's default init).

    The body's weights are copied, not shared: training the copy leaves ``model`` untouched.
    For an MLP the ``sizes`` attribute follows the new head.
    """
    where = "replace_head"
    head = _sequential(model, where).layers[-1]
    if not isinstance(head, Linear):
        raise TypeError(f"{where}: model's last layer must be a Linear, got {type(head).__name__}")
    out_features = check_int(out_features, "out_features", where, low=1)
    check_generator(rng, where)
    new = copy.deepcopy(model)
    new.layers[-1] = Linear(head.in_features, out_features, bias="bias" in head.params, rng=rng,
                            dtype=head.params["weight"].dtype)
    if hasattr(new, "sizes"):
        new.sizes = [*new.sizes[:-1], out_features]
    return new


def _distillation_args(student_logits, teacher_logits, temperature, where):
    s = as_float_array(student_logits, "student_logits", where)
    t = as_float_array(teacher_logits, "teacher_logits", where)
    if s.ndim != 2 or len(s) == 0:
        raise ValueError(f"{where}: student_logits must be (N, K) with N >= 1, got shape {s.shape}")
    if t.shape != s.shape:
        raise ValueError(f"{where}: teacher_logits must have the shape of student_logits {s.shape}, got {t.shape}")
    # T² must stay finite (a bare OverflowError otherwise): 1e154² is still below float64's max.
    return s, t, check_real(temperature, "temperature", where, low=0.0, high=1e154, low_open=True)


def distillation_loss(student_logits, teacher_logits, temperature=4.0):
    """Soft-target distillation loss (Hinton, Vinyals & Dean, 2015), mean over the batch:

        p = softmax(t / T),   q = softmax(s / T)          (row-wise; T the temperature)
        L = T² · (1/N) Σ_i KL(p_i ‖ q_i) = T² · (1/N) Σ_i Σ_k p_ik (log p_ik − log q_ik)

    s: the student's logits (N, K), t: the teacher's (N, K). A high T softens both
    distributions, so the teacher's small probabilities (which wrong classes look alike) carry
    weight; the T² keeps the gradient's size roughly independent of T (for large T it tends to
    ((s − mean s) − (t − mean t)) / (N·K), row-wise means). No labels are needed: the teacher
    labels the inputs. Matches
    ``T**2 * F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), log_target=True, reduction="batchmean")``.
    """
    s, t, T = _distillation_args(student_logits, teacher_logits, temperature, "distillation_loss")
    log_p, log_q = log_softmax(t / T, axis=1), log_softmax(s / T, axis=1)
    return float(T**2 * np.sum(np.exp(log_p) * (log_p - log_q)) / len(s))


def distillation_loss_grad(student_logits, teacher_logits, temperature=4.0):
    """∂L/∂s = T · (softmax(s/T) − softmax(t/T)) / N: (N, K).

    (The chain rule through s/T gives a factor 1/T, which the T² of the loss turns into T.)
    """
    s, t, T = _distillation_args(student_logits, teacher_logits, temperature, "distillation_loss_grad")
    return T * (softmax(s / T, axis=1) - softmax(t / T, axis=1)) / len(s)
