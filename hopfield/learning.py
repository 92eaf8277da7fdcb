"""Dense Hebbian networks that learn from examples (supervised and unsupervised): numpy references.

Conventions (learning.md, section 0):

- Archetypes xi^mu in {-1,+1}^N, mu = 1..K, stored spin-major as int8 arrays of shape (N, K).
- Examples eta_i^{mu,a} = chi_i^{mu,a} xi_i^mu, a = 1..M, chi i.i.d. with P(chi = +1) = (1+r)/2.
  **Layout**: int8 array of shape (N, K, M), C-contiguous ("spin-major"): row i (``eta[i]``, viewed as
  K*M contiguous bytes, mu-major then a) holds every entry a single-site proposal at neuron i reads.
- Example sums Mbar_i^mu = sum_a eta_i^{mu,a} = M etabar_i^mu: exact integers in [-M, M], int16 (N, K).
- Dataset entropy rho = (1 - r^2)/(M r^2), r = (1 + rho M)^(-1/2), R = r^2 + (1 - r^2)/M = r^2 (1 + rho).
- P even >= 2, distinct-index ("no self-interaction") P-body terms, ordered P-tuples of distinct sites:

      H_sup = -1/(2 R^{P/2} N^{P-1}) sum_mu sum_{distinct} prod_k etabar^mu_{i_k} sigma_{i_k}
            = -(P! / (2 R^{P/2} M^P N^{P-1})) sum_mu e_P(Mbar^mu * sigma)
      H_uns = -1/(2 R^{P/2} M N^{P-1}) sum_{mu,a} sum_{distinct} prod_k eta^{mu,a}_{i_k} sigma_{i_k}
            = -(P! / (2 R^{P/2} M N^{P-1})) sum_{mu,a} e_P(eta^{mu,a} * sigma)

  with e_P the elementary symmetric polynomial. The P-body tensor is never built: e_P follows from the
  power sums p_k = sum_j x_j^k by Newton's identities (k e_k = sum_j (-1)^(j-1) e_{k-j} p_j), evaluated in
  exact integer arithmetic (Python ints) for the integer vectors x = Mbar * sigma (supervised) and
  x = eta * sigma (unsupervised); the single irrational factor R^{-P/2} is applied once at the end.
  At P = 2 these are J_ij = (1/(R N)) sum_mu etabar_i etabar_j (supervised) and
  J_ij = (1/(R N M)) sum_{mu,a} eta_i eta_j (unsupervised), J_ii = 0, H = -(1/2) sum_{ij} J_ij s_i s_j.

Order parameters (learning.md 2.4): archetype overlaps m_mu = xi^mu . sigma / N; example-mean overlaps
n_mu = (r / (R N)) sum_i etabar_i^mu sigma_i (-> 1/(1+rho) at sigma = xi^mu); s_mu = (1+rho) n_mu
= etabar^mu . sigma / (r N); per-example overlaps n_{mu,a} = eta^{mu,a} . sigma / N.

The classes also take diluted data, entries in {-1, 0, +1} (the learning version of the multitasking
network, multitasking.md 2.2: eta = chi xi, blanks of xi stay blank): the same e_P formulas, whose
distinct-index sums simply see the zeros.

These classes are slow and obviously right; they are the references of the numba kernels in
:mod:`montecarlo.learning`.
"""
from __future__ import annotations

import abc
import math
from fractions import Fraction

import numpy as np

from .patterns import as_generator, check_patterns
from .validation import ParameterError, check_integer, check_real, check_spins

__all__ = ["rho_from_r", "r_from_rho", "R_from_r", "resolve_quality", "make_examples", "make_dataset",
           "example_sums", "check_examples", "check_archetypes", "estimate_quality", "elementary_symmetric_int",
           "SupervisedNetwork", "UnsupervisedNetwork"]


# --------------------------------------------------------------------------- dataset parameters
def rho_from_r(r, M) -> float:
    """rho = (1 - r^2) / (M r^2) (r in (0, 1], M >= 1)."""
    r = check_real("r", r, low=0.0, high=1.0, low_open=True)
    M = check_integer("M", M, low=1)
    return (1.0 - r * r) / (M * r * r)


