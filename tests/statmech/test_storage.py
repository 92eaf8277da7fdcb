"""Replica-symmetric storage theory (statmech.storage): validation targets of storage.md."""
import math

import numpy as np
import pytest
from scipy import integrate
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq, fsolve, minimize_scalar
from scipy.special import erf

from hopfield.validation import ParameterError
from statmech import quadrature as Q
from statmech import storage as S


@pytest.fixture(scope="module")
def bnd2():
    return S.boundaries(2, np.array([0.0, 0.01, 0.05, 0.1, 0.13]), points=201)


@pytest.fixture(scope="module")
def bnd_dense():
    return {P: S.boundaries(P, np.linspace(0.0, 0.16, 41)) for P in (3, 4)}


def _upper_branch_at(curve, alpha):
    """T on a retrieval line at ``alpha`` by cubic interpolation along its upper (alpha = 0 end)
    branch, where alpha increases along the curve."""
    a, T = curve
    k = int(np.argmax(np.diff(a) <= 0)) if (np.diff(a) <= 0).any() else a.size - 1
    return float(CubicSpline(a[:k + 1], T[:k + 1])(alpha))


# ------------------------------------------------------------------------------ quadrature
@pytest.mark.parametrize("mu,sigma", [(0.3, 0.2), (1.0, 0.49), (0.3, 0.51), (1.5, 3.0), (-2.0, 40.0), (0.0, 1e3)])
def test_tanh_moments_match_adaptive_quadrature(mu, sigma):
    def avg(f):
        g = lambda x: f(x) * np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
        pts = sorted({0.0, mu, -20.0, 20.0})
        lo, hi = mu - 40 * sigma, mu + 40 * sigma
        edges = [lo] + [p for p in pts if lo < p < hi] + [hi]
        return sum(integrate.quad(g, a, b, epsabs=1e-15, limit=400)[0] for a, b in zip(edges[:-1], edges[1:]))
    t = np.tanh
    want = [avg(t), avg(lambda x: 1 - t(x) ** 2), avg(lambda x: t(x) * (1 - t(x) ** 2)),
            avg(lambda x: (1 - t(x) ** 2) * (1 - 3 * t(x) ** 2))]
    got = Q.tanh_moments(np.array([mu]), np.array([sigma]))
    for g, w in zip(got, want):
        assert abs(g[0] - w) < 1e-12
    assert abs(Q.lncosh_average(mu, sigma) - avg(lambda x: np.logaddexp(x, -x))) < 1e-11


def test_gauss_hermite_normalisation():
    z, w = Q.gauss_hermite(64)
    assert abs(w.sum() - 1) < 1e-14
    assert abs(Q.gaussian_average(z ** 2) - 1) < 1e-12 and abs(Q.gaussian_average(z ** 4) - 3) < 1e-11


# ------------------------------------------------------------------------------ T = 0
def test_ags_capacity():
    alpha_c, m_c = S.capacity(2)
    # independent: maximise alpha(y) = (1/2)[erf(y)/y - 2/sqrt(pi) exp(-y^2)]^2 here
    a = lambda y: 0.5 * (erf(y) / y - 2 / np.sqrt(np.pi) * np.exp(-y * y)) ** 2
    r = minimize_scalar(lambda y: -a(y), bounds=(0.5, 3), method="bounded", options={"xatol": 1e-10})
    assert abs(alpha_c + r.fun) < 1e-10
    assert round(alpha_c, 4) == 0.1379
    assert abs(m_c - 0.967) < 5e-4


