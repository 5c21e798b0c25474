"""The learning paradigms of chapter 1 (its section "The learning settings"), each as a tiny,
complete algorithm.

    supervised        perceptron                 Rosenblatt's error-correction rule (labels given)
    unsupervised      kmeans, kmeans_step        clustering by Lloyd's algorithm (no labels)
                      gaussian_mixture,          a density fitted to the clusters, which is also a
                      mixture_log_density,       generative model: it can draw new points
                      sample_mixture
    semi-supervised   label_propagation          a few labels spread over a similarity graph
    reinforcement     epsilon_greedy_bandit      action values learned from rewards alone

Randomness comes only from the ``rng`` (a numpy.random.Generator) the caller passes.
"""

from typing import NamedTuple

import numpy as np

from dlnotes._checks import as_float_array, check_generator, check_int, check_real


def _points(X, where, name="X"):
    """X as a float (N, d) array with at least one row."""
    X = as_float_array(X, name, where)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"{where}: {name} must be (N, d) with N >= 1, got shape {X.shape}")
    return X


def _labels(y, n, where, low=0):
    """y as an int64 (n,) array of labels >= low."""
    y = np.asarray(y)
    if y.shape != (n,) or y.dtype.kind not in "iu" or (n and y.min() < low):
        raise ValueError(f"{where}: y must be ({n},) integers >= {low}, got shape {y.shape} dtype {y.dtype}")
    return y.astype(np.int64)


# ---------------------------------------------------------------- supervised


class Perceptron(NamedTuple):
    weight: np.ndarray  # (d,)
    bias: float
    mistakes: np.ndarray  # (epochs run,) mistakes made in each pass over the data


def perceptron(X, y, epochs, lr=1.0):
    """Rosenblatt's perceptron (1958): a linear threshold unit trained one example at a time.

    With t = 2y − 1 ∈ {−1, +1} and score s = w·x + b, for each example in order:

        if t·s ≤ 0 (wrong side, or on the line):   w ← w + lr·t·x,   b ← b + lr·t

    starting from w = 0, b = 0. Stops after the first pass without a mistake, which happens
    within finitely many passes when the classes are linearly separable (Novikoff 1962) and
    never when they are not (XOR). Predict class 1 where w·x + b > 0.
    X: (N, d), y: (N,) labels in {0, 1}. Matches sklearn's Perceptron(shuffle=False, eta0=lr).
    """
    where = "perceptron"
    X = _points(X, where)
    y = _labels(y, len(X), where)
    if y.max() > 1:
        raise ValueError(f"{where}: y must contain only the labels 0 and 1, got {np.unique(y).tolist()}")
    epochs = check_int(epochs, "epochs", where, low=1)
    lr = check_real(lr, "lr", where, low=0.0, low_open=True)
    w, b, t = np.zeros(X.shape[1]), 0.0, 2.0 * y - 1.0
    mistakes = []
    for _ in range(epochs):
        count = 0
        for x_i, t_i in zip(X, t):  # online: each update changes the next prediction
            if t_i * (x_i @ w + b) <= 0:
                w += lr * t_i * x_i
                b += lr * t_i
                count += 1
        mistakes.append(count)
        if count == 0:
            break
    return Perceptron(w, float(b), np.array(mistakes))


# ---------------------------------------------------------------- unsupervised: clustering


class KMeans(NamedTuple):
    centers: np.ndarray  # (K, d)
    labels: np.ndarray  # (N,) index of the nearest centre
    objective: np.ndarray  # (steps,) J after each step; never increases


def kmeans_step(X, centers):
    """One step of Lloyd's algorithm for k-means.

        assign   c_i = argmin_k ‖x_i − μ_k‖²
        update   μ_k = mean of the x_i with c_i = k      (a centre that gets no point stays put)

    X: (N, d), centers: (K, d). Returns (new centers (K, d), assignments c (N,) int64).
    Neither half can raise the objective J = Σ_i ‖x_i − μ_{c_i}‖².
    """
    where = "kmeans_step"
    X = _points(X, where)
    centers = _points(centers, where, "centers")
    if centers.shape[1] != X.shape[1]:
        raise ValueError(f"{where}: centers must be (K, {X.shape[1]}), got shape {centers.shape}")
    sq_dist = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)  # (N, K)
    labels = sq_dist.argmin(axis=1)
    one_hot = labels[:, None] == np.arange(len(centers))  # (N, K)
    counts = one_hot.sum(axis=0)
    means = (one_hot.T @ X) / np.maximum(counts, 1)[:, None]
    return np.where(counts[:, None] > 0, means, centers), labels


