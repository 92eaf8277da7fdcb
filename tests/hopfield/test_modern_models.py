"""Numpy references of hopfield/modern.py: energies, flips, T = 0 rule, exact oracles."""
import math
from decimal import Decimal, localcontext

import numpy as np
import pytest

from hopfield.modern import (ContinuousModernHopfield, LSEDAM, PolynomialDAM, enumerate_log_partition,
                             exp_polynomial_signs, lse_log_partition_beta_lambda)
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


def _exact_flip_signs(X, s, lam, prec=200):
    """sign(DeltaE_i) = sign(Z - Z_i) by direct 200-digit sums Z = sum_mu e^(lambda S_mu) over the exact integer
    overlaps (terms summed in sorted order, so equal multisets give exactly equal sums: exact ties)."""
    N = X.shape[0]
    with localcontext() as ctx:
        ctx.prec = prec
        tab = {v: (Decimal(lam) * v).exp() for v in range(-N, N + 1)}
        S = X.astype(int).T @ s
        Z = sum(sorted(tab[int(v)] for v in S))
        out = []
        for i in range(N):
            Zi = sum(sorted(tab[int(v)] for v in S - 2 * s[i] * X[i].astype(int)))
            out.append((Z > Zi) - (Z < Zi))
    return np.array(out)


@pytest.mark.parametrize("lam", [8.0, 10.0, 14.0])
def test_lse_t0_decisions_exact_at_large_lambda(lam):
    """N = 10, K = 60: near-ties (a pattern at Hamming distance 1, DeltaE ~ e^(-2 lambda k)/lambda) are common.
    sigma_i h_i >= tanh lambda, and even the sign of the stable DeltaE form, get 5-13 of these 40 samples
    wrong at lambda = 8-14; the exact signs agree with 200-digit arithmetic everywhere."""
    gen = np.random.default_rng(11)
    N, K = 10, 60
    wrong_margin = 0
    for _ in range(40):
        X = random_patterns(N, K, gen)
        X[:, 1] = X[:, 0]
        X[gen.integers(N), 1] *= -1                       # one pattern at Hamming distance 1 from xi^1
        m = LSEDAM(X, lam)
        for s in (X[:, 0].astype(np.int64), gen.choice((-1, 1), N)):
            exact = _exact_flip_signs(X, s, lam)
            np.testing.assert_array_equal(m.delta_energy_signs(s), exact)
            assert m.is_fixed_point(s) == bool((exact >= 0).all())
            assert [m.t0_flip(s, i) for i in range(N)] == list(exact < 0)
            wrong_margin += (m.stability_margins(s).min() >= math.tanh(lam)) != bool((exact >= 0).all())
    assert wrong_margin > 0          # the regime where the margin criterion fails


def test_lse_exact_ties_and_descent():
    """Two patterns at Hamming distance 1: flipping that site at xi^1 gives xi^2, DeltaE = 0 exactly (stable,
    no flip), at any lambda, also with both patterns stored twice; a third copy of xi^1 makes it DeltaE > 0."""
    gen = np.random.default_rng(12)
    X = random_patterns(9, 2, gen)
    X[:, 1] = X[:, 0]
    X[4, 1] *= -1
    for lam in (0.5, 3.0, 30.0, 500.0):
        for m in (LSEDAM(X, lam), LSEDAM(np.concatenate([X, X], axis=1), lam)):
            signs = m.delta_energy_signs(X[:, 0])
            assert signs[4] == 0 and (np.delete(signs, 4) > 0).all()
            assert m.is_fixed_point(X[:, 0]) and not m.t0_flip(X[:, 0], 4)
        assert LSEDAM(np.concatenate([X, X[:, :1]], axis=1), lam).delta_energy_signs(X[:, 0])[4] == 1
    m = LSEDAM(random_patterns(12, 30, gen), 12.0)
    s, _, ok = m.t0_descent(gen.choice((-1, 1), 12), rng=1)
    assert ok and (_exact_flip_signs(m.patterns, s, 12.0) >= 0).all()


