"""Numba LSE / polynomial DAM samplers against the numpy references and the exact oracles."""
import math

import numpy as np
import pytest

from hopfield.modern import LSEDAM, PolynomialDAM, enumerate_log_partition
from hopfield.patterns import random_patterns
from hopfield.validation import ParameterError
from montecarlo.measure import combine_chains, summarize_series
from montecarlo.modern import exponential_load_K, lse_delta_energies, lse_run, poly_delta_numerators, poly_run, spherical_run


def _thermal(series):
    """Mean and thermal error of chains sharing one disorder sample (blocking per chain)."""
    return combine_chains([summarize_series(x) for x in series], groups=[0] * len(series))


def _states(X, gen, n=5):
    N = X.shape[0]
    out = [X[:, 0].copy()]
    s = X[:, 0].copy()
    s[gen.choice(N, 2, replace=False)] *= -1
    out.append(s)
    out += [gen.choice((-1, 1), N).astype(np.int8) for _ in range(n)]
    return out


@pytest.mark.parametrize("lam", [0.05, 1.0, 4.0, 15.0])
def test_lse_kernel_delta_matches_reference(lam):
    gen = np.random.default_rng(1)
    X = random_patterns(30, 200, gen)
    ref = LSEDAM(X, lam)
    for s in _states(X, gen):
        d = lse_delta_energies(X, lam, s)
        for i in range(30):
            b = ref.delta_energy_direct(s, i)
            assert abs(d[i] - b) <= 1e-12 * max(1.0, abs(b))


@pytest.mark.parametrize("n,rect", [(2, False), (3, False), (4, True), (6, False)])
def test_poly_kernel_delta_exact(n, rect):
    gen = np.random.default_rng(2)
    X = random_patterns(25, 40, gen)
    ref = PolynomialDAM(X, n, rectified=rect)
    for s in _states(X, gen, 3):
        d = poly_delta_numerators(X, n, s, rectified=rect)
        assert [int(v) for v in d] == [ref.delta_numerator(s, i) for i in range(25)]


def test_lse_run_state_consistency_and_reproducibility():
    gen = np.random.default_rng(3)
    X = random_patterns(20, 50, gen)
    lam = 1.0
    ref = LSEDAM(X, lam)
    kw = dict(sweeps=50, chains=3, T=[0.5, 1.0, 2.0], seed=11, point=2)
    r = lse_run(X, lam, spins0=X[:, 0], **kw)
    for c in range(3):
        s = r["spins"][c]
        np.testing.assert_array_equal(r["S"][c], X.astype(int).T @ s.astype(int))
        assert r["E"][c, -1] == pytest.approx(ref.energy(s), rel=1e-12)
        assert r["m"][c, -1] == pytest.approx(s.astype(int) @ X[:, 0] / 20)
        assert r["Y"][c, -1] == pytest.approx(ref.participation(s), rel=1e-12)
    r2 = lse_run(X, lam, spins0=X[:, 0], **kw)
    np.testing.assert_array_equal(r["spins"], r2["spins"])
    np.testing.assert_array_equal(r["E"], r2["E"])
    # a chain's stream depends on its index only, not on how many chains run
    r1 = lse_run(X, lam, spins0=X[:, 0], sweeps=50, chains=1, T=0.5, seed=11, point=2)
    np.testing.assert_array_equal(r1["spins"][0], r["spins"][0])