def kmeans(X, k, *, rng, max_iter=100):
    """k-means clustering by Lloyd's algorithm (Lloyd 1982; MacQueen 1967).

    Starts from k distinct data points drawn by ``rng`` and repeats ``kmeans_step`` until the
    assignments stop changing (a local minimum of J) or ``max_iter`` steps. X: (N, d).
    Returns KMeans(centers (k, d), labels (N,), objective (steps,)). With the same starting
    centres it matches sklearn.cluster.KMeans(init=..., n_init=1, algorithm="lloyd").
    """
    where = "kmeans"
    X = _points(X, where)
    k = check_int(k, "k", where, low=1)
    if k > len(X):
        raise ValueError(f"{where}: k must be <= the number of points ({len(X)}), got {k}")
    check_generator(rng, where)
    max_iter = check_int(max_iter, "max_iter", where, low=1)
    centers = X[rng.choice(len(X), size=k, replace=False)]
    labels, objective = None, []
    for _ in range(max_iter):
        new_centers, new_labels = kmeans_step(X, centers)
        if labels is not None and np.array_equal(new_labels, labels):
            break  # same assignments, hence the same means: converged
        centers, labels = new_centers, new_labels
        objective.append(float(((X - centers[labels]) ** 2).sum()))
    return KMeans(centers, labels, np.array(objective))


# ---------------------------------------------------------------- unsupervised: density, generation


class GaussianMixture(NamedTuple):
    weights: np.ndarray  # (K,) mixing proportions π_k, summing to 1
    means: np.ndarray  # (K, d)
    covs: np.ndarray  # (K, d, d)


def gaussian_mixture(X, labels):
    """One Gaussian per cluster, by maximum likelihood given the assignments:

        π_k = n_k / N,   μ_k = (1/n_k) Σ_{c_i=k} x_i,   Σ_k = (1/n_k) Σ_{c_i=k} (x_i − μ_k)(x_i − μ_k)ᵀ

    X: (N, d), labels: (N,) cluster indices 0 … K−1, each used by more than d points (else
    Σ_k is singular). Returns GaussianMixture(weights, means, covs).
    """
    where = "gaussian_mixture"
    X = _points(X, where)
    labels = _labels(labels, len(X), where)
    n, d = X.shape
    counts = np.bincount(labels)
    if counts.min() <= d:
        raise ValueError(f"{where}: labels must give every cluster 0 … {len(counts) - 1} more than d = {d} "
                         f"points, got counts {counts.tolist()}")
    one_hot = (labels[:, None] == np.arange(len(counts))).astype(float)  # (N, K)
    means = (one_hot.T @ X) / counts[:, None]
    diff = X[None, :, :] - means[:, None, :]  # (K, N, d)
    covs = np.einsum("kn,kni,knj->kij", one_hot.T, diff, diff) / counts[:, None, None]
    return GaussianMixture(counts / n, means, covs)


def _mixture(mixture, where):
    """(weights, means, covs) of a GaussianMixture (or any 3-tuple), checked for matching shapes."""
    if not isinstance(mixture, tuple) or len(mixture) != 3:
        raise TypeError(f"{where}: mixture must be a GaussianMixture (weights, means, covs), "
                        f"got {type(mixture).__name__}")
    weights, means, covs = (as_float_array(a, name, where) for a, name in zip(mixture, GaussianMixture._fields))
    k, d = means.shape if means.ndim == 2 else (0, 0)
    if weights.shape != (k,) or covs.shape != (k, d, d) or k == 0:
        raise ValueError(f"{where}: mixture must be (weights (K,), means (K, d), covs (K, d, d)), got shapes "
                         f"{weights.shape}, {means.shape}, {covs.shape}")
    return weights, means, covs


def mixture_log_density(X, mixture):
    """log p(x) = log Σ_k π_k N(x; μ_k, Σ_k), per row of X (N, d); returns (N,).

    N(x; μ, Σ) = exp(−½ (x − μ)ᵀ Σ⁻¹ (x − μ)) / sqrt((2π)^d det Σ); the sum over k is taken
    with log-sum-exp, so far-away points get a large negative number instead of log 0.
    """
    where = "mixture_log_density"
    weights, means, covs = _mixture(mixture, where)
    X = _points(X, where)
    if X.shape[1] != means.shape[1]:
        raise ValueError(f"{where}: X must be (N, {means.shape[1]}), got shape {X.shape}")
    diff = X[None, :, :] - means[:, None, :]  # (K, N, d)
    mahalanobis = np.einsum("kni,kij,knj->kn", diff, np.linalg.inv(covs), diff)
    log_norm = 0.5 * (X.shape[1] * np.log(2 * np.pi) + np.linalg.slogdet(covs)[1])  # (K,)
    log_joint = np.log(weights)[:, None] - log_norm[:, None] - 0.5 * mahalanobis  # (K, N)
    top = log_joint.max(axis=0)
    return top + np.log(np.exp(log_joint - top).sum(axis=0))


