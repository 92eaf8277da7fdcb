"""Random pattern generation (spin-major int8 arrays)."""
from __future__ import annotations

import numbers

import numpy as np

from .validation import ParameterError, check_integer, check_real

__all__ = ["random_patterns", "as_generator", "check_patterns"]


def as_generator(rng, name: str = "rng") -> np.random.Generator:
    """Accept a numpy Generator, a SeedSequence or an integer seed; return a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, bool) and int(rng) >= 0:
        return np.random.default_rng(int(rng))
    raise ParameterError(name, rng, "a numpy Generator, a SeedSequence or an integer seed >= 0")


def random_patterns(N, K, rng, dilution=0.0) -> np.ndarray:
    """K i.i.d. unbiased random patterns on N neurons, as an int8 array of shape (N, K).

    The array is spin-major (C order, row i holds the K entries seen by neuron i).
    Entries are +-1 with probability (1-dilution)/2 each and 0 with probability ``dilution``.
    With ``dilution == 0`` the entries are exactly +-1 (one bit per entry drawn).
    """
    N = check_integer("N", N, low=1)
    K = check_integer("K", K, low=1)
    d = check_real("dilution", dilution, low=0.0, high=1.0, high_open=True)
    gen = as_generator(rng)
    signs = (2 * gen.integers(0, 2, size=(N, K), dtype=np.int8) - 1).astype(np.int8)
    if d > 0.0:
        blank = gen.random(size=(N, K)) < d
        signs[blank] = 0
    return np.ascontiguousarray(signs)


def check_patterns(patterns, name: str = "patterns") -> np.ndarray:
    """Validate a pattern array: 2-D (N, K), N >= 1, K >= 1, entries in {-1, 0, +1}; return int8 C-contiguous."""
    arr = np.asarray(patterns)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(name + ".shape", arr.shape, "a 2-D shape (N, K) with N >= 1 and K >= 1")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ParameterError(name + ".dtype", arr.dtype, "an integer array (int8) with entries in {-1, 0, 1}")
    bad = ~np.isin(arr, (-1, 0, 1))
    if bad.any():
        raise ParameterError(name, arr[bad].ravel()[0], "entries in {-1, 0, +1}")
    return np.ascontiguousarray(arr, dtype=np.int8)