@pytest.mark.parametrize("dynamics", ["heat_bath", "metropolis"])
def test_lse_beta_lambda_matches_mixture_sampler(dynamics):
    """At beta = lambda the Gibbs measure is the i.i.d. mixture: compare <E>, <m_0>, <m_0^2>, <max_mu S_mu/N>."""
    N, K, lam = 12, 7, 0.8
    X = random_patterns(N, K, np.random.default_rng(4))
    ref = LSEDAM(X, lam)
    burn = 500
    r = lse_run(X, lam, 1 / lam, X[:, 0], sweeps=12000, chains=4, dynamics=dynamics, seed=5)
    spins, _ = ref.sample_beta_lambda(20000, rng=6)
    S = spins.astype(int) @ X.astype(int)
    Sm = S * lam
    E_iid = -(Sm.max(1) + np.log(np.exp(Sm - Sm.max(1, keepdims=True)).sum(1))) / lam
    Smc = r["m"][:, burn:] * N
    obs_mc = {"E": r["E"][:, burn:], "m0": r["m"][:, burn:], "m0sq": r["m"][:, burn:] ** 2}
    obs_iid = {"E": E_iid, "m0": S[:, 0] / N, "m0sq": (S[:, 0] / N) ** 2}
    # exact enumeration for the same quantities
    lz, avg = enumerate_log_partition(ref.energy, N, lam,
                                      lambda s: [ref.energy(s), s @ X[:, 0] / N, (s @ X[:, 0] / N) ** 2])
    for k, ex in zip(("E", "m0", "m0sq"), avg):
        mean, err, _, _ = _thermal(obs_mc[k])
        iid = obs_iid[k]
        err_iid = iid.std() / math.sqrt(iid.size)
        assert abs(mean - iid.mean()) < 5 * math.hypot(err, err_iid), (k, mean, iid.mean(), err)
        assert abs(mean - ex) < 5 * err, (k, mean, ex, err)
    # histogram of the own-pattern overlap S_0 against the sampler's
    vals = np.arange(-N, N + 1, 2)
    h_mc = np.array([(Smc == v).mean() for v in vals])
    h_iid = np.array([(S[:, 0] == v).mean() for v in vals])
    assert np.abs(h_mc - h_iid).max() < 0.02


def test_lse_low_temperature_matches_enumeration():
    """Generic beta (2.5 lambda, no mixture identity): MC averages against exact enumeration."""
    N, K, lam = 11, 9, 0.6
    X = random_patterns(N, K, np.random.default_rng(12))
    ref = LSEDAM(X, lam)
    beta = 2.5 * lam
    r = lse_run(X, lam, 1 / beta, X[:, 0], sweeps=15000, chains=4, seed=13)
    lz, avg = enumerate_log_partition(ref.energy, N, beta, lambda s: [ref.energy(s), (s @ X[:, 0] / N) ** 2])
    for series, ex in ((r["E"], avg[0]), (r["m"] ** 2, avg[1])):
        mean, err, _, _ = _thermal(series[:, 500:])
        assert abs(mean - ex) < 5 * err, (mean, ex, err)


@pytest.mark.parametrize("T", [1 / 0.8, 0.5, 1.5])
def test_lse_own_overlap_retrieval_branch_large_N(T):
    """Started at xi^1 with N = 200, K = 5 the chain stays in its component, where the weight is
    ~ e^{S_1/T}: <m_1> = tanh(1/T) (statmech.modern.binary_retrieval_overlap; tanh lambda at beta = lambda)."""
    from statmech.modern import binary_retrieval_overlap
    N, K, lam = 200, 5, 0.8
    X = random_patterns(N, K, np.random.default_rng(7))
    r = lse_run(X, lam, T, X[:, 0], sweeps=1500, chains=2, seed=8)
    mean, err, _, _ = _thermal(r["m"][:, 100:])
    assert abs(mean - binary_retrieval_overlap(T)) < 5 * err, (mean, err)
    assert np.all(r["max_other"][:, 100:] < 0.5)


def test_exponential_load_K_table():
    # montecarlo.md 8: N = 20, alpha = 0.566 gives 8.2e4; N = 40, alpha = 0.2 gives ~2981
    assert exponential_load_K(20, 0.566) == pytest.approx(8.2e4, rel=0.01)
    assert exponential_load_K(40, 0.2) == 2981
    assert exponential_load_K(30, 0.5) == pytest.approx(3.3e6, rel=0.01)


def test_lse_zero_temperature_reaches_fixed_point():
    gen = np.random.default_rng(9)
    N, lam = 20, 1.0
    X = random_patterns(N, int(math.exp(0.4 * N)), gen)
    ref = LSEDAM(X, lam)
    s0 = X[:, 0].copy()
    s0[gen.choice(N, 3, replace=False)] *= -1
    r = lse_run(X, lam, 0.0, s0, sweeps=30, chains=2, dynamics="zero", seed=1)
    for c in range(2):
        assert ref.is_fixed_point(r["spins"][c])
    assert r["acceptance"][0, -1] == 0.0
    # the stable pattern stays put
    if ref.is_fixed_point(X[:, 0]):
        r = lse_run(X, lam, 0.0, X[:, 0], sweeps=3, dynamics="zero", schedule="systematic")
        np.testing.assert_array_equal(r["spins"][0], X[:, 0])


