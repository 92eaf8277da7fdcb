"""Parameter validation shared by every layer of the package.

Every check raises :class:`ParameterError` *before* any work starts, with one line
naming the parameter, the offending value and the allowed range, e.g.::

    ParameterError: T = -0.5 is out of range: allowed T > 0
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["ParameterError", "check_integer", "check_real", "check_choice", "check_array_real", "check_spins"]


class ParameterError(ValueError):
    """Bad input: carries the parameter name, its value and the allowed range."""

    def __init__(self, name: str, value, allowed: str):
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"{name} = {value!r} is out of range: allowed {allowed}")


def _bound_text(name, low, high, low_open, high_open):
    parts = []
    if low is not None:
        parts.append(f"{name} {'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{name} {'<' if high_open else '<='} {high:g}")
    return " and ".join(parts) if parts else f"any finite {name}"


def check_real(name: str, value, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``float(value)`` if it is a finite real within the bounds, else raise."""
    allowed = _bound_text(name, low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ParameterError(name, value, "a real number, " + allowed)
    v = float(value)
    if not math.isfinite(v):
        raise ParameterError(name, value, allowed)
    if low is not None and (v < low or (low_open and v == low)):
        raise ParameterError(name, value, allowed)
    if high is not None and (v > high or (high_open and v == high)):
        raise ParameterError(name, value, allowed)
    return v


def check_integer(name: str, value, low=None, high=None) -> int:
    """Return ``int(value)`` if it is an integer within [low, high], else raise."""
    allowed = _bound_text(name, low, high, False, False)
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ParameterError(name, value, "an integer, " + allowed)
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ParameterError(name, value, allowed)
    return v


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise."""
    if value not in choices:
        raise ParameterError(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_array_real(name: str, values, low=None, high=None, low_open=False, high_open=False) -> np.ndarray:
    """Validate every entry of an array-like of reals (non-empty); return a float64 array."""
    arr = np.asarray(values, dtype=object).ravel()
    if arr.size == 0:
        raise ParameterError(name, list(arr), "a non-empty list of values")
    for v in arr:
        check_real(name, v, low, high, low_open, high_open)
    return np.asarray(values, dtype=np.float64)


def check_spins(sigma, N: int, name: str = "sigma") -> np.ndarray:
    """A configuration of N Ising spins (entries +-1); returned as int8."""
    s = np.asarray(sigma)
    if s.dtype == bool:     # True == 1 would pass the +-1 test
        raise ParameterError(name + ".dtype", s.dtype, "integer or float entries +-1 (not bool)")
    if s.shape != (N,):
        raise ParameterError(name + ".shape", s.shape, f"({N},)")
    if not np.isin(s, (-1, 1)).all():
        raise ParameterError(name, s[~np.isin(s, (-1, 1))][0], "entries in {-1, +1}")
    return s.astype(np.int8)
