"""Smoke test of an installed dlnotes-book, run by tests/test_packaging.py with the interpreter of
a fresh environment and outside the source tree.

    python smoke_installed.py FILE...   FILE: the explorers' front-end files the package must hold

Prints one line per check and exits non-zero (an AssertionError) at the first that fails.
"""

import importlib.metadata
import importlib.resources
import sys
from pathlib import Path

import numpy as np

import dlnotes
from dlnotes import data, optim, train
from dlnotes.models import MLP
from dlnotes.widgets import _bundle

installed = Path(dlnotes.__file__).resolve()
assert "site-packages" in installed.parts, f"dlnotes imported from {installed}, not an installed copy"
version = importlib.metadata.version("dlnotes-book")
assert version == dlnotes.__version__, f"metadata {version} != dlnotes.__version__ {dlnotes.__version__}"
print(f"import: dlnotes {version} from {installed.parent}")

split = data.digits(seed=0)
X, y = split.train
assert X.shape[1:] == (64,) and X.shape[0] == len(y) and set(np.unique(y)) == set(range(10))
print(f"datasets: digits train {X.shape[0]} x {X.shape[1]}, 10 classes")

rng = np.random.default_rng(0)
model = MLP([64, 32, 10], rng=rng)
history = train.fit(model, "cross_entropy", optim.Adam(model.parameters(), lr=1e-2), split.train,
                    epochs=5, batch_size=64, rng=rng, val_data=split.val, progress=False)
accuracy = history["val_accuracy"][-1]
assert history["train_loss"][-1] < history["train_loss"][0] and accuracy > 0.8, history
print(f"training: 5 epochs, loss {history['train_loss'][0]:.3f} -> {history['train_loss'][-1]:.3f}, "
      f"validation accuracy {accuracy:.3f}")

front_end = importlib.resources.files("dlnotes.widgets")
missing = [name for name in sys.argv[1:] if not front_end.joinpath(name).is_file()]
assert not missing, f"front-end files missing from the installed package: {missing}"
entries = [name for name in sys.argv[1:] if name.endswith(".js")]
bundles = {name: _bundle.esm(name) for name in entries}
assert all('from "./' not in code for code in bundles.values()), "a bundle kept a local import"
assert _bundle.css().strip(), "widgets.css is empty"
print(f"explorers: {len(sys.argv) - 1} front-end files present, {len(bundles)} bundles inline their imports")