def sample_mixture(n, mixture, *, rng):
    """Draw n points from the mixture: a component z ~ Categorical(π), then x = μ_z + L_z ε with
    ε ~ N(0, I) and L_z the Cholesky factor of Σ_z (so that Cov x = L Lᵀ = Σ_z).
    Returns X (n, d) and the components z (n,)."""
    where = "sample_mixture"
    n = check_int(n, "n", where, low=1)
    weights, means, covs = _mixture(mixture, where)
    check_generator(rng, where)
    z = rng.choice(len(weights), size=n, p=weights)
    eps = rng.standard_normal((n, means.shape[1]))
    return means[z] + np.einsum("nij,nj->ni", np.linalg.cholesky(covs)[z], eps), z


# ---------------------------------------------------------------- semi-supervised


def label_propagation(X, y, sigma):
    """Spread a few labels over a similarity graph (Zhu & Ghahramani 2002).

    Edges w_ij = exp(−‖x_i − x_j‖² / (2σ²)) for i ≠ j, and P = D⁻¹W (rows sum to 1). Each
    unlabelled point's class distribution is the P-weighted average of its neighbours',
    labelled points keep their one-hot label:

        F_u = P_uu F_u + P_ul Y_l    ⇒    F_u = (I − P_uu)⁻¹ P_ul Y_l

    which is where repeated propagation F ← PF (re-clamping labelled rows) converges.
    X: (N, d); y: (N,) class 0 … K−1 for labelled points, −1 for unlabelled ones.
    Returns F (N, K): one class distribution per point (predict with F.argmax(1)).
    """
    where = "label_propagation"
    X = _points(X, where)
    y = _labels(y, len(X), where, low=-1)
    sigma = check_real(sigma, "sigma", where, low=0.0, low_open=True)
    labelled = y >= 0
    if not labelled.any():
        raise ValueError(f"{where}: y must label at least one point (labels >= 0), got only -1")
    sq_dist = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    W = np.exp(-sq_dist / (2 * sigma**2))
    np.fill_diagonal(W, 0.0)
    degree = W.sum(axis=1)
    if np.any(degree == 0):
        raise ValueError(f"{where}: sigma must be large enough for every point to have a neighbour, got {sigma}")
    P = W / degree[:, None]
    Y_l = np.eye(y.max() + 1)[y[labelled]]
    u = ~labelled
    F = np.zeros((len(X), Y_l.shape[1]))
    F[labelled] = Y_l
    A = np.eye(u.sum()) - P[np.ix_(u, u)]
    F[u] = np.linalg.solve(A, P[np.ix_(u, labelled)] @ Y_l)
    return F


# ---------------------------------------------------------------- reinforcement


class Bandit(NamedTuple):
    actions: np.ndarray  # (runs, steps) arm pulled at each step
    rewards: np.ndarray  # (runs, steps) reward received, 0 or 1
    estimates: np.ndarray  # (runs, K) final action values Q


def epsilon_greedy_bandit(arm_means, epsilon, steps, *, rng, runs=1):
    """ε-greedy action-value learning on a K-armed Bernoulli bandit (Sutton & Barto 2018, ch. 2).

    Arm a pays 1 with probability arm_means[a], else 0. At each step, in each independent run:

        with probability ε:  a = a uniformly random arm              (explore)
        otherwise:           a = argmax_a Q(a), ties broken at random  (exploit)
        r ~ Bernoulli(arm_means[a]);   N(a) ← N(a) + 1;   Q(a) ← Q(a) + (r − Q(a)) / N(a)

    starting from Q = 0, N = 0, so Q(a) is the average reward seen from arm a. The agent is
    never told which arm is best: it only sees the rewards of the arms it pulls.
    Returns Bandit(actions (runs, steps), rewards (runs, steps), estimates (runs, K)).
    """
    where = "epsilon_greedy_bandit"
    p = as_float_array(arm_means, "arm_means", where)
    if p.ndim != 1 or len(p) < 2 or np.any((p < 0) | (p > 1)):
        raise ValueError(f"{where}: arm_means must be K >= 2 probabilities in [0, 1], got {p.tolist()}")
    epsilon = check_real(epsilon, "epsilon", where, low=0.0, high=1.0)
    steps = check_int(steps, "steps", where, low=1)
    runs = check_int(runs, "runs", where, low=1)
    check_generator(rng, where)
    k, rows = len(p), np.arange(runs)
    Q, N = np.zeros((runs, k)), np.zeros((runs, k))
    actions = np.zeros((runs, steps), dtype=np.int64)
    rewards = np.zeros((runs, steps))
    for t in range(steps):  # the steps are the algorithm; the runs are vectorised
        tied = Q == Q.max(axis=1, keepdims=True)
        greedy = np.where(tied, rng.random((runs, k)), -1.0).argmax(axis=1)
        a = np.where(rng.random(runs) < epsilon, rng.integers(k, size=runs), greedy)
        r = (rng.random(runs) < p[a]).astype(float)
        N[rows, a] += 1
        Q[rows, a] += (r - Q[rows, a]) / N[rows, a]
        actions[:, t], rewards[:, t] = a, r
    return Bandit(actions, rewards, Q)
