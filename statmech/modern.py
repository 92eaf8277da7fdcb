"""Closed-form theory of modern Hopfield networks / dense associative memories (modern.md).

Conventions: lambda is the energy parameter (LSE sharpness, K = e^{alpha N}); T the bath temperature.
All functions validate their inputs (ParameterError) before any work.

- REM noise analysis (modern.md 3.2): free energy of the non-target softmax terms per site,
  phi(alpha, lambda) = alpha + ln E e^{lambda q N}/N (uncondensed) or lambda q_max with I(q_max) = alpha
  (condensed); typical-pattern threshold alpha_1(lambda): lambda = phi(alpha_1, lambda).
- Binary: alpha_1 = lambda - ln cosh lambda, condensation alpha = lambda tanh lambda - ln cosh lambda.
- Gaussian: alpha_1 = lambda - lambda^2/2 (lambda <= 1), 1/2 (lambda >= 1).
- Spherical: alpha_1 = lambda - g(lambda), g = (1/2) ln(1 - phi*^2) + lambda phi*,
  phi* = (sqrt(1 + 4 lambda^2) - 1)/(2 lambda).
- Finite T: binary spinodal alpha_sp(T; lambda) (modern.md 4.3); Petrova et al. phi_LSE(T), f_ret,
  alpha_c^LSE(T) and the LSR kernel's alpha_th(b), phi_LSR(T), alpha_c^LSR(T), T_max(b) (4.1); Polyachenko spinodal T_sp and alpha_c(beta_net, T) (4.2). Both spinodals are one
  statement, lambda m_eq(T) = phi(alpha, lambda) (retrieval minimum at the cusp of the landscape), with
  m_eq = tanh(1/T) (binary) or phi_LSE(T) (spherical): :func:`spinodal_alpha`, :func:`spinodal_T`.
- Capacity formulas: Demircigil alpha < I(1 - 2 rho)/2; Krotov-Hopfield K_max = N^{n-1}/(2 (2n-3)!! ln N);
  Ramsauer Thm 3 constant c.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import lambertw

from hopfield.validation import ParameterError, check_choice, check_integer, check_real

__all__ = [
    "rate_function", "noise_free_energy", "alpha_1", "alpha_1_numeric", "condensation_alpha",
    "binary_alpha_1", "gaussian_alpha_1", "spherical_alpha_1", "spherical_phi_star", "spherical_g",
    "spherical_spurious_prefactor", "polynomial_n2_rs",
    "binary_spinodal_alpha", "binary_retrieval_overlap", "phi_lse", "f_ret_lse", "alpha_c_lse_petrova",
    "spherical_phi_cusp", "spherical_spinodal_T", "spherical_alpha_c_T", "demircigil_alpha",
    "kh_capacity", "double_factorial", "ramsauer_c",
    "FINITE_T_ENSEMBLES", "retrieval_overlap", "retrieval_cusp", "spinodal_alpha", "spinodal_T", "petrova_alpha_c",
    "retrieval_barrier", "lsr_alpha_th", "lsr_phi", "lsr_f_ret", "lsr_alpha_c_petrova", "lsr_t_max",
]

ENSEMBLES = ("binary", "gaussian", "spherical")


def _lam(lam):
    return check_real("lambda", lam, low=0.0, low_open=True)


def _ens(ensemble):
    return check_choice("ensemble", ensemble, ENSEMBLES)


def rate_function(q, ensemble="binary") -> float:
    """Large-deviation rate I(q) of the overlap q = xi . x / N between a random pattern and a fixed state."""
    ens = _ens(ensemble)
    if ens == "gaussian":
        q = check_real("q", q)
        return 0.5 * q * q
    q = check_real("q", q, low=-1.0, high=1.0)
    if ens == "spherical":
        return math.inf if abs(q) == 1.0 else -0.5 * math.log1p(-q * q)
    a, b = 1.0 + q, 1.0 - q
    return 0.5 * ((a * math.log(a) if a > 0 else 0.0) + (b * math.log(b) if b > 0 else 0.0))


def _dominant_q(lam, ens):
    """Overlap dominating the annealed sum: I'(q) = lambda."""
    if ens == "gaussian":
        return lam
    if ens == "binary":
        return math.tanh(lam)
    return spherical_phi_star(lam)


