"""Multitasking (diluted-pattern) Hebbian networks: patterns, couplings, conversions, the loss view.

Conventions (/work/shared/physics/multitasking.md):

- Patterns xi^mu in {-1, 0, +1}^N, mu = 1..K, i.i.d. entries with P(0) = d, P(+1) = P(-1) = (1-d)/2
  (d = dilution; d = 0 is the Hopfield model); int8 arrays of shape (N, K), spin-major, as
  :func:`hopfield.patterns.random_patterns`. E[xi] = 0, E[xi^2] = E[xi^4] = 1 - d.
- Normalisation ("1/N", the package default): J_ij = (1/N) sum_mu xi_i^mu xi_j^mu (i != j), J_ii = 0,

      H(sigma) = -(1/(2N)) sum_{i != j} sum_mu xi_i^mu xi_j^mu sigma_i sigma_j
               = -(N/2) sum_mu m_mu^2 + (1/(2N)) sum_mu n_mu,

  m_mu = (1/N) xi^mu . sigma (|m_mu| <= 1-d as N -> infinity), n_mu = number of non-blank entries of
  pattern mu. This is :class:`hopfield.hebbian.HebbianNetwork` at P = 2.
- Rescaled convention ("1/(N(1-d))"): J = sum_mu xi xi / (N(1-d)), overlaps mtilde = m/(1-d) in [-1, 1];
  every temperature T -> T/(1-d), every overlap m -> m/(1-d) (:func:`to_rescaled`, :func:`from_rescaled`).
  Dilution thresholds (2/3, d_c(K), d*) are unchanged.

Loss view (spec Section 6.3). With L_mu(sigma) = ||xi^mu - sigma||^2 / (2N) (full-vector sum-squared
error) and c_mu = (n_mu/N + 1)/2 (its chance value, -> (2-d)/2):

    L_mu = c_mu - m_mu                                                  (exact, any sigma)
    H(sigma) = -(N/2) sum_mu (c_mu - L_mu)^2 + (1/(2N)) sum_mu n_mu    (exact)

so H/N = -(1/2) sum_mu ((2-d)/2 - L_mu)^2 + O(K/N): in the retrieval region (all m_mu > 0) lowering H
lowers every L_mu, i.e. the K losses are minimised in parallel.
"""
from __future__ import annotations

import numpy as np

from .patterns import as_generator, check_patterns, random_patterns
from .validation import ParameterError, check_array_real, check_choice, check_integer, check_real

__all__ = ["NORMALISATIONS", "diluted_patterns", "couplings", "overlaps", "energy", "delta_energy",
           "local_fields", "losses", "loss_chance", "energy_from_losses", "to_rescaled", "from_rescaled",
           "hierarchical_configuration", "learning_local_fields", "diluted_examples"]

NORMALISATIONS = ("N", "N(1-d)")


def _check_state(sigma, N, name="sigma"):
    s = np.asarray(sigma)
    if s.dtype == bool:
        raise ParameterError(name + ".dtype", s.dtype, "integer or float entries +-1 (not bool)")
    if s.shape != (N,):
        raise ParameterError(name + ".shape", s.shape, f"({N},)")
    if not np.isin(s, (-1, 1)).all():
        raise ParameterError(name, s[~np.isin(s, (-1, 1))][0], "entries in {-1, +1}")
    return s.astype(np.int64)


def _check_d(d):
    return check_real("d", d, low=0.0, high=1.0, high_open=True)


def diluted_patterns(N, K, d, rng=0) -> np.ndarray:
    """K diluted patterns on N neurons: int8 (N, K), P(0) = d, P(+-1) = (1-d)/2 each."""
    N = check_integer("N", N, low=1)
    K = check_integer("K", K, low=1)
    d = _check_d(d)
    return random_patterns(N, K, as_generator(rng), dilution=d)


def _scale(N, d, normalisation):
    """1/N, or 1/(N(1-d)) for "N(1-d)". A given d is validated under either normalisation (it is
    only used by "N(1-d)")."""
    check_choice("normalisation", normalisation, NORMALISATIONS)
    if d is not None:
        d = _check_d(d)
    if normalisation == "N":
        return 1.0 / N
    if d is None:
        raise ParameterError("d", d, "a dilution 0 <= d < 1 for normalisation 'N(1-d)'")
    return 1.0 / (N * (1.0 - _check_d(d)))