def test_poly_run_consistency_and_enumeration():
    N, K, n = 10, 4, 3
    X = random_patterns(N, K, np.random.default_rng(10))
    ref = PolynomialDAM(X, n)
    T = 0.7
    r = poly_run(X, n, T, X[:, 0], sweeps=20000, chains=4, seed=3)
    for c in range(4):
        s = r["spins"][c]
        np.testing.assert_array_equal(r["S"][c], X.astype(int).T @ s.astype(int))
        assert r["E"][c, -1] == pytest.approx(ref.energy(s), rel=1e-14)
    lz, avg = enumerate_log_partition(ref.energy, N, 1 / T, lambda s: [ref.energy(s)])
    mean, err, _, _ = _thermal(r["E"][:, 500:])
    assert abs(mean - avg[0]) < 5 * err, (mean, avg[0], err)
    rz = poly_run(X, n, 0.0, X[:, 1], sweeps=20, dynamics="zero", rectified=True)
    s = rz["spins"][0]
    refr = PolynomialDAM(X, n, rectified=True)
    assert all(refr.delta_numerator(s, i) <= 0 for i in range(N))


@pytest.mark.parametrize("N,lam,T", [(50, 1.0, 1.0), (20, 0.5, 2.0), (10, 2.0, 0.7)])
def test_spherical_von_mises_fisher(N, lam, T):
    """K = 1: exp(-E/T) = exp(N phi / T) is a von Mises-Fisher law, <phi> = I_{N/2}(N/T)/I_{N/2-1}(N/T);
    at T = 1/lambda this is the beta = lambda mixture oracle (-> phi_LSE = (sqrt(1+4 lambda^2)-1)/(2 lambda))."""
    from scipy.special import ive
    gen = np.random.default_rng(N)
    X = gen.standard_normal((N, 1))
    X *= math.sqrt(N) / np.linalg.norm(X)
    r = spherical_run(X, lam, T, gen.standard_normal(N), steps=100000, every=20, chains=2, seed=1)
    mean, err, _, _ = _thermal(r["phi"][:, 200:])
    kappa = N / T
    assert abs(mean - ive(N / 2, kappa) / ive(N / 2 - 1, kappa)) < 5 * err, (mean, err)
    assert 0.2 < r["acceptance"].mean() < 0.6


def test_spherical_state_consistency():
    gen = np.random.default_rng(15)
    N, K, lam = 30, 6, 1.3
    X = gen.standard_normal((N, K))
    X *= math.sqrt(N) / np.linalg.norm(X, axis=0)
    r = spherical_run(X, lam, 0.4, X[:, 2], steps=3000, chains=3, seed=2, target=2)
    r2 = spherical_run(X, lam, 0.4, X[:, 2], steps=3000, chains=3, seed=2, target=2)
    np.testing.assert_array_equal(r["x"], r2["x"])
    for c in range(3):
        x = r["x"][c]
        assert x @ x == pytest.approx(N, rel=1e-12)
        z = lam * (X.T @ x)
        assert r["E"][c, -1] == pytest.approx(-(z.max() + np.log(np.exp(z - z.max()).sum())) / lam, rel=1e-12)
        assert r["phi"][c, -1] == pytest.approx(X[:, 2] @ x / N, rel=1e-12)


@pytest.mark.parametrize("call", [
    lambda X: lse_run(X, 0.0, 1.0, X[:, 0], sweeps=1),
    lambda X: lse_run(X, 1.0, -1.0, X[:, 0], sweeps=1),
    lambda X: lse_run(X, 1.0, -1.0, X[:, 0], sweeps=1, dynamics="zero"),
    lambda X: lse_run(X, 1.0, 1.0, X[:, 0], sweeps=0),
    lambda X: lse_run(X, 1.0, 1.0, X[:, 0], sweeps=1, dynamics="glauber"),
    lambda X: lse_run(X, 1.0, 1.0, X[:, 0], sweeps=1, schedule="zigzag"),
    lambda X: lse_run(X, 1.0, [1.0, 2.0], X[:, 0], sweeps=1, chains=3),
    lambda X: lse_run(X, 1.0, 1.0, np.zeros(8), sweeps=1),
    lambda X: lse_run(X, 1.0, 1.0, X[:, 0], sweeps=1, target=3),
    lambda X: lse_run(np.where(X > 0, X, 0), 1.0, 1.0, X[:, 0], sweeps=1),
    lambda X: poly_run(X, 1, 1.0, X[:, 0], sweeps=1),
    lambda X: poly_delta_numerators(random_patterns(5000, 2, 0), 6, np.ones(5000)),
    lambda X: lse_delta_energies(X, 1.0, np.ones(9)),
    lambda X: spherical_run(X, 1.0, 0.0, X[:, 0], steps=10),
    lambda X: exponential_load_K(50, 0.5),
    lambda X: exponential_load_K(20, -0.1),
    lambda X: spherical_run(X, 1.0, 1.0, np.zeros(8), steps=10),
    lambda X: spherical_run(X, 1.0, 1.0, X[:, 0], steps=10, every=11),
])
def test_bad_inputs(call):
    X = random_patterns(8, 3, np.random.default_rng(0))
    with pytest.raises(ParameterError):
        call(X)


