"""Variational autoencoder (Kingma & Welling, 2014) with Bernoulli pixels (chapter 6).

The model. A latent z ∈ ℝ^L has the prior p(z) = N(0, I); a decoder network maps z to logits
ℓ(z) ∈ ℝ^D, and each pixel x_d ∈ [0, 1] is "Bernoulli" with mean σ(ℓ_d(z)) (for grey levels
such as the 8×8 digits scaled by 1/16 this is the usual continuous relaxation).

The ELBO. log p(x) = log ∫ p(x|z) p(z) dz has no closed form. For any distribution q(z|x),
Jensen's inequality gives

    log p(x) = log E_q[p(x|z) p(z) / q(z|x)] ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) =: ELBO(x),

with equality when q(z|x) is the true posterior p(z|x); the gap is KL(q(z|x) ‖ p(z|x)) ≥ 0.
The encoder network outputs q(z|x) = N(μ(x), diag σ²(x)) and training maximises the ELBO over
encoder and decoder together. So the loss minimised here is the negative ELBO, per example

    recon = −log p(x|z) = Σ_d BCE_with_logits(ℓ_d(z), x_d)          (one sample z ~ q)
    kl    = KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)     (in closed form)
    loss  = mean over the batch of (recon + kl)

Reconstruction pulls q towards codes that explain x; the KL term pulls q towards the prior, so
that decoding z ~ N(0, I) gives plausible samples. (The VAE does not "limit the generated
distribution to a range": it maximises this bound.)

The reparameterisation. Sampling z ~ q directly would block the gradient; instead
z = μ + σ ⊙ ε with ε ~ N(0, I) drawn outside the network, so z is a differentiable function
of μ and log σ²: ∂z/∂μ = 1 and ∂z/∂ log σ² = ½ σ ε.

Network (as PyTorch's examples/vae, with hidden width H):
    encoder  x (N, D) → Linear(D, H) → ReLU → h (N, H)
    fc_mu, fc_logvar  h → μ (N, L), log σ² (N, L)
    decoder  z (N, L) → Linear(L, H) → ReLU → Linear(H, D) → logits (N, D)
"""

from typing import NamedTuple

import numpy as np

from dlnotes._checks import as_float_array, check_generator, check_int, check_nonempty, check_values_in
from dlnotes.activations import sigmoid
from dlnotes.layers import Layer, Linear, ReLU, Sequential
from dlnotes.losses import binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad


class VAELoss(NamedTuple):
    """The negative ELBO (``total`` = ``recon`` + ``kl``) and its two terms, batch means."""

    total: float
    recon: float
    kl: float