def r_from_rho(rho, M) -> float:
    """r = (1 + rho M)^(-1/2) (rho >= 0, M >= 1): the inverse of :func:`rho_from_r`."""
    rho = check_real("rho", rho, low=0.0)
    M = check_integer("M", M, low=1)
    return 1.0 / math.sqrt(1.0 + rho * M)


def R_from_r(r, M) -> float:
    """R = r^2 + (1 - r^2)/M = r^2 (1 + rho) = E[(etabar_i)^2]."""
    r = check_real("r", r, low=0.0, high=1.0, low_open=True)
    M = check_integer("M", M, low=1)
    return r * r + (1.0 - r * r) / M


def resolve_quality(M, r=None, rho=None):
    """Exactly one of (r, rho) given: return (r, rho, R) for M examples per archetype."""
    M = check_integer("M", M, low=1)
    if (r is None) == (rho is None):
        raise ParameterError("r/rho", (r, rho), "exactly one of r (quality) and rho (dataset entropy)")
    if r is None:
        r = r_from_rho(rho, M)
    r = check_real("r", r, low=0.0, high=1.0, low_open=True)
    return r, rho_from_r(r, M), R_from_r(r, M)


# --------------------------------------------------------------------------- datasets
def check_examples(examples, name="examples", blanks=False) -> np.ndarray:
    """Validate an example array: int (N, K, M), N, K, M >= 1, entries +-1 (or in {-1, 0, +1} with
    ``blanks``: the diluted examples of the multitasking learning version); return int8 C-contiguous."""
    arr = np.asarray(examples)
    allowed = (-1, 0, 1) if blanks else (-1, 1)
    text = "{-1, 0, +1}" if blanks else "{-1, +1}"
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ParameterError(name + ".shape", arr.shape, "a 3-D shape (N, K, M) with N, K, M >= 1")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ParameterError(name + ".dtype", arr.dtype, f"an integer array (int8) with entries in {text}")
    bad = ~np.isin(arr, allowed)
    if bad.any():
        raise ParameterError(name, arr[bad].ravel()[0], f"entries in {text}")
    return np.ascontiguousarray(arr, dtype=np.int8)


def check_archetypes(archetypes, name="archetypes", blanks=False) -> np.ndarray:
    """Validate archetypes of the learning models: int (N, K), entries +-1 (learning.md 1: xi^mu in
    {-1,+1}^N), or in {-1, 0, +1} with ``blanks`` (multitasking.md 2.2: diluted archetypes); return
    int8 C-contiguous."""
    xi = check_patterns(archetypes, name)
    bad = xi == 0
    if bad.any() and not blanks:
        i, k = (int(v[0]) for v in np.nonzero(bad))
        raise ParameterError(f"{name}[{i}, {k}]", 0, "entries in {-1, +1} (no blanks)")
    return xi


def make_examples(archetypes, M, r, rng) -> np.ndarray:
    """M noisy examples of each archetype: eta_i^{mu,a} = chi_i^{mu,a} xi_i^mu, P(chi = +1) = (1 + r)/2.

    ``archetypes``: +-1 int array (N, K). Returns int8 (N, K, M), C-contiguous (layout: module docstring).
    Exactly one uniform per entry is drawn, in C order of (N, K, M).
    """
    xi = check_archetypes(archetypes)
    M = check_integer("M", M, low=1)
    r = check_real("r", r, low=0.0, high=1.0)
    gen = as_generator(rng)
    N, K = xi.shape
    flip = gen.random(size=(N, K, M)) >= (1.0 + r) / 2.0  # chi = -1 with probability (1 - r)/2
    eta = np.where(flip, -xi[:, :, None], xi[:, :, None]).astype(np.int8)
    return np.ascontiguousarray(eta)


def make_dataset(N, K, M, *, r=None, rho=None, rng=0):
    """Random archetypes (N, K) and their examples (N, K, M) from one generator (archetypes first)."""
    from .patterns import random_patterns
    r, _, _ = resolve_quality(M, r, rho)
    gen = as_generator(rng)
    xi = random_patterns(N, K, gen)
    return xi, make_examples(xi, M, r, gen)


def example_sums(examples) -> np.ndarray:
    """Mbar_i^mu = sum_a eta_i^{mu,a} = M etabar_i^mu: int16 (N, K), exact integers in [-M, M]."""
    eta = check_examples(examples, blanks=True)
    if eta.shape[2] >= 2 ** 15:
        raise ParameterError("M", eta.shape[2], "M < 32768 (int16 example sums)")
    return np.ascontiguousarray(eta.sum(axis=2, dtype=np.int64).astype(np.int16))