@pytest.mark.parametrize("P,spec", [(3, 0.1261), (4, 0.03298)])
def test_dense_capacity_matches_independent_bisection(P, spec):
    def exists(alpha):        # nontrivial root of m = erf((P/2) m^(P-1) / sqrt(2 Sigma^2))?
        s2 = alpha * math.factorial(P) * P / 4
        m = np.linspace(1e-3, 1, 20001)
        F = erf(0.5 * P * m ** (P - 1) / np.sqrt(2 * s2)) - m
        return (F > 0).any()
    lo, hi = 1e-4, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if exists(mid) else (lo, mid)
    alpha_c, m_c = S.capacity(P)
    assert abs(alpha_c - lo) < 1e-6
    assert abs(alpha_c - spec) < 5e-5            # the spec's values are right
    t0 = S.solve_T0(P, [0.99 * alpha_c, 1.01 * alpha_c])
    assert t0["exists"].tolist() == [True, False]
    assert abs(t0["m"][0] - erf(0.5 * P * t0["m"][0] ** (P - 1) / np.sqrt(2 * 0.99 * alpha_c * math.factorial(P) * P / 4))) < 1e-12


@pytest.mark.parametrize("P,alpha", [(2, 0.05), (2, 0.12), (3, 0.08)])
def test_T0_limit_matches_low_temperature_solution(P, alpha):
    t0 = S.solve_T0(P, alpha)
    g = S.solve_grid(P, [alpha], [0.002, 0.004])
    assert g["exists_retrieval"].all()
    m = g["m_retrieval"][0]
    assert abs(2 * m[0] - m[1] - t0["m"][0]) < 1e-4                # linear extrapolation to T = 0
    f = g["f_retrieval"][0]
    assert abs(2 * f[0] - f[1] - t0["e_retrieval"][0]) < 1e-4
    fs = g["f_spin_glass"][0]
    assert abs(2 * fs[0] - fs[1] - t0["e_spin_glass"][0]) < 1e-3
    if P == 2:   # C = sqrt(2/(pi alpha r)) exp(-y^2) and r = 1/(1-C)^2 hold together
        y = t0["m"][0] / np.sqrt(2 * alpha * t0["r"][0])
        assert abs(t0["C"][0] - np.sqrt(2 / (np.pi * alpha * t0["r"][0])) * np.exp(-y * y)) < 1e-10


# ------------------------------------------------------------------------------ lines, P = 2
def test_spin_glass_line_is_one_plus_sqrt_alpha(bnd2):
    a, T = bnd2["spin_glass"]
    assert np.allclose(T, 1 + np.sqrt(a), atol=1e-6, rtol=0)
    g = S.solve_grid(2, [0.05], [1 + np.sqrt(0.05) - 1e-3, 1 + np.sqrt(0.05) + 1e-3])
    assert g["exists_spin_glass"][0].tolist() == [True, False]


def test_thermodynamic_line_ends_near_0051(bnd2):
    a, T = bnd2["retrieval_thermodynamic"]
    assert T[-1] == 0.0
    assert abs(a[-1] - 0.051) < 0.001           # we find 0.05185
    assert abs(a[-1] - 0.05185) < 1e-4
    t0 = S.solve_T0(2, [a[-1] - 1e-4, a[-1] + 1e-4])
    d = t0["e_retrieval"] - t0["e_spin_glass"]
    assert d[0] < 0 < d[1]


def test_spinodal_and_Tc_at_alpha_005(bnd2):
    a, TM = bnd2["retrieval_spinodal"]
    assert a.size == 201
    tm = _upper_branch_at(bnd2["retrieval_spinodal"], 0.05)
    tc = _upper_branch_at(bnd2["retrieval_thermodynamic"], 0.05)
    assert abs(tm - 0.542255) < 2e-6 and abs(tc - 0.216383) < 2e-6
    assert a[-1] == pytest.approx(S.capacity(2)[0]) and TM[-1] == 0.0
    # independently from the grid solver: retrieval exists just below T_M, not just above
    g = S.solve_grid(2, [0.05], [0.3, tm - 1e-5, tm + 1e-5])
    assert g["exists_retrieval"][0].tolist() == [True, True, False]
    g = S.solve_grid(2, [0.05], [0.1, tc - 1e-5, tc + 1e-5])
    d = g["f_retrieval"][0] - g["f_spin_glass"][0]
    assert d[1] < 0 < d[2]
    assert g["phase"][0].tolist() == [3, 3, 2]