@pytest.mark.slow
def test_lse_stable_fraction_table():
    """modern.md 3.2 / montecarlo.md target 9: fraction of single-flip-stable xi^1, N = 20, lambda = 1."""
    gen = np.random.default_rng(14)
    N, ns = 20, 200
    for alpha, ref in ((0.4, 0.96), (0.566, 0.45)):
        K = int(round(math.exp(alpha * N)))
        ok = 0
        for _ in range(ns):
            X = random_patterns(N, K, gen)
            ok += LSEDAM(X, 1.0).is_fixed_point(X[:, 0])
        f = ok / ns
        assert abs(f - ref) < 3 * math.sqrt(2 * ref * (1 - ref) / ns) + 0.01, (alpha, f, ref)


def test_poly_n2_chains_sample_the_hopfield_model():
    """The n = 2 polynomial sampler and the Hebbian P = 2 sampler (montecarlo.ChainBatch, a different kernel
    and other streams) at an AGS retrieval point (alpha = 0.05, T = 0.4) from the pattern: the same thermal m
    and the same energy up to the constant -K/2, within 4 combined standard errors."""
    from montecarlo import ChainBatch
    N, K, T, chains, sweeps, burn = 400, 20, 0.4, 16, 600, 100
    X = random_patterns(N, K, np.random.default_rng(11))
    poly = poly_run(X, 2, T, X[:, 0], sweeps=sweeps, chains=chains, seed=3)
    hop = ChainBatch(X, 2, [T], replicas=chains, init="pattern", seed=4)
    rec = hop.run(sweeps)
    pairs = [(poly["m"], rec["m"][:, 0]), (poly["E"], rec["E"][:, 0] * N - K / 2)]
    for a, b in pairs:
        ma, ea = _thermal(a[:, burn:])[:2]
        mb, eb = _thermal(b[:, burn:])[:2]
        assert abs(ma - mb) < 4 * np.hypot(ea, eb), (ma, ea, mb, eb)