def estimate_quality(examples, archetypes) -> float:
    """Empirical quality r_hat = mean over (i, mu, a) of eta_i^{mu,a} xi_i^mu (structured data)."""
    eta = check_examples(examples)
    xi = check_archetypes(archetypes)
    if xi.shape != eta.shape[:2]:
        raise ParameterError("archetypes.shape", xi.shape, f"{eta.shape[:2]} matching the examples")
    return float((eta.astype(np.int64) * xi[:, :, None]).mean())


def elementary_symmetric_int(x, P: int) -> list:
    """Exact e_P of each column of the integer matrix x (n, K): a list of K Python ints.

    Power sums p_k = sum_j x_j^k (exact, Python ints), then Newton's identities with exact division.
    """
    x = np.asarray(x, dtype=object)
    K = x.shape[1]
    out = []
    for mu in range(K):
        col = [int(v) for v in x[:, mu]]
        p = [None] + [sum(v ** k for v in col) for k in range(1, P + 1)]
        e = [1]
        for k in range(1, P + 1):
            acc = 0
            for j in range(1, k + 1):
                acc += (-1) ** (j - 1) * e[k - j] * p[j]
            if acc % k:
                raise AssertionError("Newton identity not exact")  # pragma: no cover
            e.append(acc // k)
        out.append(e[P])
    return out


def _check_P(P):
    P = check_integer("P", P, low=2, high=12)
    if P % 2:
        raise ParameterError("P", P, "an even integer >= 2 (learning models)")
    return P


# --------------------------------------------------------------------------- reference models
class _LearningNetwork(abc.ABC):
    """Common part: examples, (r, rho, R), archetypes (optional), state checks, overlaps."""

    def __init__(self, examples, P, *, r=None, rho=None, archetypes=None):
        self.P = _check_P(P)
        self.examples = check_examples(examples, blanks=True)
        self.N, self.K, self.M = self.examples.shape
        if self.N < self.P:
            raise ParameterError("N", self.N, f"N >= P = {self.P} (a P-body term needs P distinct sites)")
        self.r, self.rho, self.R = resolve_quality(self.M, r, rho)
        self.Mbar = example_sums(self.examples)
        if archetypes is not None:
            xi = check_archetypes(archetypes, blanks=True)
            if xi.shape != (self.N, self.K):
                raise ParameterError("archetypes.shape", xi.shape, f"({self.N}, {self.K})")
            self.archetypes = xi
        else:
            self.archetypes = None

    def check_state(self, sigma, name="sigma") -> np.ndarray:
        return check_spins(sigma, self.N, name)

    def _check_site(self, i):
        return check_integer("i", i, low=0, high=self.N - 1)

    # ------------------------------------------------------------ overlaps
    def archetype_overlaps(self, sigma) -> np.ndarray:
        """m_mu = xi^mu . sigma / N (needs the archetypes)."""
        if self.archetypes is None:
            raise ParameterError("archetypes", None, "an (N, K) array given to the constructor")
        s = self.check_state(sigma).astype(np.int64)
        return (self.archetypes.astype(np.int64).T @ s) / self.N

    def example_mean_overlaps(self, sigma) -> np.ndarray:
        """n_mu = (r / (R N)) sum_i etabar_i^mu sigma_i (-> 1/(1+rho) at sigma = xi^mu)."""
        s = self.check_state(sigma).astype(np.int64)
        return self.r * (self.Mbar.astype(np.int64).T @ s) / (self.M * self.R * self.N)

    def s_overlaps(self, sigma) -> np.ndarray:
        """s_mu = (1 + rho) n_mu = etabar^mu . sigma / (r N) (drives the dynamics; -> m_mu as rho -> 0)."""
        s = self.check_state(sigma).astype(np.int64)
        return (self.Mbar.astype(np.int64).T @ s) / (self.M * self.r * self.N)

    def example_overlaps(self, sigma) -> np.ndarray:
        """Per-example overlaps n_{mu,a} = eta^{mu,a} . sigma / N, shape (K, M)."""
        s = self.check_state(sigma).astype(np.int64)
        return np.einsum("ikm,i->km", self.examples.astype(np.int64), s) / self.N

    def overlaps(self, sigma) -> dict:
        """All order parameters: m (if archetypes known), n, s, n_examples."""
        out = {"n": self.example_mean_overlaps(sigma), "s": self.s_overlaps(sigma),
               "n_examples": self.example_overlaps(sigma)}
        if self.archetypes is not None:
            out["m"] = self.archetype_overlaps(sigma)
        return out

    # ------------------------------------------------------------ energy
    @abc.abstractmethod
    def _vectors(self):
        """Integer vectors a (n, K') entering e_P, one column per term of the mu sum."""

    def _eP_total(self, s) -> int:
        x = self._vectors() * s.astype(np.int64)[:, None]
        return sum(elementary_symmetric_int(x, self.P))

    def energy(self, sigma) -> float:
        """H(sigma) (distinct indices), exact integer e_P then one float rounding and the R^{-P/2} factor."""
        s = self.check_state(sigma)
        return float(-self._scale * self._eP_total(s)) / self.R ** (self.P / 2)

    def delta_energy(self, sigma, i) -> float:
        """H(sigma with sigma_i flipped) - H(sigma) (exact integer difference, rounded once)."""
        s = self.check_state(sigma)
        i = self._check_site(i)
        t = s.copy()
        t[i] = -t[i]
        return float(-self._scale * (self._eP_total(t) - self._eP_total(s))) / self.R ** (self.P / 2)

    def local_field(self, sigma) -> np.ndarray:
        """h_i with DeltaE_i = 2 sigma_i h_i (H is linear in each sigma_i: h_i does not depend on sigma_i)."""
        s = self.check_state(sigma)
        return np.array([self.delta_energy(s, i) * int(s[i]) / 2.0 for i in range(self.N)])

    def couplings(self) -> np.ndarray:
        """P = 2 only: the coupling matrix J (N, N) with J_ii = 0 (small N; for tests and inspection)."""
        if self.P != 2:
            raise ParameterError("P", self.P, "2 (couplings exist only for the pairwise model)")
        a = self._vectors().astype(np.float64)
        J = a @ a.T / (self._norm2 * self.R * self.N)
        np.fill_diagonal(J, 0.0)
        return J


class SupervisedNetwork(_LearningNetwork):
    """Supervised dense Hebbian network: H_sup built on the example means etabar^mu (module docstring).

    Parameters
    ----------
    examples : int array (N, K, M), entries +-1 (or {-1, 0, +1}: diluted data) (layout of :func:`make_examples`)
    P : even interaction order >= 2
    r, rho : the dataset quality or entropy (exactly one; fixes the normalisation R = r^2 (1 + rho));
        for structured data use e.g. ``r=estimate_quality(examples, archetypes)``
    archetypes : optional array (N, K) (entries +-1, or {-1, 0, +1}) for the archetype overlaps m_mu
    """

    def __init__(self, examples, P=2, *, r=None, rho=None, archetypes=None):
        super().__init__(examples, P, r=r, rho=rho, archetypes=archetypes)
        self._scale = Fraction(math.factorial(self.P), 2 * self.M ** self.P * self.N ** (self.P - 1))
        self._norm2 = self.M ** 2  # couplings: a = Mbar = M etabar

    def __repr__(self):
        return f"SupervisedNetwork(N={self.N}, K={self.K}, M={self.M}, P={self.P}, r={self.r:.4g})"

    def _vectors(self):
        return self.Mbar.astype(np.int64)


class UnsupervisedNetwork(_LearningNetwork):
    """Unsupervised dense Hebbian network: H_uns built on every example eta^{mu,a} (module docstring).

    Parameters as :class:`SupervisedNetwork`.
    """

    def __init__(self, examples, P=2, *, r=None, rho=None, archetypes=None):
        super().__init__(examples, P, r=r, rho=rho, archetypes=archetypes)
        self._scale = Fraction(math.factorial(self.P), 2 * self.M * self.N ** (self.P - 1))
        self._norm2 = self.M

    def __repr__(self):
        return f"UnsupervisedNetwork(N={self.N}, K={self.K}, M={self.M}, P={self.P}, r={self.r:.4g})"

    def _vectors(self):
        return self.examples.reshape(self.N, self.K * self.M).astype(np.int64)