def test_exp_polynomial_signs_near_a_root(monkeypatch):
    """P(x) = 1 - 2x at x = e^(-2 lambda) vanishes at lambda = ln(2)/2: for the doubles next to it the sign is
    that of lambda - ln(2)/2 (60-digit reference), below the resolution of double precision; constant and
    zero polynomials; leading zeros factored out at lambda = 300 (x^k underflows)."""
    with localcontext() as ctx:
        ctx.prec = 60
        root = Decimal(2).ln() / 2
    import hopfield.modern as hm
    calls = []
    monkeypatch.setattr(hm, "_decimal_sign", lambda q, lam, f=hm._decimal_sign: calls.append(lam) or f(q, lam))
    lam0 = math.log(2) / 2
    for lam in (np.nextafter(lam0, 0), lam0, np.nextafter(lam0, 1), np.nextafter(np.nextafter(lam0, 1), 1)):
        ref = (Decimal(float(lam)) > root) - (Decimal(float(lam)) < root)
        assert exp_polynomial_signs([[1, -2]], float(lam))[0] == ref
    assert len(calls) == 4                              # each decided by the 60-digit fallback
    b = np.array([[0, 0, 0], [0, 0, -3], [0, 0, 1], [5, -1, 0]])
    np.testing.assert_array_equal(exp_polynomial_signs(b, 300.0), [0, -1, 1, 1])
    big = [[-1] + [0] * 40 + [2]]                       # 2 x^41 - 1: 2 e^(-0.41) > 1, 2 e^(-0.82) < 1
    assert exp_polynomial_signs(big, 0.005)[0] == 1 and exp_polynomial_signs(big, 0.01)[0] == -1
    with pytest.raises(ParameterError):
        exp_polynomial_signs([[1.5, 2.0]], 1.0)
    with pytest.raises(ParameterError):
        exp_polynomial_signs([[1, 2]], 0.0)


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


@pytest.mark.parametrize("lam", [3.0, 10.0])
def test_ramsauer_theorem_4_and_5_bounds(lam):
    """Ramsauer Thm 4 (one-step contraction towards x_i*: ||f(x) - x_i*|| <= B ||x - x_i*||, and the Jacobian
    lambda X (diag p - p p^T) X^T has spectral norm <= B along the segment from x to x_i*), Thm 5 (||f(x) - x_i||
    and ||x_i - x_i*|| bounds) on random patterns of norm 2 in 16 dimensions, at starts 0.005-0.2 from x_i. The
    bounds are not vacuous there: B < 1 and the error bounds < 0.1 at the closest starts (at lambda = 10)."""
    gen = np.random.default_rng(int(lam))
    N, K = 16, 6
    X = gen.standard_normal((N, K))
    X *= 2.0 / np.linalg.norm(X, axis=0)
    net = ContinuousModernHopfield(X, lam)
    M = net.M_max
    tight = []
    for i in range(K):
        x_star, _, res, ok = net.retrieve(X[:, i], eps=1e-14, max_steps=100000)
        assert ok
        if np.linalg.norm(x_star - X[:, i]) <= 1 / (2 * lam * M):
            assert np.linalg.norm(X[:, i] - x_star) <= net.fixed_point_error_bound(i)
        for r in (0.005, 0.05, 0.2):
            u = gen.standard_normal(N)
            x = X[:, i] + r * u / np.linalg.norm(u)
            fx = net.update(x)
            B = net.one_step_bound(x, i, x_star)
            assert np.linalg.norm(fx - x_star) <= B * np.linalg.norm(x - x_star) + 1e-12
            for t in np.linspace(0.0, 1.0, 11):
                z = x_star + t * (x - x_star)
                p = np.exp(lam * (X.T @ z) - (lam * (X.T @ z)).max())
                p /= p.sum()
                J = lam * X @ (np.diag(p) - np.outer(p, p)) @ X.T
                assert np.linalg.norm(J, 2) <= B * (1 + 1e-12)
            assert np.linalg.norm(fx - X[:, i]) <= net.retrieval_error_bound(x, i, x_star)
            if r == 0.005:
                tight.append((B, net.retrieval_error_bound(x, i, x_star)))
    if lam == 10.0:
        assert max(b for b, _ in tight) < 1 and max(e for _, e in tight) < 0.1, tight


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


def test_polynomial_n2_is_the_hopfield_model():
    """modern.md Section 2: n = 2 gives H = H_Hopfield - K/2, the Hopfield model (P = 2, distinct-index
    couplings) on the AGS temperature scale: the energies differ by the constant K/2 and every DeltaE_i is the
    Hopfield one."""
    from hopfield.hebbian import HebbianNetwork
    gen = np.random.default_rng(5)
    X = random_patterns(13, 4, gen)
    dam, hop = PolynomialDAM(X, 2), HebbianNetwork(X, 2)
    for s in _states(X, gen):
        assert dam.energy(s) == pytest.approx(hop.energy(s) - 4 / 2, abs=1e-12)
        assert np.allclose([dam.delta_energy(s, i) for i in range(13)],
                           [hop.delta_energy(s, i) for i in range(13)], rtol=0, atol=1e-12)