def _annealed(lam, ens):
    """max_q [lambda q - I(q)] = lim (1/N) ln E e^{lambda N q}."""
    q = _dominant_q(lam, ens)
    return lam * q - rate_function(q, ens)


def _q_max(alpha, ens):
    """Largest overlap among e^{alpha N} patterns: I(q_max) = alpha."""
    if ens == "gaussian":
        return math.sqrt(2 * alpha)
    if ens == "spherical":
        return math.sqrt(-math.expm1(-2 * alpha))
    if alpha >= math.log(2):
        return 1.0
    return brentq(lambda q: rate_function(q, "binary") - alpha, 0.0, 1.0, xtol=1e-15, rtol=1e-15)


def condensation_alpha(lam, ensemble="binary") -> float:
    """Condensation line of the auxiliary REM: alpha = I(q*(lambda)); condensed for alpha below it."""
    lam = _lam(lam)
    ens = _ens(ensemble)
    return rate_function(_dominant_q(lam, ens), ens)


def noise_free_energy(alpha, lam, ensemble="binary") -> float:
    """phi(alpha, lambda) = lim (1/N) ln sum_{mu >= 2} e^{lambda xi^mu . x}, K = e^{alpha N}, REM analysis."""
    alpha = check_real("alpha", alpha, low=0.0, low_open=True)
    lam = _lam(lam)
    ens = _ens(ensemble)
    if alpha >= condensation_alpha(lam, ens):
        return alpha + _annealed(lam, ens)
    return lam * _q_max(alpha, ens)


def alpha_1_numeric(lam, ensemble="binary") -> float:
    """Typical-pattern threshold from lambda * 1 = phi(alpha_1, lambda) (root in alpha)."""
    lam = _lam(lam)
    ens = _ens(ensemble)
    f = lambda a: lam - noise_free_energy(a, lam, ens)
    hi = 1.0
    while f(hi) > 0:
        hi *= 2.0
        if hi > 1e6:
            raise ParameterError("lambda", lam, "a value with a finite alpha_1")
    return brentq(f, 1e-14, hi, xtol=1e-14, rtol=1e-14)


def binary_alpha_1(lam) -> float:
    """alpha_1 = lambda - ln cosh lambda (0.5662 at lambda = 1, -> ln 2)."""
    lam = _lam(lam)
    return lam - (lam + math.log1p(math.exp(-2 * lam)) - math.log(2))


def gaussian_alpha_1(lam) -> float:
    lam = _lam(lam)
    return lam - lam * lam / 2 if lam <= 1.0 else 0.5


def spherical_phi_star(lam) -> float:
    """phi* = (sqrt(1 + 4 lambda^2) - 1)/(2 lambda) = phi_LSE(T = 1/lambda)."""
    lam = _lam(lam)
    return 2 * lam / (math.sqrt(1 + 4 * lam * lam) + 1)


def spherical_g(lam) -> float:
    """g(lambda) = (1/2) ln(1 - phi*^2) + lambda phi*."""
    p = spherical_phi_star(lam)
    return 0.5 * math.log1p(-p * p) + _lam(lam) * p


