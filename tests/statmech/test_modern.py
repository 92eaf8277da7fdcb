"""Closed forms of statmech/modern.py against the reference numbers of modern.md."""
import math

import numpy as np
import pytest

from hopfield.validation import ParameterError
from statmech import modern as sm

LAMS = (0.1, 0.2, 0.5, 1, 2, 5)
TABLE = {  # modern.md 3.2, "Values"
    "gaussian": (0.0950, 0.1800, 0.3750, 0.5, 0.5, 0.5),
    "binary": (0.0950, 0.1801, 0.3799, 0.5662, 0.6750, 0.6931),
    "spherical": (0.0950, 0.1804, 0.3870, 0.6226, 0.9088, 1.3297),
}


@pytest.mark.parametrize("ens", sorted(TABLE))
def test_alpha_1_table(ens):
    for lam, ref in zip(LAMS, TABLE[ens]):
        assert sm.alpha_1(lam, ens) == pytest.approx(ref, abs=5e-5)
        # independent route: root of lambda = phi(alpha, lambda) of the REM noise analysis
        assert sm.alpha_1_numeric(lam, ens) == pytest.approx(sm.alpha_1(lam, ens), abs=1e-9)


def test_spherical_lambda_10_and_limits():
    assert sm.spherical_alpha_1(10) == pytest.approx(1.6638, abs=5e-5)
    assert sm.binary_alpha_1(40.0) == pytest.approx(math.log(2), abs=1e-12)
    assert sm.spherical_phi_star(1.0) == pytest.approx((math.sqrt(5) - 1) / 2, rel=1e-14)
    for lam in (0.3, 1.0, 3.0):  # phi* = phi_LSE(T = 1/lambda)
        assert sm.spherical_phi_star(lam) == pytest.approx(sm.phi_lse(1 / lam), rel=1e-14)


def test_binary_condensation_line_and_uncondensed_threshold():
    lam = 1.0
    assert sm.condensation_alpha(lam, "binary") == pytest.approx(
        lam * math.tanh(lam) - math.log(math.cosh(lam)), rel=1e-13)
    assert sm.condensation_alpha(lam) < sm.binary_alpha_1(lam)  # boundary in the uncondensed phase
    assert sm.condensation_alpha(2.0, "gaussian") == pytest.approx(2.0)  # lambda_c = sqrt(2 alpha)


def test_binary_spinodal_values():
    ref = {0.05: 0.5662, 0.25: 0.5655, 0.5: 0.5302, 1.0: 0.3278, 1.5: 0.1810}
    for T, v in ref.items():
        assert sm.binary_spinodal_alpha(T, 1.0) == pytest.approx(v, abs=5e-5)
    assert sm.binary_spinodal_alpha(0.0, 1.0) == pytest.approx(sm.binary_alpha_1(1.0))
    lam = 1.7  # continuity at T = 1/lambda
    T0 = 1 / lam
    assert sm.binary_spinodal_alpha(T0 * (1 - 1e-9), lam) == pytest.approx(
        sm.binary_spinodal_alpha(T0 * (1 + 1e-9), lam), abs=1e-7)


def test_petrova_and_polyachenko():
    assert sm.alpha_c_lse_petrova(0.0) == 0.5
    assert sm.phi_lse(0.0) == 1.0
    assert sm.spherical_phi_cusp(0.5, 1.0) == pytest.approx(0.87743, abs=5e-6)
    assert sm.spherical_spinodal_T(0.5, 1.0) == pytest.approx(0.26227, abs=5e-6)
    # alpha_c(beta_net, T_sp(alpha)) = alpha
    T = sm.spherical_spinodal_T(0.5, 1.0)
    assert sm.spherical_alpha_c_T(1.0, T) == pytest.approx(0.5, abs=1e-12)
    assert sm.spherical_alpha_c_T(1.0, 0.0) == pytest.approx(0.6226, abs=5e-5)
    # T = 0.3 independently: f_ret = min_phi [1 - phi - (T/2) ln(1 - phi^2)] by a bounded 1-D minimisation
    from scipy.optimize import minimize_scalar
    T = 0.3
    r = minimize_scalar(lambda p: 1 - p - 0.5 * T * math.log1p(-p * p), bounds=(0.0, 1 - 1e-12), method="bounded",
                        options={"xatol": 1e-12})
    assert sm.phi_lse(T) == pytest.approx(r.x, abs=1e-8)
    assert sm.alpha_c_lse_petrova(T) == pytest.approx(0.5 * (1 - r.fun) ** 2, rel=1e-12)
    assert sm.alpha_c_lse_petrova(T) == pytest.approx(0.216597, abs=5e-7)