def test_poly_n2_sampler_extrapolates_to_the_ags_retrieval_state():
    """modern.md 9.18 (the n = 2 limit of any solver is AGS): statmech.modern.polynomial_n2_rs (the P = 2 storage
    solver) at alpha = 0.05, T = 0.4 gives the retrieval m = 0.96619; the n = 2 polynomial sampler, started from the
    pattern at N = 500 (8 samples) and 2000 (4 samples), extrapolated linearly in 1/N, agrees within 4 standard
    errors (measured: 0.9643(17))."""
    from statmech.modern import polynomial_n2_rs
    m_rs = polynomial_n2_rs([0.05], [0.4])["m_retrieval"][0, 0]
    assert m_rs == pytest.approx(0.96619, abs=5e-6)
    res = []
    for N, samples in ((500, 8), (2000, 4)):
        summ, grp = [], []
        for s in range(samples):
            X = random_patterns(N, N // 20, np.random.default_rng(100 + s))
            r = poly_run(X, 2, 0.4, X[:, 0], sweeps=400, chains=4, seed=s)
            summ += [summarize_series(r["m"][c, 100:]) for c in range(4)]
            grp += [s] * 4
        res.append((N,) + tuple(combine_chains(summ, grp)[:2]))
    (N1, m1, e1), (N2, m2, e2) = res
    m_inf = (N2 * m2 - N1 * m1) / (N2 - N1)
    err = np.hypot(N2 * e2, N1 * e1) / (N2 - N1)
    assert abs(m_inf - m_rs) < 4 * err, (m_inf, err, m_rs)


def _lsr_phi_quadrature(N, b, T, eps=1e-10):
    """Exact <phi> of the spherical LSR model with one pattern at finite N: phi = x . xi / N has density
    proportional to (1 - phi^2)^((N-3)/2) on [-1, 1], and exp(-E/T) = k(phi)^(N/(b T)) with
    k = max[eps, 1 - b(1 - phi)] (E = -(1/beta_net) ln k, b = N beta_net)."""
    from scipy.integrate import quad
    edge = 1.0 - 1.0 / b

    def logw(p):
        return 0.5 * (N - 3) * math.log1p(-p * p) + N / (b * T) * math.log(max(eps, 1.0 - b * (1.0 - p)))

    grid = np.linspace(-1 + 1e-12, 1 - 1e-12, 20001)
    top = max(logw(p) for p in grid)
    pts = sorted({edge, float(grid[np.argmax([logw(p) for p in grid])])})
    z = quad(lambda p: math.exp(logw(p) - top), -1, 1, points=pts, limit=400, epsabs=0, epsrel=1e-12)[0]
    m1 = quad(lambda p: p * math.exp(logw(p) - top), -1, 1, points=pts, limit=400, epsabs=0, epsrel=1e-12)[0]
    return m1 / z


@pytest.mark.parametrize("N,b,T", [(20, 3.41, 0.3), (12, 1.0, 0.5), (30, 8.0, 0.1)])
def test_spherical_lsr_one_pattern_exact(N, b, T):
    """K = 1: the Metropolis chains of the LSR energy reproduce the exact finite-N <phi> (quadrature of the
    sphere's overlap density times the Boltzmann weight) within 4 standard errors."""
    gen = np.random.default_rng(N)
    X = gen.standard_normal((N, 1))
    X *= math.sqrt(N) / np.linalg.norm(X)
    r = spherical_run(X, b / N, T, X[:, 0], steps=120000, every=20, chains=4, seed=3, kernel="lsr")
    mean, err, _, _ = _thermal(r["phi"][:, 100:])
    exact = _lsr_phi_quadrature(N, b, T)
    assert abs(mean - exact) < 4 * err and err < 0.01, (mean, err, exact)
    assert 0.1 < r["acceptance"].mean() < 0.8


def test_spherical_lsr_below_support_threshold():
    """modern.md 4.1: below alpha_th(b) = (1/2)(1 - 1/b)^2 no spurious pattern reaches the kernel's support
    phi > 1 - 1/b, so with K = e^(alpha N) patterns the retrieval state is that of one pattern: <phi> equals the
    K = 1 quadrature. The final energies equal hopfield.modern.SphericalLSR's."""
    from hopfield.modern import SphericalLSR
    from statmech.modern import lsr_alpha_th
    N, b, T, alpha = 40, 3.41, 0.3, 0.1
    assert alpha < lsr_alpha_th(b)
    K = int(round(math.exp(alpha * N)))
    gen = np.random.default_rng(4)
    X = gen.standard_normal((N, K))
    X *= math.sqrt(N) / np.linalg.norm(X, axis=0)
    r = spherical_run(X, b / N, T, X[:, 0], steps=100000, every=20, chains=4, seed=5, kernel="lsr", eps=1e-10)
    mean, err, _, _ = _thermal(r["phi"][:, 100:])
    exact = _lsr_phi_quadrature(N, b, T)
    assert abs(mean - exact) < 4 * err and err < 0.01, (mean, err, exact)
    model = SphericalLSR(X, b / N, eps=1e-10)
    for c in range(4):
        x = r["x"][c]
        assert r["E"][c, -1] == pytest.approx(model.energy(x), rel=1e-12)
        assert model.in_support(x).tolist() == [True] + [False] * (K - 1)


def test_lsr_phi_is_the_large_n_limit_of_the_exact_one_pattern_mean():
    """statmech.modern.lsr_phi (the minimum of u_LSR - T s) against the exact finite-N <phi> of one pattern: the
    gap closes like 1/N."""
    from statmech.modern import lsr_phi
    for b, T in ((3.41, 0.15), (1.0, 0.4)):
        gaps = [abs(_lsr_phi_quadrature(N, b, T) - lsr_phi(T, b)) for N in (500, 5000)]
        assert gaps[1] < 2e-3 and gaps[1] < gaps[0] / 5, (b, T, gaps)


def test_spherical_kernel_is_validated():
    X = np.eye(4) * 2.0
    with pytest.raises(ParameterError, match="kernel"):
        spherical_run(X, 0.5, 0.3, X[:, 0], steps=10, kernel="relu")
    with pytest.raises(ParameterError, match="eps"):
        spherical_run(X, 0.5, 0.3, X[:, 0], steps=10, kernel="lsr", eps=0.0)
    from montecarlo.modern import finite_t_retrieval
    with pytest.raises(ParameterError, match="kernel"):
        finite_t_retrieval(10, 0.2, 1.0, 0.5, samples=1, sweeps=2, threshold=0.5, kernel="lsr")


def test_spherical_log_bulk():
    """spherical_log_bulk against the von Mises-Fisher closed form (phi_keep = 1), against an independent
    Gauss-Legendre quadrature (phi_keep < 1), and its limit ln C / N -> alpha + g(lambda) (modern.md 4.2)."""
    from scipy.special import betaln, gammaln, ive

    from montecarlo.modern import spherical_log_bulk
    from statmech.modern import spherical_g
    for N in (3, 10, 200):
        for lam in (0.2, 1.0, 3.0):
            k, nu = lam * N, N / 2 - 1
            closed = 0.4 * N + gammaln(N / 2) + nu * math.log(2 / k) + math.log(ive(nu, k)) + k
            assert spherical_log_bulk(N, 0.4, lam) == pytest.approx(closed, abs=1e-12 * N)
    x, w = np.polynomial.legendre.leggauss(400)
    for N, lam, keep in ((10, 1.0, 0.4), (40, 0.5, 0.2), (40, 2.0, 0.9), (25, 1.0, -0.3)):
        p = -1 + (keep + 1) * (x + 1) / 2        # nodes on [-1, keep]
        f = np.exp(lam * N * p + 0.5 * (N - 3) * np.log1p(-p * p) - betaln((N - 1) / 2, 0.5))
        ref = 0.3 * N + math.log((keep + 1) / 2 * (w * f).sum())
        assert spherical_log_bulk(N, 0.3, lam, keep) == pytest.approx(ref, abs=1e-9), (N, lam, keep)
    for lam in (0.5, 1.0, 3.0):
        assert spherical_log_bulk(10 ** 5, 0.3, lam) / 10 ** 5 == pytest.approx(0.3 + spherical_g(lam), abs=5e-5)
    with pytest.raises(ParameterError, match="phi_keep"):
        spherical_log_bulk(10, 0.3, 1.0, -1.0)


def test_cone_patterns_follow_their_law():
    """cone_patterns: unit-norm patterns (|xi|^2 = N) with alignments in [phi_keep, 1] distributed as the exact overlap
    density truncated there (Kolmogorov-Smirnov), their number Poisson with mean e^{alpha N} Pr(phi >= phi_keep)
    (the sample mean within 4 standard errors), reproducible; phi_keep = 1 is the bulk approximation (the target
    alone); a cone beyond max_bytes is refused before drawing."""
    from scipy.stats import beta, kstest

    from montecarlo.modern import cone_patterns, spherical_log_bulk
    N, alpha, lam, keep = 30, 0.35, 1.0, 0.3
    a = (N - 1) / 2
    tail = beta.sf((1 + keep) / 2, a, a)
    mean = math.exp(alpha * N) * tail
    counts, phis = [], []
    for d in range(60):
        c = cone_patterns(N, alpha, lam, keep, seed=2, sample=d)
        X = c["X"]
        assert c["mean_kept"] == pytest.approx(mean, rel=1e-12) and X.shape == (N, 1 + c["kept"])
        np.testing.assert_allclose((X * X).sum(axis=0), N, rtol=1e-12)
        phi = X[:, 0] @ X[:, 1:] / N
        assert (phi >= keep - 1e-12).all()
        counts.append(c["kept"])
        phis.extend(phi)
    assert abs(np.mean(counts) - mean) < 4 * math.sqrt(mean / len(counts)), (np.mean(counts), mean)
    cdf = lambda p: 1 - beta.sf((1 + np.asarray(p)) / 2, a, a) / tail   # noqa: E731 (truncated law)
    assert kstest(phis, cdf).pvalue > 1e-3
    again = cone_patterns(N, alpha, lam, keep, seed=2, sample=5)["X"]
    np.testing.assert_array_equal(again, cone_patterns(N, alpha, lam, keep, seed=2, sample=5)["X"])
    bulk = cone_patterns(N, alpha, lam, 1.0, seed=2)
    assert bulk["X"].shape == (N, 1) and bulk["kept"] == 0 and bulk["log_bulk"] == spherical_log_bulk(N, alpha, lam)
    with pytest.raises(ParameterError, match="phi_keep"):
        cone_patterns(200, 0.5, 1.0, 0.1, max_bytes=2 ** 20)


def _bulk_phi_quadrature(N, log_bulk, lam, T):
    """Exact <phi> of the bulk model at finite N: density (1 - phi^2)^((N-3)/2) [e^{lambda N phi} + C]^(1/(lambda T))."""
    from scipy.integrate import quad

    def logw(p):
        z = lam * N * p
        m = max(z, log_bulk)
        return 0.5 * (N - 3) * math.log1p(-p * p) + (m + math.log(math.exp(z - m) + math.exp(log_bulk - m))) / (lam * T)

    grid = np.linspace(-1 + 1e-12, 1 - 1e-12, 20001)
    lw = np.array([logw(p) for p in grid])
    pts = [float(grid[np.argmax(lw)])]
    z = quad(lambda p: math.exp(logw(p) - lw.max()), -1, 1, points=pts, limit=400, epsabs=0, epsrel=1e-11)[0]
    m1 = quad(lambda p: p * math.exp(logw(p) - lw.max()), -1, 1, points=pts, limit=400, epsabs=0, epsrel=1e-11)[0]
    return m1 / z


@pytest.mark.parametrize("N,alpha,T,steps", [(20, 0.1, 0.2, 100000), (8, 0.3, 0.3, 300000), (10, 0.3, 0.3, 300000),
                                             (12, 0.4, 0.3, 100000)])
def test_spherical_bulk_model_exact(N, alpha, T, steps):
    """The bulk approximation (target and a constant, spherical_run(log_bulk=...)) against its exact finite-N <phi> by
    quadrature, within 4 standard errors: in the retrieval state, where the chain visits both the retrieval basin and
    the bulk (there ln C off by 0.2 moves <phi> by 5-8 standard errors), and in the bulk."""
    from montecarlo.modern import cone_patterns
    c = cone_patterns(N, alpha, 1.0, 1.0, seed=1)
    r = spherical_run(c["X"], 1.0, T, c["X"][:, 0], steps=steps, every=20, chains=4, seed=3, log_bulk=c["log_bulk"])
    mean, err, _, _ = _thermal(r["phi"][:, 100:])
    exact = _bulk_phi_quadrature(N, c["log_bulk"], 1.0, T)
    assert abs(mean - exact) < 4 * err and err < 0.015, (mean, err, exact)
    # the recorded energy is that of the two-term log-sum
    x = r["x"][0]
    z = N * (c["X"][:, 0] @ x) / N
    assert r["E"][0, -1] == pytest.approx(-np.logaddexp(z, c["log_bulk"]), rel=1e-12)


@pytest.mark.parametrize("N,sweeps", [(1000, 30), pytest.param(10000, 30, marks=pytest.mark.slow)])
def test_spherical_bulk_retrieval_brackets_the_spinodal(N, sweeps):
    """Bulk approximation at alpha = 0.5, lambda = 1 (exact-density spinodal T_sp = 0.2623, modern.md 9.12): started at
    the target, chains hold phi_eq(T) below T_sp and leave the basin above it. The bracket narrows with N (the gap to
    the spinodal shrinks like N^-1/2, montecarlo.md 8): N = 1000 at T = 0.20 / 0.33, N = 10^4 (slow) at 0.25 / 0.28."""
    from montecarlo.modern import finite_t_retrieval
    from statmech.modern import phi_lse, spinodal_T
    T_sp = spinodal_T(0.5, 1.0, "spherical")
    assert T_sp == pytest.approx(0.26227, abs=5e-5)
    lo, hi = (0.20, 0.33) if N < 10000 else (0.25, 0.28)
    assert lo < T_sp < hi
    for T, survives in ((lo, True), (hi, False)):
        r = finite_t_retrieval(N, 0.5, 1.0, T, ensemble="spherical", dynamics="metropolis", samples=2, sweeps=sweeps,
                               threshold=0.8 * phi_lse(T), approximation="bulk", seed=1)
        assert r["success"] == (1.0 if survives else 0.0), (T, r)
        if survives:
            assert r["m"] == pytest.approx(phi_lse(T), abs=0.01)
        assert r["approximation"] == "bulk" and r["kept"] == 0.0
