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

Dense Hebbian learning (learning.md, conventions block). Package: H = -(N / (2 R^(P/2))) sum_mu v_mu^P with
R = r^2 (1 + rho). With another prefactor N_s in place of R^(P/2) (r^P or (r (1 + rho))^P in the literature),
kappa = r^P / N_s ((1 + rho)^(-P/2), 1 or (1 + rho)^(-P)) and the same Gibbs weights need
T_x = T kappa_x (1 + rho)^(P/2) (:func:`learning_temperature`); the teaching-code glassy noise with c = 2 has the
load alpha_C = alpha P!/2 (:func:`c2_load`). Zero-temperature results are unchanged.

Modern Hopfield networks (modern.md, conventions block and Section 0). Package: lambda multiplies the raw
dot product of vectors of squared norm N, E_LSE = -(1/lambda) ln sum_mu exp(lambda xi^mu . sigma),
K = e^(alpha N); polynomial H_n = -(1/(2 N^(n-1))) sum_mu F(xi^mu . sigma); bath weight exp(-E/T).
  - Ramsauer et al.: beta_R = lambda for patterns of norm sqrt(N), beta_R = lambda N for unit-norm
    patterns and states (:func:`ramsauer_beta`); their d = N, N = K, M = M_max.
  - a per-site exponent (lambda'/N) xi . x: lambda' = lambda N (:func:`per_site_lambda`).
  - Lucibello-Mezard: the same lambda; their P = e^(alpha N) = K (:func:`lm_pattern_count`).
  - Petrova et al. / Polyachenko: H = -(1/beta_net) ln sum_mu exp(-(beta_net/2) |x - xi^mu|^2) = N + E_sph
    on the sphere |x|^2 = |xi|^2 = N, with beta_net = lambda (:func:`petrova_energy`).
  - polynomial energies: Krotov-Hopfield's raw E_KH = -sum_mu F(xi^mu . sigma) = 2 N^(n-1) H_n, so
    T_KH = 2 N^(n-1) T; Petrova et al.'s H_k = -N^(1-k) sum_mu (x . xi^mu)^k = 2 H_n, so T_lit = 2 T
    (:func:`polynomial_temperature`). Zero-temperature results are unchanged by all of these.
"""
from __future__ import annotations

import math

import numpy as np

from hopfield.validation import ParameterError, check_array_real, check_choice, check_integer, check_real

__all__ = ["P_MAX", "to_factorial_convention", "from_factorial_convention", "temperature_factor", "load_factor",
           "ramsauer_beta", "lambda_from_ramsauer", "per_site_lambda", "lm_pattern_count", "lm_alpha",
           "petrova_energy", "polynomial_temperature", "POLYNOMIAL_CONVENTIONS", "LEARNING_PREFACTORS",
           "learning_kappa", "learning_temperature", "c2_load"]

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


# ------------------------------------------------------------------------------------------------
# dense Hebbian learning (learning.md)

#: Hamiltonian prefactors N_s of dense Hebbian learning: the package's R^(P/2), and r^P, (r (1 + rho))^P
LEARNING_PREFACTORS = ("R^(P/2)", "r^P", "(r(1+rho))^P")


def learning_kappa(P, rho, prefactor) -> float:
    """kappa = r^P / N_s for the prefactor N_s (LEARNING_PREFACTORS): (1 + rho)^(-P/2), 1, (1 + rho)^(-P)."""
    P = _check_P(P)
    rho = check_real("rho", rho, low=0.0)
    prefactor = check_choice("prefactor", prefactor, LEARNING_PREFACTORS)
    return {"R^(P/2)": (1.0 + rho) ** (-P / 2), "r^P": 1.0, "(r(1+rho))^P": (1.0 + rho) ** (-P)}[prefactor]


def learning_temperature(T, P, rho, prefactor):
    """The temperature, in the convention with Hamiltonian prefactor N_s, that gives the package's Gibbs weights
    exp(-H/T): T_x = T kappa_x (1 + rho)^(P/2) = T R^(P/2) / N_s (T_x = T for the package's own prefactor)."""
    Ta = check_array_real("T", T, low=0.0)
    return _out(Ta * learning_kappa(P, rho, prefactor) * (1.0 + float(rho)) ** (P / 2), T)


def c2_load(alpha, P):
    """The load alpha_C of the c = 2 glassy-noise convention (noise beta sqrt(alpha_C (P/2) q^(P-1))) for the
    package's alpha (c = P!): alpha_C = alpha P!/2 (12 alpha at P = 4)."""
    aa = check_array_real("alpha", alpha, low=0.0)
    return _out(aa * math.factorial(_check_P(P)) / 2.0, alpha)


# ------------------------------------------------------------------------------------------------
# modern Hopfield networks (modern.md)

def _unit_factor(N, unit_norm):
    if not isinstance(unit_norm, (bool, np.bool_)):
        raise ParameterError("unit_norm", unit_norm, "True or False")
    return float(check_integer("N", N, low=1)) if unit_norm else 1.0


def ramsauer_beta(lam, N, unit_norm=False):
    """Ramsauer et al.'s beta of the update x <- X softmax(beta X^T x) for the package's lambda: beta_R = lambda
    for patterns of norm sqrt(N) (the package's), beta_R = lambda N for unit-norm patterns and states."""
    la = check_array_real("lambda", lam, low=0.0, low_open=True)
    return _out(la * _unit_factor(N, unit_norm), lam)


def lambda_from_ramsauer(beta_R, N, unit_norm=False):
    """Inverse of :func:`ramsauer_beta`."""
    ba = check_array_real("beta_R", beta_R, low=0.0, low_open=True)
    return _out(ba / _unit_factor(N, unit_norm), beta_R)


def per_site_lambda(lam, N):
    """lambda' of a per-site exponent (lambda'/N) xi . x (e.g. beta/N in some code bases): lambda' = lambda N."""
    la = check_array_real("lambda", lam, low=0.0, low_open=True)
    return _out(la * check_integer("N", N, low=1), lam)


def lm_pattern_count(alpha, N) -> float:
    """Lucibello-Mezard's P (the package's K) at load alpha: P = e^(alpha N) (their lambda is the package's)."""
    aa = check_array_real("alpha", alpha, low=0.0)
    return _out(np.exp(aa * check_integer("N", N, low=1)), alpha)


def lm_alpha(P, N):
    """Inverse of :func:`lm_pattern_count`: alpha = ln(P) / N."""
    Pa = check_array_real("P", P, low=1.0)
    return _out(np.log(Pa) / check_integer("N", N, low=1), P)


def petrova_energy(E_sph, N):
    """Petrova et al.'s H = -(1/beta_net) ln sum_mu exp(-(beta_net/2) |x - xi^mu|^2) from the package's spherical
    energy E_sph = -(1/lambda) ln sum_mu exp(lambda x . xi^mu) (|x|^2 = |xi^mu|^2 = N, beta_net = lambda): H = N + E_sph."""
    Ea = check_array_real("E_sph", E_sph)
    return _out(Ea + check_integer("N", N, low=1), E_sph)


#: polynomial-DAM energy conventions and their energy factor over the package's H_n (n = interaction order)
POLYNOMIAL_CONVENTIONS = ("krotov_hopfield", "petrova")


def polynomial_temperature(T, N, n, convention):
    """The bath temperature, in another polynomial-DAM energy convention, that gives the package's Gibbs weights
    exp(-H_n / T): Krotov-Hopfield's raw E_KH = 2 N^(n-1) H_n gives T_KH = 2 N^(n-1) T; Petrova et al.'s
    H_k = 2 H_n (k = n) gives T_lit = 2 T."""
    Ta = check_array_real("T", T, low=0.0)
    N = check_integer("N", N, low=1)
    n = check_integer("n", n, low=2, high=30)
    convention = check_choice("convention", convention, POLYNOMIAL_CONVENTIONS)
    factor = 2.0 * float(N) ** (n - 1) if convention == "krotov_hopfield" else 2.0
    return _out(Ta * factor, T)
