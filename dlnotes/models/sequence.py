"""A recurrent network with a linear read-out: the many-to-one and many-to-many sequence models.

    h_1 … h_T = recurrent layer (RNN, LSTM or GRU) run over x_1 … x_T, from h_0 = 0
    many-to-one:   y   = W h_T + b          one prediction per sequence (the adding problem)
    many-to-many:  y_t = W h_t + b          one prediction per step (next value of a sine)

Shapes (batch first, as ``dlnotes.data`` returns sequences): x (N, T, input_size) →
y (N, output_size), or (N, T, output_size) with ``many_to_many=True``.

Backward is backpropagation through time: the head turns ∂L/∂y into ∂L/∂h_t — at the last step
only for many-to-one, at every step for many-to-many — and the recurrent layer carries it back
through the unrolled steps (``dlnotes.layers.recurrent``).
"""

import functools

import numpy as np

from dlnotes._checks import check_bool, check_choice, check_int
from dlnotes.layers.base import Layer, check_input, init_rng
from dlnotes.layers.linear import Linear
from dlnotes.layers.recurrent import GRU, LSTM, RNN

CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


@functools.cache
def _torch_sequence_model():
    """The torch twin: a module with children ``rnn`` (batch_first) and ``head``, same state_dict names."""
    from torch import nn

    class TorchSequenceModel(nn.Module):
        def __init__(self, rnn, head, many_to_many):
            super().__init__()
            self.rnn, self.head, self.many_to_many = rnn, head, many_to_many

        def forward(self, x):
            out, _ = self.rnn(x)  # (N, T, H): h_1 … h_T
            return self.head(out if self.many_to_many else out[:, -1])

    return TorchSequenceModel


class SequenceModel(Layer):
    """Recurrent layer + Linear head; see the module docstring.

    cell: "rnn" (tanh), "lstm" or "gru". The recurrent layer is batch_first and starts from a
    zero state. Children (torch names): ``rnn`` (weight_ih_l0, weight_hh_l0, bias_ih_l0,
    bias_hh_l0) and ``head`` (weight, bias), both initialised as torch does, so
    ``parameters()``/``gradients()`` feed ``dlnotes.optim`` and the model trains with
    ``dlnotes.train.fit`` (loss "mse": give targets shaped like the output, e.g. y[:, None]).
    """

    def __init__(self, cell, input_size, hidden_size, output_size=1, many_to_many=False, *, rng,
                 dtype=np.float64):
        super().__init__()
        where = "SequenceModel"
        check_choice(cell, "cell", where, CELLS)
        self.cell, self.many_to_many = cell, check_bool(many_to_many, "many_to_many", where)
        self.input_size = check_int(input_size, "input_size", where, low=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", where, low=1)
        self.output_size = check_int(output_size, "output_size", where, low=1)
        self.rnn = CELLS[cell](input_size, hidden_size, batch_first=True, rng=rng, dtype=dtype)
        self.head = Linear(hidden_size, output_size, rng=rng, dtype=dtype)

    def hyperparameters(self):
        return {"cell": self.cell, "input_size": self.input_size, "hidden_size": self.hidden_size,
                "output_size": self.output_size, "many_to_many": self.many_to_many}

    def named_children(self):
        return [("rnn", self.rnn), ("head", self.head)]

    def forward(self, x, *, train=True):
        """x: (N, T, input_size) → (N, output_size), or (N, T, output_size) if many_to_many.

        ``train`` is accepted for the layer contract (``dlnotes.train.fit``) and changes nothing.
        """
        where = self._where("forward")
        self._check_train(train)
        layout = f"(N, T, {self.input_size}) with T >= 1"
        x = check_input(x, where, layout, 3)
        if x.shape[2] != self.input_size or x.shape[1] == 0:
            raise ValueError(f"{where}: x must be {layout}, got shape {tuple(x.shape)}")
        hs = self.rnn.forward(x)  # (N, T, H)
        y = self.head.forward(hs if self.many_to_many else hs[:, -1])
        return self._save(y, hs.shape)

    def backward(self, grad_out):
        """grad_out: the output's shape → ∂L/∂x (N, T, input_size); fills every gradient.

            ∂L/∂h_t = ∂L/∂y_t Wᵀ        for every t (many-to-many)
            ∂L/∂h_T = ∂L/∂y Wᵀ,  ∂L/∂h_t = 0 for t < T from the head (many-to-one)

        then BPTT through the recurrent layer adds what each h_t passes on to h_{t−1}.
        """
        grad_out, (hs_shape,) = self._saved(grad_out)
        d_head = self.head.backward(grad_out)
        if self.many_to_many:
            d_hs = d_head
        else:
            d_hs = np.zeros(hs_shape, dtype=d_head.dtype)
            d_hs[:, -1] = d_head
        return self.rnn.backward(d_hs)

    # --- the torch bridge ----------------------------------------------------------------------

    def torch_structure(self):
        return _torch_sequence_model()(self.rnn.torch_structure(), self.head.torch_structure(), self.many_to_many)

    @classmethod
    def structure_from_torch(cls, module, rng):
        """Any torch module with ``rnn`` (nn.RNN/LSTM/GRU, batch_first), ``head`` (nn.Linear) and
        ``many_to_many`` (bool), such as the one ``to_torch()`` returns."""
        where = "SequenceModel.from_torch"
        if not all(hasattr(module, name) for name in ("rnn", "head", "many_to_many")):
            raise TypeError(
                f"{where}: module must have attributes rnn, head and many_to_many, got {type(module).__name__}"
            )
        names = {kind.__name__: name for name, kind in CELLS.items()}
        cell = names.get(type(module.rnn).__name__)
        if cell is None:
            raise TypeError(f"{where}: module.rnn must be a torch.nn.RNN, LSTM or GRU, got {type(module.rnn).__name__}")
        rnn = CELLS[cell].structure_from_torch(module.rnn, rng)  # checks num_layers, nonlinearity, ...
        if not rnn.batch_first or not rnn.bias:
            raise ValueError(f"{where}: module.rnn must have batch_first=True and bias=True, got {module.rnn!r}")
        head = Linear.structure_from_torch(module.head, rng)
        if head.in_features != rnn.hidden_size or "bias" not in head.params:
            raise ValueError(
                f"{where}: module.head must be a Linear({rnn.hidden_size}, out) with bias, got {module.head!r}"
            )
        return cls(cell, rnn.input_size, rnn.hidden_size, head.out_features, bool(module.many_to_many),
                   rng=init_rng(rng))