class VAE(Layer):
    """Variational autoencoder for (N, input_dim) data in [0, 1]; see the module docstring.

    One training step::

        terms = vae.loss(x_batch, rng=rng)     # VAELoss(total, recon, kl); ELBO = −terms.total
        vae.backward()                         # fills vae.gradients()
        optimizer.step(vae.gradients())        # e.g. dlnotes.optim.Adam(vae.parameters())

    Sub-layers (``named_children``, torch-style parameter names "encoder.0.weight", ...):
    encoder, fc_mu, fc_logvar, decoder; initialised like torch.nn.Linear. The VAE is a
    ``Layer`` for the bookkeeping (``parameters``, ``gradients``, ``state_dict``); it has no
    ``forward(x)`` of its own because its scalar output needs the noise ε: ``loss`` is the
    forward pass.

    Contract: the VAE follows the layer contract for its state (``params``/``grads``/``buffers``
    of its children, ``parameters``/``gradients``, ``state_dict``/``load_state_dict``, which
    validates every entry before writing) but not for the pass: ``loss(x, rng=)`` replaces
    ``forward`` and ``backward()`` takes no argument. It has no torch.nn twin, so ``from_torch``
    and ``to_torch`` refuse with a TypeError; it cannot be placed in a ``Sequential``.
    """

    torch_args = ("input_dim", "hidden_dim", "latent_dim")  # what repr() shows

    def __init__(self, input_dim, hidden_dim, latent_dim, *, rng):
        super().__init__()
        self.input_dim = check_int(input_dim, "input_dim", "VAE", low=1)
        self.hidden_dim = check_int(hidden_dim, "hidden_dim", "VAE", low=1)
        self.latent_dim = check_int(latent_dim, "latent_dim", "VAE", low=1)
        rng = check_generator(rng, "VAE")
        D, H, L = self.input_dim, self.hidden_dim, self.latent_dim
        self.encoder = Sequential(Linear(D, H, rng=rng), ReLU())
        self.fc_mu = Linear(H, L, rng=rng)
        self.fc_logvar = Linear(H, L, rng=rng)
        self.decoder = Sequential(Linear(L, H, rng=rng), ReLU(), Linear(H, D, rng=rng))

    def named_children(self):
        return [(name, getattr(self, name)) for name in ("encoder", "fc_mu", "fc_logvar", "decoder")]

    def torch_structure(self):
        raise TypeError("VAE.to_torch: torch.nn has no VAE module; copy state_dict() into your own nn.Module")

    @classmethod
    def structure_from_torch(cls, module, rng):
        raise TypeError("VAE.from_torch: torch.nn has no VAE module; use load_state_dict() instead")

    # --- checks ---------------------------------------------------------------------------------

    def _x(self, x, where):
        x = as_float_array(x, "x", where)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"{where}: x must be (N, {self.input_dim}), got shape {tuple(x.shape)}")
        check_nonempty(x, "x", where)
        return check_values_in(x, "x", where, 0, 1)

    def _noise(self, n, rng, eps, where):
        """ε (n, L): drawn as rng.standard_normal((n, L)), or the caller's fixed array."""
        if (rng is None) == (eps is None):
            raise TypeError(f"{where}: exactly one of rng (a Generator) or eps (an (N, L) array) must be given")
        if eps is None:
            return check_generator(rng, where).standard_normal((n, self.latent_dim))
        eps = as_float_array(eps, "eps", where)
        if eps.shape != (n, self.latent_dim):
            raise ValueError(f"{where}: eps must be (N, L) = {(n, self.latent_dim)}, got shape {tuple(eps.shape)}")
        return eps

    # --- the model ------------------------------------------------------------------------------

    def encode(self, x):
        """(μ, log σ²) of q(z|x): x (N, D) → two (N, L) arrays."""
        return self._encode(self._x(x, "VAE.encode"))

    def _encode(self, x):
        h = self.encoder.forward(x)
        return self.fc_mu.forward(h), self.fc_logvar.forward(h)

    def decode(self, z):
        """Pixel means σ(logits(z)): z (N, L) → (N, D), values in (0, 1)."""
        z = as_float_array(z, "z", "VAE.decode")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"VAE.decode: z must be (N, {self.latent_dim}), got shape {tuple(z.shape)}")
        return sigmoid(self.decoder.forward(z))

    def reconstruct(self, x):
        """Decode the posterior mean: σ(logits(μ(x))), (N, D) → (N, D). Deterministic."""
        mu, _ = self.encode(x)
        return self.decode(mu)

    def sample(self, n, rng):
        """n new images: z ~ N(0, I) from ``rng``, returned as pixel means σ(logits(z)), (n, D)."""
        n = check_int(n, "n", "VAE.sample", low=1)
        return self.decode(check_generator(rng, "VAE.sample").standard_normal((n, self.latent_dim)))

    def loss(self, x, *, rng=None, eps=None):
        """Negative ELBO of the batch x (N, D), one sample z = μ + exp(½ log σ²) ⊙ ε per example.

        Give ``rng`` (ε ~ N(0, I) drawn from it) or ``eps`` (N, L) itself. Returns
        VAELoss(total, recon, kl) as in the module docstring, and caches what ``backward`` needs;
        call ``backward`` before using the model again (encode/decode overwrite that cache).
        """
        where = "VAE.loss"
        x = self._x(x, where)
        eps = self._noise(x.shape[0], rng, eps, where)
        mu, logvar = self._encode(x)
        std = np.exp(0.5 * logvar)
        logits = self.decoder.forward(mu + std * eps)
        n = x.shape[0]
        recon = self.input_dim * binary_cross_entropy_with_logits(logits, x)  # Σ over pixels, mean over N
        kl = float(-0.5 * np.sum(1.0 + logvar - mu**2 - std**2) / n)
        self._cache = (x, logits, mu, std, eps)
        return VAELoss(recon + kl, recon, kl)

    def backward(self):
        """Gradients of the last ``loss`` total w.r.t. every parameter (into ``gradients()``).

            ∂loss/∂logits = (σ(logits) − x) / N
            ∂z            = decoder.backward(∂logits)
            ∂μ            = ∂z + μ / N                        (KL: ∂/∂μ of ½ μ²)
            ∂log σ²       = ∂z · ½ σ ε + ½ (σ² − 1) / N        (z = μ + σε; KL: ∂/∂log σ² of ½(σ² − log σ²))
            ∂h            = fc_mu.backward(∂μ) + fc_logvar.backward(∂log σ²)
            encoder.backward(∂h)
        """
        if self._cache is None:
            raise RuntimeError("VAE.backward: call loss before backward")
        x, logits, mu, std, eps = self._cache
        n = x.shape[0]
        d_logits = self.input_dim * binary_cross_entropy_with_logits_grad(logits, x)
        d_z = self.decoder.backward(d_logits)
        d_mu = d_z + mu / n
        d_logvar = d_z * 0.5 * std * eps + 0.5 * (std**2 - 1.0) / n
        d_h = self.fc_mu.backward(d_mu) + self.fc_logvar.backward(d_logvar)
        self.encoder.backward(d_h)
        self._cache = None