def _fold_alpha(P, T, m0, q0, a0):
    """Independent: solve R(m, q; alpha) = 0 and det(J - 1) = 0 for (m, q, alpha) at fixed T."""
    def F(x):
        m, q, al = x
        Rm, Rq, J, _ = S._equations(P, np.array([al]), np.array([1 / T]), np.array([m]), np.array([q]))
        Jmm, Jmq, Jqm, Jqq = (j[0] for j in J)
        return [Rm[0], Rq[0], (Jmm - 1) * (Jqq - 1) - Jmq * Jqm]
    x = fsolve(F, [m0, q0, a0], xtol=1e-13)
    assert np.max(np.abs(F(x))) < 1e-11
    return x[2]


def test_spinodal_is_the_fold_of_the_equations(bnd2):
    a, TM = bnd2["retrieval_spinodal"]
    k_top = int(np.argmax(a))
    for k in (20, 60, 120, k_top, k_top + 2, a.size - 3):   # upper part, re-entrant part, low T
        al, tm = a[k], TM[k]
        g = S.solve_grid(2, [al - 2e-4], [tm])
        assert g["exists_retrieval"][0, 0]
        assert abs(_fold_alpha(2, tm, g["m_retrieval"][0, 0], g["q_retrieval"][0, 0], al - 2e-4) - al) < 1e-6


def _gap_ok(a, T, n):
    """Ordered polyline with n points, T strictly decreasing from the alpha = 0 end to T = 0,
    consecutive points close: the largest step in (alpha / max alpha, T / T_top) at most
    1.5 times the mean step."""
    assert a.size == T.size == n
    assert a[0] == 0.0 and T[-1] == 0.0
    assert (np.diff(T) < 0).all()
    step = np.hypot(np.diff(a) / a.max(), np.diff(T) / T[0])
    assert step.max() < 1.5 * step.mean()
    return step.max()


@pytest.mark.parametrize("P", [2, 3, 4])
def test_lines_are_continuous_ordered_polylines(P, bnd2, bnd_dense):
    b = bnd2 if P == 2 else bnd_dense[P]
    n = 201 if P == 2 else 41
    for name in ("retrieval_spinodal", "retrieval_thermodynamic"):
        a, T = b[name]
        assert _gap_ok(a, T, n) < (0.04 if P == 2 else 0.15)
    a, T = b["retrieval_spinodal"]
    assert a[-1] == pytest.approx(S.capacity(P)[0], abs=1e-12)
    a, T = b["retrieval_thermodynamic"]
    assert a[-1] == pytest.approx(S.thermodynamic_capacity(P), abs=1e-12)
    aS, TS = b["spin_glass"]
    assert (np.diff(aS) > 0).all() and (np.diff(TS) > 0).all()


def test_p2_spinodal_is_reentrant(bnd2):
    a, T = bnd2["retrieval_spinodal"]
    k = int(np.argmax(a))
    ac = S.capacity(2)[0]
    assert a[k] > ac + 1e-4 and 0.006 < T[k] < 0.04          # max near alpha = 0.13818, T = 0.018
    # the line crosses alpha = alpha_c + 1e-4 twice: retrieval exists only in between in T
    al = ac + 1e-4
    lo_T = np.interp(al, a[k:][::-1], T[k:][::-1])
    hi_T = np.interp(al, a[:k + 1], T[:k + 1])
    g = S.solve_grid(2, np.linspace(0.13, al, 15), [0.5 * lo_T, 0.5 * (lo_T + hi_T), 1.5 * hi_T])
    assert g["exists_retrieval"][-1].tolist() == [False, True, False]


