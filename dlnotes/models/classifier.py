"""The prediction helpers shared by the classifiers in ``dlnotes.models``."""

from dlnotes.activations import softmax
from dlnotes.layers.container import Sequential


class Classifier(Sequential):
    """A Sequential whose output is one row of class scores (logits) per example."""

    def predict_proba(self, x):
        """Class probabilities softmax(logits), computed in eval mode: (N, num_classes)."""
        return softmax(self.forward(x, train=False), axis=-1)

    def predict(self, x):
        """The most probable class per example, in eval mode: (N,) integers."""
        return self.forward(x, train=False).argmax(axis=-1)