def couplings(patterns, *, normalisation="N", d=None) -> np.ndarray:
    """Dense coupling matrix J (N, N) with zero diagonal: (1/N) sum_mu xi xi (default) or
    sum_mu xi xi / (N(1-d)) ("N(1-d)", needs the nominal dilution d). For small N (tests, references)."""
    xi = check_patterns(patterns).astype(np.float64)
    N = xi.shape[0]
    J = (xi @ xi.T) * _scale(N, d, normalisation)
    np.fill_diagonal(J, 0.0)
    return J


def overlaps(patterns, sigma) -> np.ndarray:
    """Mattis overlaps m_mu = (1/N) xi^mu . sigma, (K,)."""
    xi = check_patterns(patterns)
    s = _check_state(sigma, xi.shape[0])
    return (xi.T.astype(np.int64) @ s) / xi.shape[0]


def energy(patterns, sigma, *, normalisation="N", d=None) -> float:
    """H(sigma) = -(N/2) sum_mu m_mu^2 + sum_mu n_mu/(2N) (1/N convention; self-term removed), times
    1/(1-d) for the "N(1-d)" convention (d, 0 <= d < 1, is used only there but validated whenever
    given). O(N K)."""
    xi = check_patterns(patterns)
    N = xi.shape[0]
    s = _check_state(sigma, N)
    scale = _scale(N, d, normalisation)
    S = xi.T.astype(np.int64) @ s
    n = np.count_nonzero(xi, axis=0).astype(np.int64)
    return float(-(0.5 * (S @ S - n.sum())) * scale)


def local_fields(patterns, sigma) -> np.ndarray:
    """h_i = sum_{j != i} J_ij sigma_j = sum_mu xi_i^mu m_mu - (sum_mu (xi_i^mu)^2) sigma_i / N (1/N convention)."""
    xi = check_patterns(patterns)
    N = xi.shape[0]
    s = _check_state(sigma, N)
    S = xi.T.astype(np.int64) @ s
    return (xi.astype(np.int64) @ S - np.count_nonzero(xi, axis=1) * s) / N


def delta_energy(patterns, sigma, i) -> float:
    """H(sigma with sigma_i flipped) - H(sigma) = 2 sigma_i h_i."""
    xi = check_patterns(patterns)
    i = check_integer("i", i, low=0, high=xi.shape[0] - 1)
    s = _check_state(sigma, xi.shape[0])
    return float(2 * s[i] * local_fields(xi, s)[i])


def losses(patterns, sigma) -> np.ndarray:
    """Sum-squared errors L_mu = ||xi^mu - sigma||^2 / (2N), (K,)."""
    xi = check_patterns(patterns).astype(np.int64)
    s = _check_state(sigma, xi.shape[0])
    return ((xi - s[:, None]) ** 2).sum(axis=0) / (2.0 * xi.shape[0])


def loss_chance(patterns=None, *, d=None):
    """Chance value c_mu = (n_mu/N + 1)/2 of L_mu (L_mu = c_mu - m_mu exactly): from the patterns, (K,);
    or its large-N value (2-d)/2 from a dilution d."""
    if patterns is not None:
        xi = check_patterns(patterns)
        return 0.5 * (np.count_nonzero(xi, axis=0) / xi.shape[0] + 1.0)
    if d is None:
        raise ParameterError("d", d, "patterns or a dilution 0 <= d < 1")
    return (2.0 - _check_d(d)) / 2.0


def energy_from_losses(patterns, sigma) -> float:
    """H(sigma) through the losses: -(N/2) sum_mu (c_mu - L_mu)^2 + sum_mu n_mu/(2N) (exact identity;
    equals :func:`energy` and ``HebbianNetwork(patterns).energy``)."""
    xi = check_patterns(patterns)
    N = xi.shape[0]
    L = losses(xi, sigma)
    c = loss_chance(xi)
    n = np.count_nonzero(xi, axis=0)
    return float(-0.5 * N * ((c - L) ** 2).sum() + n.sum() / (2.0 * N))