def test_polyachenko_closed_forms_only_where_the_noise_is_uncondensed():
    """The closed forms equal the general REM spinodal where the noise is uncondensed (alpha >= I(phi*), i.e.
    T <= 1/lambda) and refuse the condensed side, where they are wrong (lambda = 1, alpha = 0.1: 1.617 against
    the true T_sp 1.923; alpha_c(T = 5) = -0.185)."""
    for lam in (0.5, 1.0, 2.0):
        a_c = sm.condensation_alpha(lam, "spherical")
        for a in (a_c, 1.2 * a_c, 0.9 * sm.spherical_alpha_1(lam)):
            assert sm.spherical_phi_cusp(a, lam) == pytest.approx(sm.retrieval_cusp(a, lam, "spherical"), rel=1e-12)
            assert sm.spherical_spinodal_T(a, lam) == pytest.approx(sm.spinodal_T(a, lam, "spherical"), rel=1e-12)
        for T in (0.0, 0.5 / lam, 1.0 / lam):
            assert sm.spherical_alpha_c_T(lam, T) == pytest.approx(sm.spinodal_alpha(T, lam, "spherical"), rel=1e-12)
        for f, a in ((sm.spherical_phi_cusp, 0.99 * a_c), (sm.spherical_spinodal_T, 0.5 * a_c)):
            with pytest.raises(ParameterError) as err:
                f(a, lam)
            assert err.value.name == "alpha"
        with pytest.raises(ParameterError) as err:
            sm.spherical_alpha_c_T(lam, 1.01 / lam)
        assert err.value.name == "T"
    assert sm.spinodal_T(0.1, 1.0, "spherical") == pytest.approx(1.923, abs=5e-4)


def test_capacity_formulas():
    assert sm.demircigil_alpha() == pytest.approx(math.log(2) / 2, rel=1e-14)
    # rho = 0.1: I(0.8)/2 with I_b(q) = ln 2 - H((1 + q)/2), H the binary entropy in nats (modern.md 3.2)
    H = lambda p: -p * math.log(p) - (1 - p) * math.log(1 - p)
    assert sm.demircigil_alpha(0.1) == pytest.approx((math.log(2) - H(0.9)) / 2, rel=1e-13)
    assert sm.demircigil_alpha(0.1) == pytest.approx(0.18403, abs=5e-6)
    for (N, n), ref in {(100, 2): 10.86, (1000, 2): 72.38, (100, 3): 361.9, (1000, 3): 24127}.items():
        assert sm.kh_capacity(N, n) == pytest.approx(ref, rel=5e-4)
    assert sm.ramsauer_c(1, 3, 20, 0.001) == pytest.approx(3.1546, abs=5e-5)
    assert sm.ramsauer_c(1, 1, 75, 0.001) == pytest.approx(1.3718, abs=1e-4)


@pytest.mark.parametrize("call", [
    lambda: sm.binary_alpha_1(0.0), lambda: sm.alpha_1(1.0, "cubic"), lambda: sm.phi_lse(-1.0),
    lambda: sm.noise_free_energy(-0.1, 1.0), lambda: sm.demircigil_alpha(0.5), lambda: sm.kh_capacity(1, 2),
    lambda: sm.rate_function(1.5), lambda: sm.ramsauer_c(1, 3, 20, 0.0), lambda: sm.binary_spinodal_alpha(float("nan"), 1),
])
def test_bad_inputs(call):
    with pytest.raises(ParameterError):
        call()


