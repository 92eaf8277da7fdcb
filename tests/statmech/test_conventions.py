"""Conversions between the package convention and the factorial conventions (statmech.conventions)."""
import math

import numpy as np
import pytest

from hopfield.validation import ParameterError
from statmech import storage as S
from statmech.conventions import (from_factorial_convention, load_factor, temperature_factor,
                                  to_factorial_convention)


@pytest.mark.parametrize("P", [2, 3, 4, 5])
def test_round_trip(P):
    T, a = np.array([0.1, 0.7, 2.5]), np.array([0.0, 0.01, 0.3])
    Tl, al = to_factorial_convention(T, a, P)
    assert np.allclose(Tl, 2 * T / math.factorial(P)) and np.allclose(al, a * math.factorial(P))
    T2, a2 = from_factorial_convention(Tl, al, P)
    assert np.allclose(T2, T, rtol=1e-15) and np.allclose(a2, a, rtol=1e-15)


def test_P2_temperature_is_unchanged():
    Tl, al = to_factorial_convention(0.8, 0.05, 2)
    assert Tl == 0.8 and al == pytest.approx(0.1)          # H = -(N/2!) sum m^2 is the package H
    assert isinstance(Tl, float) and temperature_factor(2) == 1.0 and load_factor(2) == 2.0


def test_P3_values():
    assert to_factorial_convention(3.0, 0.02, 3) == pytest.approx((1.0, 0.12))


def test_physics_is_invariant():
    # the Gibbs weight only depends on beta*H: the P = 3, alpha = 0 Curie-Weiss overlap at T is the
    # overlap of m = tanh(beta_lit (3!/3!) ... ) i.e. m = tanh((3/(2T)) m^2) with T = T_lit * 3!/2
    T = 0.5
    Tl, _ = to_factorial_convention(T, 0.0, 3)
    m = S.solve_grid(3, [0.0], [T])["m_retrieval"][0, 0]
    assert abs(m - np.tanh(m ** 2 / (2 * Tl))) < 1e-12     # -(N/3!) m^3: field (3/3!) m^2 = m^2 / 2


@pytest.mark.parametrize("args", [(0.0, 0.1, 3), (-1.0, 0.1, 3), (1.0, -0.1, 3), (1.0, 0.1, 1), (1.0, 0.1, 2.0)])
def test_bad_inputs(args):
    with pytest.raises(ParameterError):
        to_factorial_convention(*args)
    with pytest.raises(ParameterError):
        from_factorial_convention(*args)


@pytest.mark.parametrize("call", [
    lambda: temperature_factor(171), lambda: load_factor(171),
    lambda: to_factorial_convention(1.0, 0.1, 171),
])
def test_P_above_the_documented_maximum_raises(call):
    """P! overflows float64 at P = 171: a ParameterError naming P, not an OverflowError."""
    from statmech.conventions import P_MAX
    assert math.factorial(P_MAX) < 1e300
    with pytest.raises(ParameterError, match="P = 171"):
        call()


# ------------------------------------------------------------------------------------------------
# modern Hopfield networks (modern.md conventions block)

def _softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def test_ramsauer_beta_gives_the_same_update():
    """Ramsauer's update x <- X softmax(beta X^T x) (the paper's formula) with beta_R = ramsauer_beta(lambda):
    on the package's patterns (norm sqrt(N)) beta_R = lambda; on unit-norm patterns and states beta_R = lambda N,
    and the unit-norm update is the package's update divided by sqrt(N)."""
    from hopfield.modern import ContinuousModernHopfield
    from statmech.conventions import lambda_from_ramsauer, ramsauer_beta
    gen = np.random.default_rng(0)
    N, K, lam = 40, 7, 0.3
    X = gen.standard_normal((N, K))
    X *= np.sqrt(N) / np.linalg.norm(X, axis=0)
    x = X[:, 0] + 0.5 * gen.standard_normal(N)
    ours = ContinuousModernHopfield(X, lam).update(x)
    assert np.allclose(X @ _softmax(ramsauer_beta(lam, N) * (X.T @ x)), ours, rtol=1e-12, atol=1e-12)
    Xu, xu = X / np.sqrt(N), x / np.sqrt(N)
    bu = ramsauer_beta(lam, N, unit_norm=True)
    assert bu == pytest.approx(lam * N)
    assert np.allclose(Xu @ _softmax(bu * (Xu.T @ xu)), ours / np.sqrt(N), rtol=1e-12, atol=1e-12)
    assert lambda_from_ramsauer(bu, N, unit_norm=True) == pytest.approx(lam)
    assert not np.allclose(Xu @ _softmax(lam * (Xu.T @ xu)), ours / np.sqrt(N), atol=1e-3)   # beta_R = lambda: wrong