@pytest.mark.parametrize("P", [2, 3, 4])
def test_every_line_point_agrees_with_the_grid_solver(P, bnd2, bnd_dense):
    b = bnd2 if P == 2 else bnd_dense[P]
    eps = 1e-6
    for name, key in (("retrieval_spinodal", "exists"), ("retrieval_thermodynamic", "phase")):
        a, T = b[name]
        sel = slice(1, -1) if P != 2 else slice(1, -1, 4)
        for ak, tk in zip(a[sel], T[sel]):
            g = S.solve_grid(P, [ak - eps, ak + eps], [tk])          # just inside, just outside
            inside = g["exists_retrieval"][:, 0] if key == "exists" else g["phase"][:, 0] == 3
            assert inside.tolist() == [True, False], (name, ak, tk)


def test_dense_thermodynamic_line_has_both_branches(bnd_dense):
    a, T = bnd_dense[4]["retrieval_thermodynamic"]
    k = int(np.argmax(a))
    assert 0 < k < a.size - 1 and T[k] > 0.2                    # turns back at intermediate T
    assert a[-1] == pytest.approx(0.01638, abs=1e-5) and T[-1] == 0.0
    assert a[k] > a[-1] + 0.01
    # the lower branch: at alpha between its T = 0 end and the maximum, retrieval is the
    # thermodynamic state only between the two branches
    al = 0.5 * (a[-1] + a[k])
    lo_T = np.interp(al, a[k:][::-1], T[k:][::-1])
    hi_T = np.interp(al, a[:k + 1], T[:k + 1])
    g = S.solve_grid(4, [al], [0.5 * lo_T, 0.5 * (lo_T + hi_T), 0.5 * (hi_T + T[0])])
    assert g["phase"][0].tolist()[1] == 3 and g["phase"][0, 0] != 3 and g["phase"][0, 2] != 3


def test_alpha0_spinodal_is_T1(bnd2):
    a, TM = bnd2["retrieval_spinodal"]
    assert a[0] == 0 and abs(TM[0] - 1) < 1e-6


# ------------------------------------------------------------------------------ limits
@pytest.mark.parametrize("P", [2, 3, 4])
def test_low_storage_limit_is_curie_weiss(P):
    T = np.array([0.3, 0.6, 0.8]) if P > 2 else np.array([0.3, 0.6, 0.95])
    g = S.solve_grid(P, [0.0], T)
    for j, t in enumerate(T):
        F = lambda m: np.tanh(0.5 * P * m ** (P - 1) / t) - m
        grid = np.linspace(1e-3, 1, 2001)
        k = np.flatnonzero(np.diff(np.sign(F(grid))))[-1]      # largest root
        m_ref = brentq(F, grid[k], grid[k + 1], xtol=1e-15)
        assert abs(g["m_retrieval"][0, j] - m_ref) < 1e-10
        assert abs(g["q_retrieval"][0, j] - m_ref ** 2) < 1e-10


@pytest.mark.parametrize("P", [2, 3, 4])
def test_paramagnet_free_energy_closed_form(P):
    a, T = np.array([0.02, 0.1]), np.array([1.3, 2.0])
    g = S.solve_grid(P, a, T)
    A, TT = np.meshgrid(a, T, indexing="ij")
    b = 1 / TT
    if P == 2:   # AGS at m = q = r = 0
        want = A / 2 + A / (2 * b) * np.log(1 - b) - TT * np.log(2)
    else:
        want = -(np.log(2) + b ** 2 * A * math.factorial(P) / 8) / b
    assert np.allclose(g["f_paramagnet"], want, atol=1e-13, rtol=0)
    assert np.allclose(S.free_energy(P, A, TT, 0 * A, 0 * A), want, atol=1e-13, rtol=0)


@pytest.mark.parametrize("P,alpha,T,branch", [(2, 0.05, 0.3, "retrieval"), (2, 0.1, 0.5, "spin_glass"),
                                             (3, 0.05, 0.4, "retrieval"), (3, 0.05, 0.1, "spin_glass"),
                                             (4, 0.01, 0.5, "retrieval")])