def polynomial_n2_rs(alpha, T, **kwargs) -> dict:
    """Replica-symmetric theory of the n = 2 polynomial DAM, H_2 = -(1/(2N)) sum_mu (xi^mu . sigma)^2 with
    K = alpha N: H_2 = H_Hopfield - K/2 (modern.md conventions block), the Hopfield model on the AGS temperature
    scale. Returns :func:`statmech.storage.solve_grid` at P = 2 on the grid alpha x T (same m, q, r, phases) with
    every free energy per neuron shifted by -alpha/2; keyword arguments go to solve_grid."""
    from . import storage
    out = storage.solve_grid(2, alpha, T, **kwargs)
    shift = -0.5 * np.asarray(alpha, dtype=np.float64)[:, None]
    for k in list(out):
        if k == "f" or k.startswith("f_"):
            out[k] = out[k] + shift
    out["energy_shift"] = shift
    return out


def spherical_spurious_prefactor(lam) -> float:
    """Prefactor of the spurious sum on the sphere (modern.md 4.2): for phi of one uniform unit vector against a
    fixed one in dimension N, E[e^(lambda N phi)] = A e^(N g(lambda)) (1 + O(1/N)), and by Laplace's method on the
    exact density (1 - phi^2)^((N-3)/2), A = 1/sqrt(1 - phi*^4) (1.082 at lambda = 1)."""
    p = spherical_phi_star(lam)
    return 1.0 / math.sqrt(1.0 - p ** 4)


def spherical_alpha_1(lam) -> float:
    """alpha_1 = lambda - g(lambda) (0.6226 at lambda = 1); also the Polyachenko alpha_c(beta_net, T = 0)."""
    return _lam(lam) - spherical_g(lam)


def alpha_1(lam, ensemble="binary") -> float:
    ens = _ens(ensemble)
    return {"binary": binary_alpha_1, "gaussian": gaussian_alpha_1, "spherical": spherical_alpha_1}[ens](lam)


def binary_retrieval_overlap(T) -> float:
    """Retrieval branch of the binary LSE DAM at bath temperature T: m_eq = tanh(1/T)."""
    T = check_real("T", T, low=0.0, low_open=True)
    return math.tanh(1.0 / T)


def binary_spinodal_alpha(T, lam) -> float:
    """Binary LSE spinodal alpha_sp(T; lambda) (modern.md 4.3; T = 0 gives alpha_1)."""
    T = check_real("T", T, low=0.0)
    lam = _lam(lam)
    lc = lambda x: x + math.log1p(math.exp(-2 * x)) - math.log(2)  # ln cosh, stable
    if T == 0.0:
        return lam - lc(lam)
    b = 1.0 / T
    if T <= 1.0 / lam:
        return lam * math.tanh(b) - lc(lam)
    return b * math.tanh(b) - lc(b)


def phi_lse(T) -> float:
    """Petrova et al. retrieval alignment phi_LSE(T) = (sqrt(T^2 + 4) - T)/2."""
    T = check_real("T", T, low=0.0)
    return 2.0 / (math.sqrt(T * T + 4) + T)


def f_ret_lse(T) -> float:
    """f_ret(T) = 1 - phi - (T/2) ln(1 - phi^2) at phi = phi_LSE(T)."""
    T = check_real("T", T, low=0.0)
    if T == 0.0:
        return 0.0
    p = phi_lse(T)
    return 1 - p - 0.5 * T * math.log1p(-p * p)


def alpha_c_lse_petrova(T) -> float:
    """alpha_c^LSE(T) = (1/2)[1 - f_ret(T)]^2 (Gaussian overlap approximation; 0.5 at T = 0)."""
    return 0.5 * (1 - f_ret_lse(T)) ** 2


def lsr_alpha_th(b) -> float:
    """Petrova et al.'s support threshold of the spherical LSR (Epanechnikov) kernel, b = N beta_net:
    alpha_th = (1/2)(1 - 1/b)^2 for b >= 1 (0 below). The kernel max[eps, 1 - b(1 - phi)] is flat outside
    phi > 1 - 1/b and the largest spurious overlap is sqrt(2 alpha) (Gaussian overlaps): below alpha_th no
    spurious pattern reaches the support and retrieval holds at any T (modern.md 4.1)."""
    b = check_real("b", b, low=0.0, low_open=True)
    return 0.5 * max(0.0, 1.0 - 1.0 / b) ** 2


