"""Sinusoidal positional encoding (Vaswani et al., 2017): where in the sequence a token sits."""

import numpy as np

from dlnotes._checks import check_int


def sinusoidal_encoding(length, d_model, base=10000.0):
    """PE: (length, d_model) with, for position t and pair i = 0 … d_model/2 − 1,

        PE[t, 2i]     = sin(t · ω_i),   PE[t, 2i + 1] = cos(t · ω_i),   ω_i = base^(−2i/d_model).

    Each pair is a point turning on a circle at its own frequency, from one turn per 2π positions
    (i = 0) to one per 2π·base positions, so PE[t + k] is PE[t] rotated pair by pair by the angles
    k·ω_i: a fixed linear map of PE[t] that depends on the offset k only. d_model must be even.
    """
    where = "sinusoidal_encoding"
    length = check_int(length, "length", where, low=1)
    d_model = check_int(d_model, "d_model", where, low=2)
    if d_model % 2:
        raise ValueError(f"{where}: d_model must be even, got {d_model}")
    omega = float(base) ** (-np.arange(0, d_model, 2) / d_model)    # (d_model/2,)
    angles = np.arange(length)[:, None] * omega                     # (length, d_model/2)
    pe = np.empty((length, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    return pe

