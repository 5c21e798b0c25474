"""Time whole training runs on the 8×8 digits: MLP and CNN to a validation accuracy, and the VAE.

    mlp   MLP [64, 128, 10] (ReLU), Adam(1e-3), batch 32, until val accuracy ≥ --target (0.95)
    cnn   the chapter-6 CNN (8→16 channels, 3×3), Adam(3e-3), batch 32, same stopping rule
    vae   VAE(64, 128, latent 2), Adam(1e-3), batch 64, --vae-epochs epochs (default 200); prints the
          validation negative ELBO next to the best fixed-pixel Bernoulli model's (no latent at all)

Targets: each run under 30 s on one core. A time to accuracy is one whole run, so each run is
timed once with time.perf_counter around its training loop (not a median of repeated calls, as
in the other benchmarks). Everything is seeded; the times depend on the machine and its load
(the script prints the thread count). Run from the repository root:

    .venv/bin/python benchmarks/bench_training.py [mlp cnn vae] [--threads N] [--target 0.95]
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from dlnotes import data, losses, optim
from dlnotes.models import CNN, MLP
from dlnotes.models.vae import VAE
from dlnotes.train import evaluate, fit


def until_accuracy(target):
    """A fit callback that stops training once the validation accuracy reaches ``target``."""
    return lambda epoch, history, model: history["val_accuracy"][-1] >= target


def train_classifier(name, target, max_epochs, seed=0):
    rng = np.random.default_rng(seed)
    if name == "mlp":
        split = data.digits(seed=seed)
        model = MLP([64, 128, 10], "relu", rng=rng)
        opt = optim.Adam(model.parameters(), lr=1e-3)
    else:
        split = data.digits(seed=seed, flatten=False)
        model = CNN(image_size=8, num_classes=10, channels=(8, 16), rng=rng)
        opt = optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    history = fit(model, "cross_entropy", opt, split.train, epochs=max_epochs, batch_size=32, rng=rng,
                  val_data=split.val, callbacks=[until_accuracy(target)])
    elapsed = time.perf_counter() - start
    test = evaluate(model, *split.test)["accuracy"]
    reached = history["val_accuracy"][-1] >= target
    print(f"{name:>4}: {elapsed:6.2f} s, {len(history['train_loss'])} epochs, "
          f"val accuracy {history['val_accuracy'][-1]:.3f} ({'reached' if reached else 'NOT reached'} {target}), "
          f"test accuracy {test:.3f}, {model.num_parameters()} parameters")


def train_vae(epochs, seed=0):
    rng = np.random.default_rng(seed)
    split = data.digits(seed=seed)
    X, X_val = split.train[0], split.val[0]
    vae = VAE(64, 128, 2, rng=rng)
    opt = optim.Adam(vae.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        for x, _ in data.batches(X, X, 64, rng):
            vae.loss(x, rng=rng)
            vae.backward()
            opt.step(vae.gradients())
    elapsed = time.perf_counter() - start
    val = vae.loss(X_val, rng=np.random.default_rng(seed + 1))
    # baseline: every pixel an independent Bernoulli with its training mean, the same for all images
    mean = np.clip(X.mean(axis=0), 1e-6, 1 - 1e-6)
    baseline = 64 * losses.binary_cross_entropy_with_logits(
        np.broadcast_to(np.log(mean / (1 - mean)), X_val.shape), X_val)
    print(f" vae: {elapsed:6.2f} s, {epochs} epochs, validation −ELBO {val.total:.2f} nats/image "
          f"(recon {val.recon:.2f} + KL {val.kl:.2f}); fixed-pixel baseline {baseline:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["mlp", "cnn", "vae"], help="any of mlp, cnn, vae (default: all)")
    parser.add_argument("--target", type=float, default=0.95, help="validation accuracy to reach")
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--vae-epochs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    unknown = set(args.models) - {"mlp", "cnn", "vae"}
    if unknown:
        parser.error(f"models must be among mlp, cnn, vae, got {sorted(unknown)}")
    print(f"digits: 1,797 8×8 images, stratified 70/15/15 split; BLAS threads {args.threads}")
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for name in args.models:
            if name == "vae":
                train_vae(args.vae_epochs)
            else:
                train_classifier(name, args.target, args.max_epochs)


if __name__ == "__main__":
    main()