def lsr_phi(T, b) -> float:
    """Retrieval alignment of the spherical LSR at bath temperature T: the minimum over phi of
    u_LSR - T s, u_LSR = -(1/b) ln[1 - b(1 - phi)], s = (1/2) ln(1 - phi^2); with y = 1 - phi the smaller root
    of (bT + 1) y^2 - (2 + T + T b) y + T = 0 (inside the support, y < 1/b); b = 1: phi = 1/sqrt(1 + T)."""
    T = check_real("T", T, low=0.0)
    b = check_real("b", b, low=0.0, low_open=True)
    disc = 4.0 + 4.0 * T * b + (T * (1.0 - b)) ** 2
    return 1.0 - 2.0 * T / ((2.0 + T + T * b) + math.sqrt(disc))


def lsr_f_ret(T, b) -> float:
    """f_ret^LSR(T) = u_LSR - (T/2) ln(1 - phi^2) at phi = lsr_phi(T, b) (0 at T = 0)."""
    p = lsr_phi(T, b)
    if p == 1.0:
        return 0.0
    return -math.log1p(-b * (1.0 - p)) / b - 0.5 * T * math.log1p(-p * p)


def lsr_alpha_c_petrova(T, b) -> float:
    """Petrova et al.'s retrieval boundary of the spherical LSR (Gaussian overlap approximation, labelled as in
    modern.md 8.2): retrieval for alpha < max(alpha_th(b), (1/2)[1 - f_ret^LSR(T)]^2); 0.5 at T = 0 whatever b."""
    r = max(0.0, 1.0 - lsr_f_ret(T, b))
    return max(lsr_alpha_th(b), 0.5 * r * r)


def lsr_t_max(b) -> float:
    """The temperature above which only the support region alpha < alpha_th(b) retrieves:
    (1/2)[1 - f_ret^LSR(T)]^2 = alpha_th(b) (about 0.21 at b = 3.41, the paper's figure). Needs b > 1."""
    b = check_real("b", b, low=1.0, low_open=True)
    ath = lsr_alpha_th(b)
    g = lambda T: 0.5 * (1.0 - lsr_f_ret(T, b)) ** 2 - ath   # noqa: E731 - decreasing from 0.5 - ath > 0
    hi = 1.0
    while g(hi) > 0.0:
        hi *= 2.0
    return float(brentq(g, 0.0, hi, xtol=1e-14))


def _uncondensed_spherical(alpha, beta_net):
    """Validate (alpha, beta_net) on the domain of Polyachenko's closed forms: noise uncondensed,
    alpha >= condensation_alpha(beta_net, "spherical") = I(phi*)."""
    alpha = check_real("alpha", alpha, low=0.0, low_open=True)
    b = _lam(beta_net)
    a_c = condensation_alpha(b, "spherical")
    if alpha < a_c:
        raise ParameterError("alpha", alpha, f"alpha >= {a_c:.6g} (uncondensed noise at beta_net = {b:g}; "
                             "for the condensed branch use retrieval_cusp / spinodal_T)")
    return alpha, b


def spherical_phi_cusp(alpha, beta_net) -> float:
    """phi_c = (alpha + g_max(beta_net))/beta_net (Polyachenko draft), for uncondensed noise
    (alpha >= condensation_alpha(beta_net, "spherical"); else ParameterError: use :func:`retrieval_cusp`)."""
    alpha, b = _uncondensed_spherical(alpha, beta_net)
    return (alpha + spherical_g(b)) / b


def spherical_spinodal_T(alpha, beta_net) -> float:
    """T_sp = [beta^2 - (alpha + g)^2] / [beta (alpha + g)] (negative: no metastable retrieval), for
    uncondensed noise (alpha >= condensation_alpha(beta_net, "spherical"); else ParameterError: use
    :func:`spinodal_T`)."""
    alpha, b = _uncondensed_spherical(alpha, beta_net)
    a = alpha + spherical_g(b)
    return (b * b - a * a) / (b * a)


