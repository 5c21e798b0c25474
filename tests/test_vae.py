"""VAE: ELBO terms and gradients against a PyTorch twin, central differences, training on digits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dlnotes.data import digits
from dlnotes.gradcheck import numerical_gradient, relative_error
from dlnotes.models.vae import VAE
from dlnotes.optim import Adam


class TorchVAE(nn.Module):
    """The same network in PyTorch, written from the formulas (not from dlnotes)."""

    def __init__(self, D, H, L):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(D, H), nn.ReLU())
        self.fc_mu = nn.Linear(H, L)
        self.fc_logvar = nn.Linear(H, L)
        self.decoder = nn.Sequential(nn.Linear(L, H), nn.ReLU(), nn.Linear(H, D))

    def forward(self, x, eps):
        h = self.encoder(x)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = self.decoder(z)
        n = x.shape[0]
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n
        return recon + kl, recon, kl


def twin(vae):
    model = TorchVAE(vae.input_dim, vae.hidden_dim, vae.latent_dim).double()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in vae.state_dict().items()})
    return model


def problem(seed, N, D, H, L):
    rng = np.random.default_rng(seed)
    vae = VAE(D, H, L, rng=rng)
    x = rng.random((N, D))
    x[:, ::3] = np.round(x[:, ::3])  # some exact 0/1 pixels, as in binarised data
    return vae, x, rng.standard_normal((N, L))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 8), st.integers(1, 6), st.integers(1, 3))
def test_loss_and_gradients_match_torch(seed, N, D, H, L):
    vae, x, eps = problem(seed, N, D, H, L)
    terms = vae.loss(x, eps=eps)
    vae.backward()
    model = twin(vae)
    total, recon, kl = model(torch.from_numpy(x), torch.from_numpy(eps))
    total.backward()
    expected = [total.item(), recon.item(), kl.item()]
    np.testing.assert_allclose([terms.total, terms.recon, terms.kl], expected, rtol=1e-10, atol=1e-12)
    theirs = dict(model.named_parameters())
    for (name, _), grad in zip(vae.named_parameters(), vae.gradients()):
        np.testing.assert_allclose(grad, theirs[name].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_named_parameters_follow_torch_order():
    vae = VAE(5, 4, 2, rng=np.random.default_rng(0))
    assert [n for n, _ in vae.named_parameters()] == [n for n, _ in TorchVAE(5, 4, 2).named_parameters()]


def test_gradients_match_central_differences():
    vae, x, eps = problem(1, N=3, D=5, H=4, L=2)
    vae.loss(x, eps=eps)
    vae.backward()
    analytic = [g.copy() for g in vae.gradients()]
    for param, grad in zip(vae.parameters(), analytic):

        def total(values, param=param):
            saved = param.copy()
            param[...] = values
            value = vae.loss(x, eps=eps).total
            param[...] = saved
            return value

        assert relative_error(grad, numerical_gradient(total, param.copy())) < 1e-8


def test_kl_term_by_hand_and_reparameterisation():
    vae, x, eps = problem(2, N=4, D=6, H=5, L=3)
    mu, logvar = vae.encode(x)
    kl = vae.loss(x, eps=eps).kl
    # KL(N(μ, σ²) ‖ N(0, 1)) per coordinate = ½(σ² + μ² − 1 − log σ²), summed, then averaged over N
    per_coordinate = 0.5 * (np.exp(logvar) + mu**2 - 1.0 - logvar)
    assert kl == pytest.approx(per_coordinate.sum() / 4, rel=1e-12)
    assert kl >= 0
    # with ε = 0 the decoder sees z = μ: the reconstruction term is the BCE of reconstruct(x)
    p = vae.reconstruct(x)
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum() / 4
    assert vae.loss(x, eps=np.zeros_like(eps)).recon == pytest.approx(bce, rel=1e-10)


def test_noise_comes_from_the_generator():
    vae, x, eps = problem(3, N=4, D=6, H=5, L=3)
    drawn = np.random.default_rng(9).standard_normal((4, 3))
    assert vae.loss(x, rng=np.random.default_rng(9)) == vae.loss(x, eps=drawn)
    assert vae.loss(x, rng=np.random.default_rng(9)) != vae.loss(x, rng=np.random.default_rng(10))


def test_training_on_digits_lowers_the_negative_elbo():
    split = digits(seed=0)
    X, X_test = split.train[0], split.test[0]
    rng = np.random.default_rng(0)
    vae = VAE(64, 64, 2, rng=rng)
    test_eps = rng.standard_normal((len(X_test), 2))
    before = vae.loss(X_test, eps=test_eps)
    optimizer = Adam(vae.parameters(), lr=1e-2)
    history = []
    for _ in range(8):
        for batch in np.array_split(rng.permutation(len(X)), len(X) // 64):
            history.append(vae.loss(X[batch], rng=rng))
            vae.backward()
            optimizer.step(vae.gradients())
    after = vae.loss(X_test, eps=test_eps)  # held-out images
    assert after.total < 0.65 * before.total
    # better than the best model without a latent code: independent pixels at the mean image
    mean = X.mean(axis=0).clip(1e-12, 1 - 1e-12)
    no_code = -(X_test * np.log(mean) + (1 - X_test) * np.log(1 - mean)).sum(axis=1).mean()
    assert after.total < no_code
    assert after.kl > 0.5  # the code is used: q(z|x) moved away from the prior
    assert history[-1].total == pytest.approx(history[-1].recon + history[-1].kl)
    # generated images and reconstructions are pixel means in (0, 1) of the data's shape
    assert vae.sample(5, rng).shape == (5, 64)
    assert np.all((vae.reconstruct(X[:5]) > 0) & (vae.reconstruct(X[:5]) < 1))


def test_bad_inputs():
    vae = VAE(4, 3, 2, rng=np.random.default_rng(0))
    x = np.full((2, 4), 0.5)
    with pytest.raises(TypeError, match="VAE.loss: exactly one of rng .* or eps .* must be given"):
        vae.loss(x)
    with pytest.raises(TypeError, match="VAE.loss: exactly one of rng"):
        vae.loss(x, rng=np.random.default_rng(0), eps=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"VAE.loss: eps must be \(N, L\) = \(2, 2\), got shape \(2, 3\)"):
        vae.loss(x, eps=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"VAE.loss: x must be \(N, 4\), got shape \(2, 5\)"):
        vae.loss(np.zeros((2, 5)), eps=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"VAE.encode: x must have values in \[0, 1\], got range \[0.5, 16.0\]"):
        vae.encode(np.array([[0.5, 1.0, 16.0, 0.5]]))
    with pytest.raises(ValueError, match=r"VAE.decode: z must be \(N, 2\), got shape \(3,\)"):
        vae.decode(np.zeros(3))
    with pytest.raises(RuntimeError, match="VAE.backward: call loss before backward"):
        vae.backward()
    with pytest.raises(TypeError, match="VAE.sample: rng must be a numpy.random.Generator"):
        vae.sample(3, rng=1)
    with pytest.raises(TypeError, match="VAE: rng must be a numpy.random.Generator"):
        VAE(4, 3, 2, rng=None)
    with pytest.raises(ValueError, match="VAE: latent_dim must be >= 1, got 0"):
        VAE(4, 3, 0, rng=np.random.default_rng(0))