def test_free_energy_is_stationary_at_the_solution(P, alpha, T, branch):
    g = S.solve_grid(P, [alpha], [T])
    assert g[f"exists_{branch}"][0, 0]
    m, q = g[f"m_{branch}"][0, 0], g[f"q_{branch}"][0, 0]
    h = 1e-5
    kw = {"r": g[f"r_{branch}"][0, 0]} if P == 2 else {}
    f = lambda dm, dq: S.free_energy(P, alpha, T, m + dm, q + dq, **kw)
    assert abs(f(0, 0) - g[f"f_{branch}"][0, 0]) < 1e-14
    dfdq = (f(0, h) - f(0, -h)) / (2 * h)
    assert abs(dfdq) < 1e-8
    if branch == "retrieval":
        assert abs((f(h, 0) - f(-h, 0)) / (2 * h)) < 1e-8
        assert (f(h, 0) + f(-h, 0) - 2 * f(0, 0)) > 0          # a minimum in m
    if P == 2:
        r = kw["r"]
        fr = lambda dr: S.free_energy(P, alpha, T, m, q, r=r + dr)
        assert abs((fr(h) - fr(-h)) / (2 * h)) < 1e-8
    # the saddle point is not stationary away from the solution: the check can fail
    dq = 0.01 if q < 0.5 else -0.01           # stay inside 0 <= q <= 1 (free_energy checks it)
    assert abs((f(0, dq + h) - f(0, dq - h)) / (2 * h)) > 1e-5


# ------------------------------------------------------------------------------ grid contract
def test_grid_contract_and_phases():
    a, T = np.array([0.01, 0.1, 0.16, 0.05]), np.array([0.3, 0.1, 1.5, 0.9])
    g = S.solve_grid(2, a, T)
    for b in S.BRANCHES:
        for k in ("m", "q", "r", "f", "residual", "converged", "iterations", "stability", "exists"):
            assert g[f"{k}_{b}"].shape == (4, 4), (k, b)
        e = g[f"exists_{b}"]
        assert g[f"converged_{b}"][e].all()
        assert np.isnan(g[f"m_{b}"][~e]).all()
        assert (g[f"residual_{b}"][e] <= 1e-12).all()
    assert g["converged_retrieval"].dtype == bool and g["phase"].dtype == np.int8
    assert set(S.PHASES) == {S.UNRESOLVED, 0, 1, 2, 3}
    assert g["phase"][0, 0] == 3            # alpha 0.01, T 0.3: retrieval
    assert g["phase"][1, 1] == 2            # alpha 0.1, T 0.1: retrieval metastable
    assert g["phase"][2, 0] == 1            # alpha 0.16, T 0.3: spin glass
    assert g["phase"][3, 2] == 0            # alpha 0.05, T 1.5: paramagnet
    assert (g["stability_retrieval"][g["exists_retrieval"]] < 1).all()
    assert all(k in S.OBSERVABLE_INFO for k in g)


def test_grid_independent_of_T_order():
    a, T = np.array([0.02, 0.1]), np.array([0.7, 0.2, 0.45])
    g1 = S.solve_grid(2, a, T)
    g2 = S.solve_grid(2, a, np.sort(T))
    o = np.argsort(T)
    assert np.allclose(g1["m_retrieval"][:, o], g2["m_retrieval"], atol=1e-11, equal_nan=True)


def test_nonconvergence_is_flagged():
    g = S.solve_grid(2, [0.1], [0.3], maxiter=1)
    assert not g["converged_retrieval"][0, 0] and not g["exists_retrieval"][0, 0]
    assert np.isnan(g["m_retrieval"][0, 0]) and g["iterations_retrieval"][0, 0] == 1
    g = S.solve_grid(2, [0.1], [0.3])
    assert g["converged_retrieval"][0, 0] and g["exists_retrieval"][0, 0]


def test_reentrant_retrieval_found_by_alpha_continuation():
    # RS AGS: alpha slightly above alpha_c(T=0) = 0.13791 has retrieval only at small T > 0
    g = S.solve_grid(2, [0.1375, 0.138], [0.002, 0.02, 0.06])
    assert g["exists_retrieval"][1].tolist() == [False, True, False]


