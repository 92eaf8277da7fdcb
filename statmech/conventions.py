"""Conversions between the package's conventions and the factorial ones found in the literature.

Package (storage.md): H = -(N/2) sum_mu m_mu^P (distinct indices), K = alpha N^(P-1), Gibbs weight
exp(-H/T).

Factorial conventions:
  - energy  H_lit = -(N/P!) sum_mu m_mu^P, so H = (P!/2) H_lit and exp(-H/T) = exp(-H_lit/T_lit)
    with T_lit = 2 T / P!  (beta_lit = beta P!/2); the load is unchanged by this one;
  - load    K = alpha' N^(P-1) / P!, so alpha' = alpha P!.

``to_factorial_convention`` applies both (T_lit = 2T/P!, alpha' = alpha P!);
``from_factorial_convention`` is its inverse. At P = 2 the temperature is unchanged (P!/2 = 1)
and alpha' = 2 alpha. Conventions that keep repeated indices change the glassy noise term and are
not a change of variables; they are not covered here.
"""
from __future__ import annotations

import math

import numpy as np

from hopfield.validation import check_array_real, check_integer

__all__ = ["P_MAX", "to_factorial_convention", "from_factorial_convention", "temperature_factor", "load_factor"]

#: largest interaction order accepted by the theory (conventions, storage): P! as a float64
#: overflows at P = 171, and alpha P! P/4 (the P-spin noise variance) already near P = 170
P_MAX = 100


def _check_P(P) -> int:
    return check_integer("P", P, low=2, high=P_MAX)


def temperature_factor(P) -> float:
    """T_lit / T = 2 / P! for H_lit = -(N/P!) sum m^P."""
    P = _check_P(P)
    return 2.0 / math.factorial(P)


def load_factor(P) -> float:
    """alpha' / alpha = P! for K = alpha' N^(P-1) / P!."""
    P = _check_P(P)
    return float(math.factorial(P))


def _out(x, like):
    return float(x) if np.ndim(like) == 0 else x


def to_factorial_convention(T, alpha, P):
    """(T, alpha) of the package -> (T_lit, alpha') = (2 T / P!, alpha P!). T > 0, alpha >= 0
    (scalars or arrays; scalars in, floats out)."""
    P = _check_P(P)
    Ta = check_array_real("T", T, low=0.0, low_open=True)
    aa = check_array_real("alpha", alpha, low=0.0)
    return _out(Ta * temperature_factor(P), T), _out(aa * load_factor(P), alpha)


def from_factorial_convention(T_lit, alpha_lit, P):
    """(T_lit, alpha') in the factorial conventions -> (T, alpha) = (T_lit P!/2, alpha'/P!)."""
    P = _check_P(P)
    Ta = check_array_real("T_lit", T_lit, low=0.0, low_open=True)
    aa = check_array_real("alpha_lit", alpha_lit, low=0.0)
    return _out(Ta / temperature_factor(P), T_lit), _out(aa / load_factor(P), alpha_lit)
