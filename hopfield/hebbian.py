"""Hebbian networks with P-body interactions (pairwise Hopfield at P = 2): numpy references.

Convention (distinct-index, no self-interaction; storage.md)::

    H(sigma) = -(1 / (2 N^(P-1))) sum_mu sum_{(i_1..i_P) distinct} prod_k xi_{i_k}^mu sigma_{i_k}

where the inner sum runs over *ordered* P-tuples of distinct sites. Writing x_j^mu = xi_j^mu sigma_j
and e_P the elementary symmetric polynomial, the inner sum is P! e_P(x^mu), so

    H = -(P! / (2 N^(P-1))) sum_mu e_P(x^mu).

At P = 2 this is the standard Hopfield energy -(1/(2N)) sum_{i != j} sum_mu xi_i xi_j sigma_i sigma_j.
Patterns are int8 arrays of shape (N, K) (spin-major) with entries +-1, or {-1, 0, +1} for
diluted patterns. Because x_j^mu takes values in {-1, 0, +1}, the power sums of x^mu are
p_k = S_mu (odd k) and p_k = n_mu (even k), with S_mu = xi^mu . sigma and n_mu the number of
non-blank entries of pattern mu; e_P follows from Newton's identities. Everything here is
computed in exact integer arithmetic (Python ints) and converted to float at the end: the
methods are slow and obviously right, and serve as references for the fast kernels.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .patterns import as_generator, check_patterns
from .validation import ParameterError, check_choice, check_integer, check_spins

__all__ = ["HebbianNetwork", "RealHebbianNetwork", "elementary_symmetric_from_power_sums"]


def elementary_symmetric_from_power_sums(p_odd, p_even, P: int):
    """e_P for vectors whose entries lie in {-1, 0, +1}: power sums p_k = p_odd (k odd), p_even (k even).

    ``p_odd`` and ``p_even`` are integer arrays (one entry per pattern); the result is an object
    array of exact Python ints (Newton's identities, k e_k = sum_j (-1)^(j-1) e_{k-j} p_j).
    """
    p_odd = np.asarray(p_odd, dtype=object)
    p_even = np.asarray(p_even, dtype=object)
    e = [np.ones_like(p_odd, dtype=object)]
    for k in range(1, P + 1):
        acc = np.zeros_like(p_odd, dtype=object)
        for j in range(1, k + 1):
            pj = p_odd if j % 2 == 1 else p_even
            term = e[k - j] * pj
            acc = acc + term if j % 2 == 1 else acc - term
        q = acc // k
        assert all(int(a) == int(b) * k for a, b in zip(acc.ravel(), q.ravel())), "Newton identity not exact"
        e.append(q)
    return e[P]


class HebbianNetwork:
    """Hebbian network with P-body distinct-index couplings (P = 2: Hopfield).

    Parameters
    ----------
    patterns : int array (N, K), entries in {-1, 0, +1} (0 = blank, diluted patterns)
    P : integer >= 2, the interaction order

    Attributes: ``patterns`` (int8, C order), ``N``, ``K``, ``P``, ``n`` (non-blank counts per pattern),
    ``diluted`` (whether any entry is 0).
    """

    def __init__(self, patterns, P=2):
        self.P = check_integer("P", P, low=2)
        self.patterns = check_patterns(patterns)
        self.N, self.K = self.patterns.shape
        if self.N < self.P:
            raise ParameterError("N", self.N, f"N >= P = {self.P} (a P-body term needs P distinct sites)")
        self.n = np.count_nonzero(self.patterns, axis=0).astype(np.int64)
        self.diluted = bool((self.patterns == 0).any())
        self._scale = Fraction(math.factorial(self.P), 2 * self.N ** (self.P - 1))

    def __repr__(self):
        return f"HebbianNetwork(N={self.N}, K={self.K}, P={self.P}, diluted={self.diluted})"

    # ----------------------------------------------------------------- validation
    def check_state(self, sigma, name="sigma") -> np.ndarray:
        return check_spins(sigma, self.N, name)

    def _check_site(self, i):
        return check_integer("i", i, low=0, high=self.N - 1)

    # ----------------------------------------------------------------- observables
    def overlap_sums(self, sigma) -> np.ndarray:
        """Unnormalised overlaps S_mu = xi^mu . sigma (int64, exact)."""
        s = self.check_state(sigma)
        return self.patterns.astype(np.int64).T @ s.astype(np.int64)

    def overlaps(self, sigma) -> np.ndarray:
        """Mattis overlaps m_mu = xi^mu . sigma / N."""
        return self.overlap_sums(sigma) / self.N

    def _eP_sum(self, S) -> int:
        return int(sum(elementary_symmetric_from_power_sums(S, self.n, self.P)))

    def energy(self, sigma) -> float:
        """H(sigma), evaluated exactly (integer e_P per pattern) and rounded once to float."""
        return float(-self._scale * self._eP_sum(self.overlap_sums(sigma)))

    def delta_energy(self, sigma, i) -> float:
        """H(sigma with sigma_i flipped) - H(sigma), exact difference rounded once to float."""
        s = self.check_state(sigma)
        i = self._check_site(i)
        S = self.overlap_sums(s)
        S_new = S - 2 * self.patterns[i].astype(np.int64) * int(s[i])
        return float(-self._scale * (self._eP_sum(S_new) - self._eP_sum(S)))

    def local_field(self, sigma) -> np.ndarray:
        """h_i with H = (terms without sigma_i) - sigma_i h_i, so DeltaE_i = 2 sigma_i h_i.

        H is linear in each sigma_i (distinct indices), so h_i = (H(sigma_i=-1) - H(sigma_i=+1)) / 2 is
        independent of sigma_i. P = 2: h_i = sum_{j != i} J_ij sigma_j with J_ij = (1/N) sum_mu xi_i xi_j.
        """
        s = self.check_state(sigma)
        S = self.overlap_sums(s)
        base = self._eP_sum(S)
        h = np.empty(self.N)
        for i in range(self.N):
            S_new = S - 2 * self.patterns[i].astype(np.int64) * int(s[i])
            dE = -self._scale * (self._eP_sum(S_new) - base)
            h[i] = float(dE * int(s[i]) / 2)
        return h

    def zero_temperature_dynamics(self, sigma, rng=None, *, max_sweeps=100, schedule="random", ties="random"):
        """Asynchronous T = 0 dynamics: flip sigma_i iff DeltaE_i < 0 (ties DeltaE_i = 0: flip with
        probability 1/2 if ``ties == "random"``, never if ``ties == "frozen"``).

        ``schedule``: "random" (site drawn uniformly, N proposals per sweep) or "sequential".
        Returns ``(sigma, sweeps, converged)``; converged means no site has DeltaE_i < 0 (a fixed point
        of the strict rule; with random ties a state with zero-DeltaE sites may still move).
        """
        s = self.check_state(sigma).copy()
        max_sweeps = check_integer("max_sweeps", max_sweeps, low=0)
        check_choice("schedule", schedule, ("random", "sequential"))
        check_choice("ties", ties, ("random", "frozen"))
        gen = as_generator(0 if rng is None else rng)
        S = self.overlap_sums(s)
        for sweep in range(max_sweeps):
            if self._is_fixed_point(s, S):
                return s, sweep, True
            sites = gen.integers(0, self.N, size=self.N) if schedule == "random" else range(self.N)
            for i in sites:
                S_new = S - 2 * self.patterns[i].astype(np.int64) * int(s[i])
                d = self._eP_sum(S) - self._eP_sum(S_new)  # DeltaE has the sign of d
                if d < 0 or (d == 0 and ties == "random" and gen.random() < 0.5):
                    s[i] = -s[i]
                    S = S_new
        return s, max_sweeps, self._is_fixed_point(s, S)

    def _is_fixed_point(self, s, S) -> bool:
        base = self._eP_sum(S)
        for i in range(self.N):
            S_new = S - 2 * self.patterns[i].astype(np.int64) * int(s[i])
            if base - self._eP_sum(S_new) < 0:
                return False
        return True


class RealHebbianNetwork:
    """Hebbian network with P-body distinct-index couplings and real-valued patterns (e.g. Gaussian).

    The energy of the module docstring, H = -(P! / (2 N^(P-1))) sum_mu e_P(x^mu), x_j^mu = xi_j^mu sigma_j,
    with e_P from the power sums p_k = sum_j (x_j^mu)^k by Newton's identities, all in exact rational
    arithmetic (every float64 entry is a rational; one rounding at the end). Slow and obviously right: the
    reference of :class:`montecarlo.RealPatternBatch`.

    Parameters
    ----------
    patterns : real array (N, K), finite entries
    P : integer >= 2, the interaction order
    """

    def __init__(self, patterns, P=2):
        self.P = check_integer("P", P, low=2)
        arr = np.asarray(patterns)
        if arr.ndim != 2 or min(arr.shape) < 1:
            raise ParameterError("patterns.shape", arr.shape, "(N, K) with N, K >= 1")
        if not (np.issubdtype(arr.dtype, np.number) and np.all(np.isfinite(arr))):
            raise ParameterError("patterns", "non-finite or non-numeric entries", "finite real entries")
        self.patterns = np.ascontiguousarray(arr, dtype=np.float64)
        self.N, self.K = self.patterns.shape
        if self.N < self.P:
            raise ParameterError("N", self.N, f"N >= P = {self.P} (a P-body term needs P distinct sites)")
        self._scale = Fraction(math.factorial(self.P), 2 * self.N ** (self.P - 1))
        self._xi = [[Fraction(float(v)) for v in row] for row in self.patterns]

    def __repr__(self):
        return f"RealHebbianNetwork(N={self.N}, K={self.K}, P={self.P})"

    def check_state(self, sigma, name="sigma") -> np.ndarray:
        return check_spins(sigma, self.N, name)

    def overlaps(self, sigma) -> np.ndarray:
        """Mattis overlaps m_mu = xi^mu . sigma / N."""
        s = self.check_state(sigma).astype(np.float64)
        return self.patterns.T @ s / self.N

    def _eP_sum(self, s) -> Fraction:
        total = Fraction(0)
        for mu in range(self.K):
            x = [self._xi[j][mu] * int(s[j]) for j in range(self.N)]
            p = [None] + [sum(v ** k for v in x) for k in range(1, self.P + 1)]
            e = [Fraction(1)]
            for k in range(1, self.P + 1):
                e.append(sum((-1) ** (j - 1) * e[k - j] * p[j] for j in range(1, k + 1)) / k)
            total += e[self.P]
        return total

    def energy(self, sigma) -> float:
        """H(sigma), exact rational arithmetic rounded once to float."""
        return float(-self._scale * self._eP_sum(self.check_state(sigma)))

    def delta_energy(self, sigma, i) -> float:
        """H(sigma with sigma_i flipped) - H(sigma), exact difference rounded once to float."""
        s = self.check_state(sigma)
        i = check_integer("i", i, low=0, high=self.N - 1)
        t = s.copy()
        t[i] = -t[i]
        return float(-self._scale * (self._eP_sum(t) - self._eP_sum(s)))