# ------------------------------------------------------------------------------ dense lines
def test_dense_boundaries_P3():
    b = S.boundaries(3, np.array([0.0, 0.02, 0.05]))
    a, TM = b["retrieval_spinodal"]
    assert a[-1] == pytest.approx(0.126095, abs=1e-6) and TM[-1] == 0
    # alpha = 0: fold of m = tanh(beta (3/2) m^2): T_M = max_m 1.5 m^2 / atanh(m)
    r = minimize_scalar(lambda m: -1.5 * m * m / np.arctanh(m), bounds=(0.1, 0.999), method="bounded",
                        options={"xatol": 1e-12})
    assert abs(TM[0] + r.fun) < 1e-6
    aS, TS = b["spin_glass"]
    assert np.allclose(TS / np.sqrt(aS), TS[0] / np.sqrt(aS[0]), rtol=1e-5)   # RS SG scales as sqrt(alpha)


# ------------------------------------------------------------------------------ validation
@pytest.mark.parametrize("call", [
    lambda: S.solve_grid(2, [-0.1], [1.0]),
    lambda: S.solve_grid(2, [0.1], [0.0]),
    lambda: S.solve_grid(2, [0.1], [-1.0]),
    lambda: S.solve_grid(1, [0.1], [1.0]),
    lambda: S.solve_grid(2.5, [0.1], [1.0]),
    lambda: S.solve_grid(2, [0.1], [np.nan]),
    lambda: S.solve_grid(2, [], [1.0]),
    lambda: S.solve_grid(2, [0.1], [1.0], maxiter=0),
    lambda: S.solve_grid(2, [0.1], [1.0], tol=0),
    lambda: S.boundaries(2, [-0.1]),
    lambda: S.boundaries(True, [0.1]),
    lambda: S.capacity(1),
    lambda: S.solve_T0(3, -1.0),
    lambda: S.free_energy(0, 0.1, 1.0, 0.5, 0.5),
])
def test_bad_inputs_raise(call, monkeypatch):
    monkeypatch.setattr(S, "_newton", lambda *a, **k: pytest.fail("work started before validation"))
    with pytest.raises(ParameterError):
        call()


# ------------------------------------------------------------------------------ compiled kernels
def test_compiled_moments_match_numpy():
    rng = np.random.default_rng(3)
    mu, sig = rng.uniform(-6, 6, 400), np.exp(rng.uniform(-8, 6, 400))
    sig[:3] = [0.0, 0.5, 0.5 + 1e-12]
    want = np.array(Q.tanh_moments(mu, sig))
    got = np.array([Q.tanh_moments_point(a, b, *Q.kernel_tables()) for a, b in zip(mu, sig)]).T
    assert np.abs(got - want).max() < 1e-14


@pytest.mark.parametrize("P", [2, 3])
def test_compiled_newton_matches_numpy(P):
    rng = np.random.default_rng(P)
    n = 400
    alpha, T = rng.uniform(0, 0.16, n), rng.uniform(0.01, 1.2, n)
    fix = rng.random(n) < 0.4
    m0, q0 = S._cold_start_numpy(P, alpha, 1 / T, fix)
    m1, q1 = S._cold_start(P, alpha, 1 / T, fix)
    assert np.abs(m1 - m0).max() < 1e-10 and np.abs(q1 - q0).max() < 1e-10
    for md in (None, 2):
        a = S._newton(P, alpha, 1 / T, m0, q0, fix, max_damped=md)
        b = S._newton_numpy(P, alpha, 1 / T, m0, q0, fix, max_damped=md)
        conv = a[3]
        assert conv.sum() > 0.5 * n and np.mean(conv == b[3]) > 0.99
        both = conv & b[3]
        for x, y in zip(a[:2], b[:2]):
            assert np.abs(x[both] - y[both]).max() < 1e-10


