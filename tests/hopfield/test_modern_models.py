"""Numpy references of hopfield/modern.py: energies, flips, T = 0 rule, exact oracles."""
import math

import numpy as np
import pytest

from hopfield.modern import (ContinuousModernHopfield, LSEDAM, PolynomialDAM, enumerate_log_partition,
                             lse_log_partition_beta_lambda)
from hopfield.patterns import random_patterns
from hopfield.validation import ParameterError


def _states(X, gen, n=6):
    N = X.shape[0]
    out = [X[:, 0].astype(np.int64)]
    for k in (1, 3):
        s = X[:, 0].astype(np.int64).copy()
        s[gen.choice(N, k, replace=False)] *= -1
        out.append(s)
    out += [gen.choice((-1, 1), N) for _ in range(n)]
    return out


@pytest.mark.parametrize("lam", [0.05, 0.8, 3.0, 12.0])
def test_lse_delta_energy_matches_direct(lam):
    gen = np.random.default_rng(1)
    X = random_patterns(24, 50, gen)
    m = LSEDAM(X, lam)
    for s in _states(X, gen):
        for i in range(24):
            a, b = m.delta_energy(s, i), m.delta_energy_direct(s, i)
            assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), (i, a, b)


def test_lse_field_form_and_local_field():
    gen = np.random.default_rng(2)
    X = random_patterns(16, 9, gen)
    m = LSEDAM(X, 0.7)
    s = gen.choice((-1, 1), 16)
    w = m.weights(s)
    assert w.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(m.local_field(s), X @ w, rtol=1e-13, atol=1e-15)
    for i in range(16):
        assert m.delta_energy_field(s, i) == pytest.approx(m.delta_energy(s, i), rel=1e-10, abs=1e-12)
    S = X.astype(int).T @ s
    assert m.energy(s) == pytest.approx(-np.log(np.exp(0.7 * S).sum()) / 0.7, rel=1e-13)


def test_lse_t0_rule_equivalent_to_energy_descent():
    gen = np.random.default_rng(3)
    for lam in (0.3, 1.0, 2.5):
        X = random_patterns(20, 30, gen)
        m = LSEDAM(X, lam)
        for s in _states(X, gen):
            marg = m.stability_margins(s)
            for i in range(20):
                flip = m.t0_flip(s, i)
                assert flip == (marg[i] < math.tanh(lam))
                assert flip == (m.delta_energy(s, i) < 0)
            assert m.is_fixed_point(s) == all(m.delta_energy(s, i) >= 0 for i in range(20))
    # a single stored pattern is always a fixed point; descent ends at a fixed point
    m = LSEDAM(X[:, :1], 1.0)
    assert m.is_fixed_point(X[:, 0])
    m = LSEDAM(X[:, :4], 1.0)
    s, sweeps, ok = m.t0_descent(gen.choice((-1, 1), 20), rng=4)
    assert ok and m.is_fixed_point(s)


@pytest.mark.parametrize("N,K,lam", [(12, 7, 0.8), (10, 3, 0.3), (11, 20, 1.7)])
def test_lse_partition_function_by_enumeration(N, K, lam):
    X = random_patterns(N, K, np.random.default_rng(N))
    m = LSEDAM(X, lam)
    assert m.log_partition_enumerate(lam) == pytest.approx(m.log_partition_beta_lambda(), rel=1e-13)
    assert m.log_partition_beta_lambda() == pytest.approx(math.log(K) + N * math.log(2 * math.cosh(lam)))
    assert m.log_partition_enumerate(2 * lam) == pytest.approx(m.log_partition_beta_2lambda(), rel=1e-13)


def test_lse_mixture_sampler_matches_enumeration():
    N, K, lam = 10, 4, 0.8
    X = random_patterns(N, K, np.random.default_rng(5))
    m = LSEDAM(X, lam)
    lz, avg = enumerate_log_partition(m.energy, N, lam, lambda s: [m.energy(s), s @ X[:, 0] / N,
                                                                    (s @ X[:, 0] / N) ** 2])
    spins, mu = m.sample_beta_lambda(40000, rng=6)
    E = np.array([m.energy(s) for s in spins[:4000]])
    m0 = spins.astype(int) @ X[:, 0] / N
    assert abs(m0.mean() - avg[1]) < 5 * m0.std() / math.sqrt(m0.size)
    assert abs((m0 ** 2).mean() - avg[2]) < 5 * (m0 ** 2).std() / math.sqrt(m0.size)
    assert abs(E.mean() - avg[0]) < 5 * E.std() / math.sqrt(E.size)
    own = (spins.astype(int) * X[:, mu].T).sum(1) / N  # within a component: tanh lambda
    assert abs(own.mean() - math.tanh(lam)) < 5 * own.std() / math.sqrt(own.size)