def _convert(d, T, m, to):
    """T and m (scalars or arrays) times (1-d)^(-1) (to the rescaled convention) or (1-d); T >= 0, m finite."""
    d = _check_d(d)
    T = None if T is None else check_array_real("T", T, low=0.0)
    m = None if m is None else check_array_real("m", m)
    f = 1.0 / (1.0 - d) if to else 1.0 - d
    return (None if T is None else T * f), (None if m is None else m * f)


def to_rescaled(d, *, T=None, m=None):
    """1/N convention -> rescaled 1/(N(1-d)) convention: T/(1-d), m/(1-d). Returns (T', m') (None kept)."""
    return _convert(d, T, m, True)


def from_rescaled(d, *, T=None, m=None):
    """Rescaled 1/(N(1-d)) convention -> 1/N convention: T (1-d), m (1-d)."""
    return _convert(d, T, m, False)


def hierarchical_configuration(patterns, rng=0) -> np.ndarray:
    """sigma_i = xi_i^{k(i)}, k(i) the first mu with xi_i^mu != 0 (pattern order = hierarchy order);
    random +-1 where all K entries are blank. int8 (N,)."""
    xi = check_patterns(patterns)
    gen = as_generator(rng)
    nz = xi != 0
    first = np.argmax(nz, axis=1)
    s = xi[np.arange(xi.shape[0]), first].astype(np.int8)
    blank = ~nz.any(axis=1)
    s[blank] = (2 * gen.integers(0, 2, size=int(blank.sum())) - 1).astype(np.int8)
    return s


def learning_local_fields(archetypes, examples, sigma, r) -> dict:
    """Supervised and unsupervised local fields of the learning version (spec Section 2.2, P = 2, 1/(N R)
    normalisation with R = r^2 (1+rho)) at a configuration sigma, self-terms removed:

        h^sup_i = (1/(N R)) sum_mu xibar_i^mu sum_{j != i} xibar_j^mu sigma_j,        xibar = (1/M) sum_a eta^{mu,a}
        h^uns_i = (1/(N M R)) sum_{mu,a} eta_i^{mu,a} sum_{j != i} eta_j^{mu,a} sigma_j

    ``examples``: int (N, K, M) in {-1, 0, +1} (eta = chi xi; blanks of the archetype stay blank);
    ``r``: the nominal example quality. In low storage the two agree up to O(N^-1/2) for any sigma that
    depends on the examples only through xibar (spec 6.1). Returns {"supervised", "unsupervised", "rho", "R"}."""
    xi = check_patterns(archetypes, "archetypes")
    eta = np.asarray(examples)
    if eta.ndim != 3 or eta.shape[:2] != xi.shape or not np.isin(eta, (-1, 0, 1)).all():
        raise ParameterError("examples", f"array of shape {eta.shape}",
                             f"an int array (N, K, M) = ({xi.shape[0]}, {xi.shape[1]}, M) with entries in {{-1, 0, 1}}")
    N, K, M = eta.shape
    r = check_real("r", r, low=0.0, high=1.0, low_open=True)
    s = _check_state(sigma, N).astype(np.float64)
    rho = (1 - r * r) / (M * r * r)
    R = r * r * (1 + rho)
    e = eta.astype(np.float64)
    xb = e.mean(axis=2)
    hs = (xb @ (xb.T @ s) - (xb ** 2).sum(axis=1) * s) / (N * R)
    q = np.einsum("ika,i->ka", e, s)
    hu = (np.einsum("ika,ka->i", e, q) - (e ** 2).sum(axis=(1, 2)) * s) / (N * M * R)
    return {"supervised": hs, "unsupervised": hu, "rho": rho, "R": R}


def diluted_examples(archetypes, M, r, rng=0) -> np.ndarray:
    """Examples eta^{mu,a} = chi^{mu,a} xi^mu (N, K, M) int8, P(chi = +1) = (1+r)/2; blanks stay blank."""
    xi = check_patterns(archetypes, "archetypes")
    M = check_integer("M", M, low=1)
    r = check_real("r", r, low=0.0, high=1.0)
    gen = as_generator(rng)
    flip = gen.random(size=xi.shape + (M,)) >= (1.0 + r) / 2.0
    return np.ascontiguousarray(np.where(flip, -xi[:, :, None], xi[:, :, None]).astype(np.int8))