def test_extreme_low_T_does_not_lose_the_spin_glass_or_invent_a_paramagnet():
    """A lowest T where the spin-glass Newton cannot converge (1 - q ~ T ~ 1e-8) must not lose the
    spin-glass branch on the whole row: the other temperatures give the same phases as the grid
    without it. Where no m = 0 state is found the point is S.UNRESOLVED, never 'paramagnet' (which
    does not exist below T = 1 at P = 2)."""
    A, T = np.array([0.06, 0.1, 0.13]), np.array([1e-8, 0.01, 0.1, 0.2, 0.5])
    with np.errstate(all="ignore"):
        g = S.solve_grid(2, A, T)
        ref = S.solve_grid(2, A, T[1:])
    assert ref["phase"].tolist() == [[2, 2, 2, 1], [2, 2, 2, 1], [2, 2, 1, 1]]   # alpha_c(T) curve (AGS)
    np.testing.assert_array_equal(g["phase"][:, 1:], ref["phase"])
    assert g["exists_spin_glass"][:, 1:].all()
    AA, TT = np.meshgrid(A, T, indexing="ij")
    assert not np.any((g["phase"] == 0) & (TT < 1))
    assert np.all((g["phase"] == S.UNRESOLVED) | g["exists_spin_glass"])      # T < T_g everywhere here
    with np.errstate(all="ignore"):
        h = S.solve_grid(2, [0.05], [1e-300, 0.5, 1.1, 1.5])
    assert h["phase"][0, 0] == S.UNRESOLVED and np.isnan(h["m"][0, 0]) and np.isnan(h["f"][0, 0])
    assert h["phase"][0, 1:].tolist() == [2, 1, 0]       # T_g = 1 + sqrt(0.05) = 1.22
    assert S.PHASES[S.UNRESOLVED] == "unresolved"


def test_spin_glass_line_closed_form_and_no_dropped_alpha():
    """P = 2: T_g = 1 + sqrt(alpha) at any alpha (the old bracket capped T at 11). P >= 3: the RS
    line scales exactly as sqrt(alpha) and is not dropped at large alpha; checked against the sign
    change of f_SG - f_para from solve_grid just below/above it."""
    a = np.array([0.05, 50.0, 200.0])
    np.testing.assert_allclose(S._spin_glass_line(2, a)[1], 1 + np.sqrt(a), rtol=1e-14)
    a3, T3 = S._spin_glass_line(3, np.array([0.0, 0.5, 4.0, 50.0]))
    assert a3.tolist() == [0.5, 4.0, 50.0]
    np.testing.assert_allclose(T3 / np.sqrt(a3), T3[0] / np.sqrt(0.5), rtol=1e-12)
    g = S.solve_grid(3, [50.0], [T3[-1] * 0.995, T3[-1] * 1.005])
    d = g["f_spin_glass"][0] - g["f_paramagnet"][0]
    assert g["exists_spin_glass"][0, 0] and d[0] >= 0 and not (g["exists_spin_glass"][0, 1] and d[1] >= 0)


@pytest.mark.parametrize("call", [
    lambda: S.free_energy(2, 0.1, -1.0, 0.5, 0.5),
    lambda: S.free_energy(2, 0.1, 1.0, 0.5, 1.5),
    lambda: S.free_energy(2, 0.1, 1.0, 0.5, -0.1),
    lambda: S.free_energy(2, -0.1, 1.0, 0.5, 0.5),
    lambda: S.free_energy(2, 0.1, 1.0, 1.5, 0.5),
    lambda: S.free_energy(2, 0.1, 1.0, 0.5, 0.5, r=-1.0),
    lambda: S.solve_T0(2, [[0.05, 0.1]]),
    lambda: S.capacity(171),
    lambda: S.solve_grid(S.P_MAX + 1, [0.1], [1.0]),
])
def test_more_bad_inputs_raise(call):
    with pytest.raises(ParameterError):
        call()