@pytest.mark.parametrize("n,rect", [(2, False), (3, False), (4, False), (3, True), (5, True)])
def test_polynomial_delta_exact(n, rect):
    gen = np.random.default_rng(7)
    X = random_patterns(15, 12, gen)
    p = PolynomialDAM(X, n, rectified=rect)
    for s in _states(X, gen, 4):
        e0 = p.energy_numerator(s)
        for i in range(15):
            t = s.copy()
            t[i] = -t[i]
            assert p.delta_numerator(s, i) == p.energy_numerator(t) - e0
            assert p.t0_flip(s, i) == (p.energy(t) < p.energy(s))
    assert p.scale == 2 * 15 ** (n - 1)


def test_polynomial_n2_is_hopfield_minus_K_over_2():
    gen = np.random.default_rng(8)
    X = random_patterns(13, 5, gen)
    p = PolynomialDAM(X, 2)
    s = gen.choice((-1, 1), 13)
    J = (X.astype(float) @ X.T.astype(float)) / 13
    np.fill_diagonal(J, 0.0)
    assert p.energy(s) == pytest.approx(-0.5 * s @ J @ s - 5 / 2, rel=1e-13)


def test_ramsauer_update_retrieval_energy():
    gen = np.random.default_rng(9)
    N, K = 64, 10
    X = gen.choice((-1.0, 1.0), (N, K))
    net = ContinuousModernHopfield(X, 1.0)
    x0 = X[:, 3] + 0.3 * gen.standard_normal(N)
    np.testing.assert_allclose(net.update(x0), X @ (np.exp(X.T @ x0 - (X.T @ x0).max()) /
                                                     np.exp(X.T @ x0 - (X.T @ x0).max()).sum()))
    assert net.separation(3) >= net.well_separated_bound()
    x, steps, res, ok = net.retrieve(x0, eps=1e-10)
    assert ok and res < 1e-10
    assert np.linalg.norm(x - X[:, 3]) < 1e-6
    # CCCP: energy non-increasing along the iteration, and 0 <= E <= 2 M^2 on the hull
    y = gen.standard_normal(N)
    es = []
    for _ in range(6):
        y = net.update(y)
        es.append(net.energy(y))
        assert -1e-12 <= es[-1] <= 2 * net.M_max ** 2
    assert all(b <= a + 1e-9 for a, b in zip(es, es[1:]))


def test_ramsauer_gaussian_mixture_sampler_density():
    X = np.array([[1.0, -0.5, 2.0]])  # N = 1: compare the histogram with exp(-lambda E)
    lam = 2.0
    net = ContinuousModernHopfield(X, lam)
    xs, _ = net.sample_beta_lambda(200000, rng=10)
    grid = np.linspace(-5, 6, 4001)
    dens = np.exp([-lam * net.energy(np.array([g])) for g in grid])
    dens /= dens.sum() * (grid[1] - grid[0])
    edges = np.linspace(-3, 4, 15)
    hist, _ = np.histogram(xs[:, 0], bins=edges)
    cdf = np.concatenate([[0], np.cumsum(dens) * (grid[1] - grid[0])])
    expect = np.diff(np.interp(edges, np.concatenate([[grid[0]], grid + (grid[1] - grid[0]) / 2]), cdf)) * xs.shape[0]
    assert np.all(np.abs(hist - expect) < 5 * np.sqrt(expect) + 5)


@pytest.mark.parametrize("call", [
    lambda X: LSEDAM(X, 0.0),
    lambda X: LSEDAM(X, float("inf")),
    lambda X: LSEDAM(np.where(X > 0, X, 0), 1.0),
    lambda X: LSEDAM(X, 1.0).energy(np.zeros(8)),
    lambda X: LSEDAM(X, 1.0).energy(np.ones(7)),
    lambda X: LSEDAM(X, 1.0).delta_energy(np.ones(8), 8),
    lambda X: LSEDAM(X, 1.0).sample_beta_lambda(0),
    lambda X: PolynomialDAM(X, 1),
    lambda X: PolynomialDAM(X, 3, rectified="yes"),
    lambda X: ContinuousModernHopfield(np.full((3, 2), np.nan), 1.0),
    lambda X: ContinuousModernHopfield(X, 1.0).retrieve(np.ones(8), eps=0.0),
    lambda X: lse_log_partition_beta_lambda(0, 3, 1.0),
])
def test_bad_inputs(call):
    X = random_patterns(8, 3, np.random.default_rng(0))
    with pytest.raises(ParameterError):
        call(X)