def spherical_alpha_c_T(beta_net, T) -> float:
    """alpha_c(beta_net, T) = beta_net phi_eq(T) - g_max(beta_net), for uncondensed noise at the spinodal,
    0 <= T <= 1/beta_net (else ParameterError: use :func:`spinodal_alpha`)."""
    b = _lam(beta_net)
    T = check_real("T", T, low=0.0)
    if T > 1.0 / b:
        raise ParameterError("T", T, f"0 <= T <= 1/beta_net = {1.0 / b:g} (uncondensed noise; above it use "
                             "spinodal_alpha)")
    return b * phi_lse(T) - spherical_g(b)


def demircigil_alpha(rho=0.0) -> float:
    """Demircigil et al.: recovery from rho N corrupted spins for alpha < I(1 - 2 rho)/2 (ln 2 / 2 at rho = 0)."""
    rho = check_real("rho", rho, low=0.0, high=0.5, high_open=True)
    return 0.5 * rate_function(1 - 2 * rho, "binary")


def double_factorial(k: int) -> int:
    k = check_integer("k", k, low=-1)
    r = 1
    while k > 1:
        r *= k
        k -= 2
    return r


def kh_capacity(N, n) -> float:
    """Error-free one-step capacity K_max = N^{n-1} / (2 (2n-3)!! ln N) (Krotov-Hopfield / SNR)."""
    N = check_integer("N", N, low=2)
    n = check_integer("n", n, low=2)
    return N ** (n - 1) / (2 * double_factorial(2 * n - 3) * math.log(N))


def ramsauer_c(beta, K, d, p) -> float:
    """Ramsauer Thm 3: c = b / W_0(exp(a + ln b)), a = (2/(d-1))(1 + ln(2 beta K^2 p (d-1))), b = 2 K^2 beta/5.

    K is Ramsauer's radius constant (M = K sqrt(d-1)); storable patterns N >= sqrt(p) c^{(d-1)/4}.
    """
    beta = check_real("beta", beta, low=0.0, low_open=True)
    K = check_real("K", K, low=0.0, low_open=True)
    d = check_integer("d", d, low=2)
    p = check_real("p", p, low=0.0, high=1.0, low_open=True)
    a = (2.0 / (d - 1)) * (1 + math.log(2 * beta * K * K * p * (d - 1)))
    b = 2 * K * K * beta / 5
    return float(b / lambertw(math.exp(a + math.log(b))).real)


# ------------------------------------------------------------- finite-T (alpha, T) diagrams ----
#: ensembles with a finite-temperature theory (Ising states: binary; states on the sphere: spherical)
FINITE_T_ENSEMBLES = ("binary", "spherical")


def _finite_t_ens(ensemble):
    ens = _ens(ensemble)
    if ens not in FINITE_T_ENSEMBLES:
        raise ParameterError("ensemble", ens, "binary or spherical (the finite-T theory needs the state space: "
                             "Ising spins or the sphere)")
    return ens


def retrieval_overlap(T, ensemble="binary") -> float:
    """Retrieval minimum m_eq(T) of -m - T s(m): tanh(1/T) (binary, s = ln 2 - I_b), phi_LSE(T) (spherical,
    s = (1/2) ln(1 - m^2)); 1 at T = 0."""
    T = check_real("T", T, low=0.0)
    ens = _finite_t_ens(ensemble)
    if T == 0.0:
        return 1.0
    return math.tanh(1.0 / T) if ens == "binary" else phi_lse(T)


def retrieval_cusp(alpha, lam, ensemble="binary") -> float:
    """Cusp m_c = phi(alpha, lambda)/lambda of the landscape e(m) = -max(m, m_c) (modern.md 4.3, 4.2)."""
    ens = _finite_t_ens(ensemble)
    return noise_free_energy(alpha, lam, ens) / _lam(lam)