def test_per_site_and_lucibello_mezard():
    from statmech.conventions import lm_alpha, lm_pattern_count, per_site_lambda
    gen = np.random.default_rng(1)
    N, lam = 30, 0.7
    X, s = gen.choice((-1, 1), (N, 9)), gen.choice((-1, 1), N)
    lp = per_site_lambda(lam, N)
    assert np.allclose(_softmax((lp / N) * (X.T @ s)), _softmax(lam * (X.T @ s)), rtol=1e-14)
    assert lm_pattern_count(0.2, 50) == pytest.approx(math.exp(10.0))
    a = np.array([0.0, 0.05, 0.3])
    assert np.allclose(lm_alpha(lm_pattern_count(a, 40), 40), a, rtol=1e-14)


def test_petrova_energy_is_N_plus_the_spherical_energy():
    """Petrova et al.'s H = -(1/beta_net) ln sum_mu exp(-(beta_net/2) |x - xi^mu|^2), evaluated from its
    definition, equals N + E_sph of the package's spherical sampler energy at beta_net = lambda."""
    from montecarlo.modern import _sph_energy
    from statmech.conventions import petrova_energy
    gen = np.random.default_rng(2)
    N, K = 25, 6
    X = gen.standard_normal((N, K))
    X *= np.sqrt(N) / np.linalg.norm(X, axis=0)
    for lam in (0.1, 1.0, 3.0):
        x = gen.standard_normal(N)
        x *= np.sqrt(N) / np.linalg.norm(x)
        d2 = ((x[:, None] - X) ** 2).sum(axis=0)
        z = -(lam / 2) * d2
        H = -(z.max() + np.log(np.exp(z - z.max()).sum())) / lam
        E_sph = _sph_energy(X, x, lam, 0, 1e-10, -np.inf, np.empty(K))   # LSE kernel, no bulk constant
        assert petrova_energy(E_sph, N) == pytest.approx(H, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("convention, n", [("krotov_hopfield", 3), ("krotov_hopfield", 2), ("petrova", 4)])
def test_polynomial_temperature_gives_the_same_gibbs_weights(convention, n):
    """exp(-H_n / T) of the package's PolynomialDAM over all 2^N states equals exp(-E_lit / T_lit), E_lit from the
    literature's definition (KH: -sum_mu (xi^mu . sigma)^n; Petrova: -N^(1-n) sum_mu (xi^mu . sigma)^n)."""
    import itertools

    from hopfield.modern import PolynomialDAM
    from statmech.conventions import polynomial_temperature
    N, T = 8, 0.7
    X = np.random.default_rng(3).choice((-1, 1), (N, 3))
    dam = PolynomialDAM(X, n)
    T_lit = polynomial_temperature(T, N, n, convention)
    ours, lit = [], []
    for s in itertools.product((-1, 1), repeat=N):
        s = np.array(s)
        S = X.T @ s
        E_lit = -float((S.astype(float) ** n).sum()) * (1.0 if convention == "krotov_hopfield" else N ** (1 - n))
        ours.append(-dam.energy(s) / T)
        lit.append(-E_lit / T_lit)
    ours, lit = np.array(ours), np.array(lit)
    assert np.allclose(ours, lit, rtol=1e-12, atol=1e-12)
    assert not np.allclose(ours, lit / 2, rtol=1e-3)        # a temperature off by a factor 2 is seen


@pytest.mark.parametrize("call, name", [
    (lambda c: c.ramsauer_beta(0.0, 10), "lambda"), (lambda c: c.ramsauer_beta(1.0, 10, unit_norm=1), "unit_norm"),
    (lambda c: c.ramsauer_beta(1.0, 0, unit_norm=True), "N"), (lambda c: c.per_site_lambda(-1.0, 10), "lambda"),
    (lambda c: c.lm_alpha(0.5, 10), "P"), (lambda c: c.polynomial_temperature(1.0, 10, 3, "KH"), "convention"),
    (lambda c: c.polynomial_temperature(1.0, 10, 1, "petrova"), "n"),
])
def test_modern_conversions_refuse_bad_input(call, name):
    from statmech import conventions
    with pytest.raises(ParameterError, match=name):
        call(conventions)


# ------------------------------------------------------------------------------------------------
# dense Hebbian learning (learning.md conventions block)

@pytest.mark.parametrize("prefactor", ["R^(P/2)", "r^P", "(r(1+rho))^P"])
def test_learning_temperature_gives_the_same_gibbs_weights(prefactor):
    """exp(-H/T) of the package's SupervisedNetwork over all 2^N states equals exp(-H_x/T_x), with H_x evaluated from
    its definition, -(1/(2 N_s N^(P-1))) sum_mu sum_(i_1..i_P distinct) etabar_i1..etabar_iP sigma_i1..sigma_iP
    (ordered tuples: P! times the sum over subsets), N_s = R^(P/2), r^P or (r (1 + rho))^P."""
    import itertools

    from hopfield.learning import SupervisedNetwork, make_dataset
    from statmech.conventions import learning_temperature
    N, K, M, P, r, T = 8, 2, 3, 4, 0.6, 0.7
    xi, eta = make_dataset(N, K, M, r=r, rng=1)
    net = SupervisedNetwork(eta, P, r=r, archetypes=xi)
    rho, R = net.rho, net.R
    Ns = {"R^(P/2)": R ** (P / 2), "r^P": r ** P, "(r(1+rho))^P": (r * (1 + rho)) ** P}[prefactor]
    etabar = eta.mean(axis=2)
    T_x = learning_temperature(T, P, rho, prefactor)
    ours, lit = [], []
    for s in itertools.product((-1, 1), repeat=N):
        s = np.array(s)
        x = etabar * s[:, None]
        tot = sum(np.prod(x[list(c)], axis=0).sum() for c in itertools.combinations(range(N), P))
        H_x = -math.factorial(P) * tot / (2 * Ns * N ** (P - 1))
        ours.append(-net.energy(s) / T)
        lit.append(-H_x / T_x)
    assert np.allclose(ours, lit, rtol=1e-10, atol=1e-12)
    if prefactor != "R^(P/2)":
        assert not np.allclose(ours, np.array(lit) * T_x / T, rtol=1e-3)       # the plain T would be wrong


def test_learning_kappa_and_c2_load():
    from statmech.conventions import c2_load, learning_kappa
    assert learning_kappa(4, 0.5, "R^(P/2)") == pytest.approx(1.5 ** -2)
    assert learning_kappa(4, 0.5, "r^P") == 1.0 and learning_kappa(2, 1.0, "(r(1+rho))^P") == pytest.approx(0.25)
    assert c2_load(0.01, 4) == pytest.approx(0.12) and c2_load(0.05, 2) == pytest.approx(0.05)
    with pytest.raises(ParameterError, match="prefactor"):
        learning_kappa(4, 0.5, "R")
    with pytest.raises(ParameterError, match="rho"):
        learning_kappa(4, -0.1, "r^P")