def test_petrova_lsr_kernel():
    """Spherical LSR (modern.md 4.1): alpha_th(b) = (1/2)(1 - 1/b)^2 (0.25 at the figure's b = 3.41);
    phi_LSR = 1/sqrt(1 + T) at b = 1; phi_LSR and f_ret independently by a bounded minimisation of
    u_LSR - T s; alpha_c^LSR = 1/2 at T = 0 for any b, and T_max(3.41) = 0.2135 (the figure: ~ 0.22)."""
    from scipy.optimize import minimize_scalar
    assert sm.lsr_alpha_th(3.41) == pytest.approx(0.25, abs=5e-4)
    assert sm.lsr_alpha_th(0.7) == 0.0
    for T in (0.1, 0.5, 2.0):
        assert sm.lsr_phi(T, 1.0) == pytest.approx(1 / math.sqrt(1 + T), rel=1e-14)
    for b, T in ((3.41, 0.15), (1.0, 0.4), (10.0, 0.05)):
        lo = max(0.0, 1 - 1 / b) + 1e-12
        u = lambda p: -math.log1p(-b * (1 - p)) / b - 0.5 * T * math.log1p(-p * p)   # noqa: E731
        r = minimize_scalar(u, bounds=(lo, 1 - 1e-12), method="bounded", options={"xatol": 1e-12})
        assert sm.lsr_phi(T, b) == pytest.approx(r.x, abs=1e-7)
        assert sm.lsr_f_ret(T, b) == pytest.approx(r.fun, abs=1e-12)
    assert sm.lsr_alpha_c_petrova(0.0, 3.41) == 0.5 and sm.lsr_alpha_c_petrova(0.0, 50.0) == 0.5
    Tm = sm.lsr_t_max(3.41)
    assert Tm == pytest.approx(0.2135, abs=5e-4) and abs(Tm - 0.22) < 0.01
    assert sm.lsr_alpha_c_petrova(Tm * 0.9, 3.41) > sm.lsr_alpha_th(3.41)
    assert sm.lsr_alpha_c_petrova(Tm * 1.1, 3.41) == sm.lsr_alpha_th(3.41)
    assert sm.lsr_phi(0.0, 3.41) == 1.0          # T = 0: the pattern itself
    with pytest.raises(ParameterError, match="b"):
        sm.lsr_t_max(1.0)
    with pytest.raises(ParameterError, match="T"):
        sm.lsr_phi(-0.1, 2.0)


def test_spherical_spurious_prefactor():
    """modern.md 4.2 / 9.12: the spurious-sum prefactor is 1.082 at lambda = 1. Independently: E[e^(lambda N phi)]
    over the exact density of phi, (1 - phi^2)^((N-3)/2) / B((N-1)/2, 1/2), by quadrature, divided by
    e^(N g(lambda)), tends to the prefactor as 1 + O(1/N)."""
    from scipy.integrate import quad
    from scipy.special import betaln
    assert sm.spherical_spurious_prefactor(1.0) == pytest.approx(1.082, abs=5e-4)
    for lam in (0.5, 1.0, 3.0):
        A, g = sm.spherical_spurious_prefactor(lam), sm.spherical_g(lam)
        gaps = []
        for N in (500, 4000):
            f = lambda p: math.exp(lam * N * p + 0.5 * (N - 3) * math.log1p(-p * p) - N * g - betaln((N - 1) / 2, 0.5))  # noqa: E731
            ratio = quad(f, -1, 1, points=[sm.spherical_phi_star(lam)], epsabs=0, epsrel=1e-12, limit=200)[0]
            gaps.append(abs(ratio / A - 1))
        assert gaps[1] < 1e-3 and gaps[1] < gaps[0] / 4, (lam, gaps)       # O(1/N) convergence


def test_polynomial_n2_rs_is_the_ags_solution_shifted():
    """H_2 = H_Hopfield - K/2: the same order parameters and phases as storage at P = 2, free energies - alpha/2."""
    from statmech import storage
    a, T = [0.02, 0.05, 0.1], [0.2, 0.4, 0.8]
    ours, ags = sm.polynomial_n2_rs(a, T), storage.solve_grid(2, a, T)
    for k in ("m_retrieval", "q_retrieval", "m", "q"):
        assert np.array_equal(ours[k], ags[k], equal_nan=True), k
    assert np.array_equal(ours["phase"], ags["phase"])
    assert np.allclose(ours["f"], ags["f"] - 0.5 * np.array(a)[:, None], rtol=0, atol=1e-15)
    assert np.allclose(ours["f_retrieval"], ags["f_retrieval"] - 0.5 * np.array(a)[:, None], rtol=0, atol=1e-15,
                       equal_nan=True)