def spinodal_alpha(T, lam, ensemble="binary") -> float:
    """Spinodal load: the retrieval basin at m_eq(T) is metastable for alpha < alpha_sp, from
    lambda m_eq(T) = phi(alpha, lambda):

        alpha_sp = lambda m_eq - max_q [lambda q - I(q)]   if m_eq >= q*(lambda)  (noise uncondensed; T <= 1/lambda)
        alpha_sp = I(m_eq)                                 otherwise             (noise condensed)

    Binary: modern.md 4.3 (= :func:`binary_spinodal_alpha`); spherical, uncondensed branch: Polyachenko's
    alpha_c = lambda phi_eq(T) - g(lambda) (= :func:`spherical_alpha_c_T`), condensed branch
    -(1/2) ln(1 - phi_eq^2) [derived, modern.md 4.2 with the condensed noise of 3.2]. T = 0 gives alpha_1.
    """
    lam = _lam(lam)
    ens = _finite_t_ens(ensemble)
    m = retrieval_overlap(T, ens)
    if m >= _dominant_q(lam, ens):
        return lam * m - _annealed(lam, ens)
    return rate_function(m, ens)


def spinodal_T(alpha, lam, ensemble="binary") -> float:
    """Spinodal temperature T_sp(alpha, lambda): m_eq(T_sp) = m_c(alpha, lambda); metastable retrieval for
    T < T_sp. Binary T_sp = 1/artanh(m_c); spherical T_sp = (1 - m_c^2)/m_c (Polyachenko's
    [lambda^2 - (alpha + g)^2] / [lambda (alpha + g)] when the noise is uncondensed). NaN when m_c >= 1
    (alpha >= alpha_1: no metastable retrieval at any T)."""
    ens = _finite_t_ens(ensemble)
    mc = retrieval_cusp(alpha, lam, ens)
    if mc >= 1.0:
        return math.nan
    return 1.0 / math.atanh(mc) if ens == "binary" else (1.0 - mc * mc) / mc


def retrieval_barrier(alpha, T, lam, ensemble="binary") -> float:
    """Free-energy barrier per neuron Delta f = f(m_c) - f(m_eq) that holds a chain in the retrieval basin,
    f(m) = -m + T I(m) on the branch m > m_c (entropy ln 2 - I_b or (1/2) ln(1 - m^2) = -I_s up to constants);
    0 where the basin is gone (m_eq <= m_c). Kramers: escape after ~ e^{N Delta f / T} sweeps (modern.md 4.2)."""
    T = check_real("T", T, low=0.0)
    ens = _finite_t_ens(ensemble)
    m_eq, m_c = retrieval_overlap(T, ens), retrieval_cusp(alpha, lam, ens)
    if m_eq <= m_c:
        return 0.0
    f = lambda m: -m + (T * rate_function(m, ens) if T > 0 else 0.0)
    return f(m_c) - f(m_eq)


def petrova_alpha_c(T, lam) -> float:
    """Petrova et al. (modern.md 4.1) Gaussian-overlap alpha_c of the spherical LSE at bath temperature T,
    with their noise floor u_noise = 1 - sqrt(2 alpha) (load-limited, lambda > sqrt(2 alpha)) or
    1 - alpha/lambda - lambda/2 (kernel-limited); retrieval iff f_ret(T) <= u_noise:

        alpha_c = (1/2)(1 - f_ret)^2 if 1 - f_ret <= lambda, else lambda (1 - f_ret - lambda/2).

    A labelled approximation (modern.md 8.2): at T = 0 it is the Gaussian-pattern alpha_1."""
    lam = _lam(lam)
    r = 1.0 - f_ret_lse(T)
    return 0.5 * r * r if r <= lam else lam * (r - 0.5 * lam)