def test_spherical_lsr_energy():
    """SphericalLSR against the paper's distance form -(1/beta_net) ln sum max[eps, 1 - (beta_net/2)|x - xi|^2];
    at x = xi^1 with the other patterns outside the support H = -(1/beta_net) ln(1 + (K-1) eps); a state at overlap
    phi with xi^1 alone in the support has H/N -> u_LSR = -(1/b) ln[1 - b(1 - phi)]."""
    from hopfield.modern import SphericalLSR
    gen = np.random.default_rng(4)
    N, K, beta_net, eps = 400, 5, 3.41 / 400, 1e-6
    X = gen.standard_normal((N, K))
    X *= np.sqrt(N) / np.linalg.norm(X, axis=0)
    dam = SphericalLSR(X, beta_net, eps)
    for x in (X[:, 0], X[:, 1] + 0.3 * gen.standard_normal(N)):
        x = x * np.sqrt(N) / np.linalg.norm(x)
        d2 = ((x[:, None] - X) ** 2).sum(axis=0)
        assert dam.energy(x) == pytest.approx(-math.log(np.maximum(eps, 1 - beta_net / 2 * d2).sum()) / beta_net,
                                              rel=1e-12)
    assert dam.in_support(X[:, 0]).tolist() == [True] + [False] * (K - 1)
    assert dam.energy(X[:, 0]) == pytest.approx(-math.log(1 + (K - 1) * eps) / beta_net, rel=1e-12)
    g = gen.standard_normal(N)
    g -= (g @ X[:, 0]) / N * X[:, 0]
    g *= np.sqrt(N) / np.linalg.norm(g)
    phi = 0.9
    x = phi * X[:, 0] + math.sqrt(1 - phi ** 2) * g
    b = N * beta_net
    u = -math.log(1 - b * (1 - phi)) / b
    assert dam.energy(x) / N == pytest.approx(u, rel=1e-4)
    with pytest.raises(ParameterError, match="patterns"):
        SphericalLSR(2 * X, beta_net)
    with pytest.raises(ParameterError, match="eps"):
        SphericalLSR(X, beta_net, eps=0.0)
    with pytest.raises(ParameterError, match="x"):
        dam.energy(2 * X[:, 0])


def test_exponential_dam_is_the_lse_model_at_zero_temperature():
    """Demircigil's E_exp = -sum_mu exp(lambda S_mu): its exact flip-energy signs (evaluated here in exact decimal
    arithmetic from the definition) are the LSE ones, so fixed points and T = 0 descent coincide; the energy
    overflows past lambda N ~ 709 while log_neg_energy stays finite."""
    from hopfield.modern import ExponentialDAM
    gen = np.random.default_rng(6)
    N, K = 14, 6
    X = random_patterns(N, K, gen)
    for lam in (0.3, 1.0, 4.0):
        ex, ls = ExponentialDAM(X, lam), LSEDAM(X, lam)
        for s in _states(X, gen):
            with localcontext() as ctx:
                ctx.prec = 80
                E = lambda v: -sum((Decimal(int(S)) * Decimal(lam)).exp() for S in X.T.astype(np.int64) @ v)  # noqa: E731
                signs = []
                for i in range(N):
                    t = s.copy()
                    t[i] = -t[i]
                    d = E(t) - E(s)
                    signs.append((d > 0) - (d < 0))
            assert list(ex.delta_energy_signs(s)) == signs
            assert ex.energy(s) == pytest.approx(-math.exp(ls.log_sum(s)), rel=1e-12)
        s0 = X[:, 0].astype(np.int64).copy()
        s0[:3] *= -1
        a, b = ex.t0_descent(s0, rng=3), ls.t0_descent(s0, rng=3)
        assert np.array_equal(a[0], b[0]) and a[1:] == b[1:] and ex.is_fixed_point(a[0])
    big = ExponentialDAM(random_patterns(1000, 3, gen), 1.0)
    assert big.energy(big.lse.patterns[:, 0]) == -math.inf
    assert big.log_neg_energy(big.lse.patterns[:, 0]) == pytest.approx(1000.0, abs=1e-6)
