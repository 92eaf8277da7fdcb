"""Signal-to-noise analysis of multitasking (diluted-pattern) Hebbian networks, low storage.

Spec: /work/shared/physics/multitasking.md Section 7 (1/N convention, self-term removed).

Local field decomposition at neuron i for a configuration sigma:

    h_i = sum_{j != i} J_ij sigma_j = sum_mu xi_i^mu m_mu(sigma)  -  (sum_mu (xi_i^mu)^2) sigma_i / N
          \\_____ signal of pattern mu ______/                       \\____ self-term ____/

T = 0 stability of sigma: h_i sigma_i > 0 at every neuron that is not blank in all K patterns (those
have h_i = 0 identically and are free).

Hierarchical configuration sigma*_i = xi_i^{k(i)} (k(i) the first non-blank pattern at i): m_mu(sigma*)
= (1-d) d^(mu-1) + O(N^-1/2), and at a neuron whose first non-blank entry is k

    h_i sigma*_i = m_k + sum_{j > k} (xi_i^j xi_i^k) m_j  (+ O(1/N)),

so the worst neurons (all later entries non-blank and anti-aligned; fraction
d^(k-1) (1-d)^(K-k+1) / 2^(K-k)) are stable iff m_k > sum_{j>k} m_j. With the ladder amplitudes the
binding constraint is k = 1: sum_{j=1}^{K-1} d^j < 1, i.e. d < d_c(K) -- the same edge as the
statistical-mechanics existence of ladder A (``statmech.multitasking.critical_dilution``).

Load bound: the last signal (1-d) d^(K-1) must beat the O(N^-1/2) random overlaps,
K <~ 1 + ln(N (1-d)^2) / (2 ln(1/d)).
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from hopfield.multitasking import hierarchical_configuration, local_fields
from hopfield.patterns import check_patterns
from hopfield.validation import ParameterError, check_array_real, check_integer, check_real

__all__ = ["field_decomposition", "stability_margins", "configuration_stability", "ladder_amplitudes",
           "hierarchy_margins", "parallel_retrieval_condition", "worst_case_fractions",
           "unstable_fraction_theory", "max_patterns", "hierarchical_configuration"]


def _check_K(K):
    return check_integer("K", K, low=1, high=20)


def _check_d(d):
    return check_real("d", d, low=0.0, high=1.0, high_open=True)


def _state(sigma, N):
    s = np.asarray(sigma)
    if s.shape != (N,) or not np.isin(s, (-1, 1)).all():
        raise ParameterError("sigma", f"array of shape {s.shape}", f"a +-1 array of shape ({N},)")
    return s.astype(np.int64)


def field_decomposition(patterns, sigma) -> dict:
    """Local fields split into per-pattern signals and the self-term.

    Returns ``signal`` (N, K): xi_i^mu m_mu; ``self`` (N,): -(sum_mu (xi_i^mu)^2) sigma_i / N; ``field`` (N,):
    their sum (= h_i of ``hopfield.multitasking.local_fields``); ``m`` (K,) the overlaps."""
    xi = check_patterns(patterns)
    N = xi.shape[0]
    s = _state(sigma, N)
    m = (xi.T.astype(np.int64) @ s) / N
    signal = xi * m[None, :]
    self_term = -np.count_nonzero(xi, axis=1) * s / N
    return {"signal": signal, "self": self_term, "field": signal.sum(axis=1) + self_term, "m": m}


def stability_margins(patterns, sigma) -> np.ndarray:
    """h_i sigma_i (N,): > 0 stable, < 0 unstable, 0 tie (always 0 at all-blank neurons)."""
    xi = check_patterns(patterns)
    s = _state(sigma, xi.shape[0])
    return local_fields(xi, s) * s


def configuration_stability(patterns, sigma) -> dict:
    """T = 0 single-flip stability of sigma: ``stable`` (h_i sigma_i > 0 at every neuron with some non-blank
    entry), ``unstable_fraction`` (h sigma < 0), ``tie_fraction`` (h sigma = 0 at non-free neurons),
    ``free_fraction`` (all-blank neurons), ``min_margin`` (over non-free neurons)."""
    xi = check_patterns(patterns)
    g = stability_margins(xi, sigma)
    free = ~(xi != 0).any(axis=1)
    tol = 1e-12
    act = g[~free]
    unstable = float(np.mean(g < -tol))
    tie = float(np.sum(np.abs(act) <= tol) / g.size)
    return {"stable": bool(act.size == 0 or act.min() > tol), "unstable_fraction": unstable, "tie_fraction": tie,
            "free_fraction": float(free.mean()), "min_margin": float(act.min()) if act.size else math.inf}


def ladder_amplitudes(K, d) -> np.ndarray:
    """Overlaps of the hierarchical configuration, N -> infinity: (1-d) d^(k-1), k = 1..K."""
    K, d = _check_K(K), _check_d(d)
    return (1 - d) * d ** np.arange(K)


def hierarchy_margins(K, d) -> np.ndarray:
    """Worst-case signal-to-noise margins m_k - sum_{j>k} m_j, k = 1..K (last: m_K) of the hierarchical
    configuration."""
    m = ladder_amplitudes(K, d)
    tails = np.concatenate([np.cumsum(m[::-1])[::-1][1:], [0.0]])
    return m - tails


def parallel_retrieval_condition(K, d) -> bool:
    """True iff the hierarchical configuration (all K patterns retrieved, amplitudes (1-d) d^(k-1)) is a
    T = 0 fixed point for N -> infinity: every margin > 0 <=> sum_{j=1}^{K-1} d^j < 1 <=> d < d_c(K)."""
    return bool(np.all(hierarchy_margins(K, d) > 0))


def worst_case_fractions(K, d) -> np.ndarray:
    """Fraction of neurons whose first non-blank entry is k and all later entries are non-blank and
    anti-aligned: d^(k-1) (1-d)^(K-k+1) / 2^(K-k), k = 1..K."""
    K, d = _check_K(K), _check_d(d)
    k = np.arange(1, K + 1)
    return d ** (k - 1) * (1 - d) ** (K - k + 1) / 2.0 ** (K - k)


def unstable_fraction_theory(K, d, m=None) -> dict:
    """Exact N -> infinity fractions of unstable (h sigma < 0) and tie (h sigma = 0) neurons of the
    hierarchical configuration with overlaps m (default: the ladder), by enumeration of the 3^(K-k)
    later entries at each first-non-blank level k."""
    K, d = _check_K(K), _check_d(d)
    if m is not None:
        m = check_array_real("m", m)
        if m.shape != (K,):
            raise ParameterError("m.shape", m.shape, f"({K},), one overlap per pattern")
    m = ladder_amplitudes(K, d) if m is None else m
    unstable = tie = 0.0
    for k in range(K):
        pk = d ** k * (1 - d)
        rest = K - k - 1
        for s in itertools.product((-1, 0, 1), repeat=rest):
            s = np.array(s, dtype=float)
            p = np.prod(np.where(s == 0, d, (1 - d) / 2)) if rest else 1.0
            g = m[k] + float(s @ m[k + 1:])
            if g < -1e-14:
                unstable += pk * p
            elif abs(g) <= 1e-14:
                tie += pk * p
    return {"unstable_fraction": unstable, "tie_fraction": tie}


def max_patterns(N, d) -> float:
    """Load bound K <~ 1 + ln(N (1-d)^2) / (2 ln(1/d)) (0 < d < 1)."""
    N = check_integer("N", N, low=1)
    d = check_real("d", d, low=0.0, high=1.0, low_open=True, high_open=True)
    return 1.0 + math.log(N * (1 - d) ** 2) / (2.0 * math.log(1.0 / d))
