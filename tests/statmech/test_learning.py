"""RS theory of dense Hebbian learning (statmech.learning): limits and reference numbers of
/work/shared/physics/learning.md (Sections 3, 4 and 9)."""
import itertools
import math

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar
from scipy.special import erf

from hopfield.validation import ParameterError
from statmech import learning as L
from statmech import storage as S


# ------------------------------------------------------------------------------ big-data limit
@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
@pytest.mark.parametrize("P,alpha,T", [
    (2, [0.0, 0.05, 0.1, 0.13], np.linspace(0.05, 1.3, 12)),
    (4, [0.0, 0.01, 0.02, 0.03], np.linspace(0.05, 1.1, 12)),
])
def test_rho_to_zero_reproduces_storage(setting, P, alpha, T):
    """rho -> 0 (M -> infinity at fixed r = 0.5): both settings reduce to statmech.storage
    (validation target 3), branch by branch; the differences are O(rho) (and O(1/(M r^(2P))))."""
    st = S.solve_grid(P, np.array(alpha), T)
    for rho, tol in ((1e-9, 2e-6), (1e-7, 2e-4)):
        g = L.solve_grid(setting, P, alpha=alpha, rho=[rho], T=T, r=0.5)
        for b in ("retrieval", "spin_glass", "paramagnet"):
            assert np.array_equal(st[f"exists_{b}"], g[f"exists_{b}"][:, 0]), b
            e = st[f"exists_{b}"]
            for k in ("m", "q", "f"):
                assert np.max(np.abs(st[f"{k}_{b}"][e] - g[f"{k}_{b}"][:, 0][e]), initial=0) < tol, (b, k)
        assert np.array_equal(st["phase"], g["phase"][:, 0])
        # s -> m in the limit
        e = g["exists_retrieval"]
        assert np.max(np.abs(g["s_retrieval"][e] - g["m_retrieval"][e])) < 1e3 * rho


def test_binomial_average_tends_to_gaussian():
    """Exact finite-M law -> Gaussian law as M grows at fixed rho, with an O(1/M) difference."""
    kw = dict(alpha=[0.0, 0.005], rho=[0.5], T=[0.1, 0.3, 0.5])
    h = L.solve_grid("supervised", 4, **kw)
    d = []
    for M in (100, 1000):
        g = L.solve_grid("supervised", 4, M=M, average="binomial", **kw)
        assert np.array_equal(g["exists_retrieval"], h["exists_retrieval"])
        d.append(np.nanmax(np.abs(g["m_retrieval"] - h["m_retrieval"])))
    assert d[1] < 2e-4 and 5 < d[0] / d[1] < 20


# ------------------------------------------------------------------------------ T = 0, low load
def test_T0_low_load_gaussian_closed_forms():
    """Validation targets 5 and 6: m = erf(1/sqrt(2 rho)), s, n table; any P, both settings."""
    rho = [0.1, 0.5, 1.0, 2.0]
    s_ref = [1.000135, 1.050255, 1.166631, 1.399282]
    n_ref = [0.909213, 0.700170, 0.583315, 0.466427]
    for P in (2, 4, 6):
        for setting in ("supervised", "unsupervised"):
            g = L.solve_T0(setting, P, alpha=[0.0], rho=rho, load="low")
            assert np.allclose(g["m"][0], erf(1 / np.sqrt(2 * np.array(rho))), atol=1e-14, rtol=0)
            assert np.allclose(g["s"][0], s_ref, atol=1e-6, rtol=0)
            assert np.allclose(g["n"][0], n_ref, atol=1e-6, rtol=0)
    assert abs(L.gaussian_T0_overlap([0.5])["m"][0] - 0.8427) < 1e-4


def _binomial_m(M, rho):
    r = 1 / math.sqrt(1 + rho * M)
    p = (1 + r) / 2
    pmf = [math.comb(M, k) * p ** k * (1 - p) ** (M - k) for k in range(M + 1)]
    return sum(w for k, w in enumerate(pmf) if 2 * k > M) - sum(w for k, w in enumerate(pmf) if 2 * k < M)


@pytest.mark.parametrize("M,ref", [(5, 0.8277), (20, 0.8273), (100, 0.8396)])
def test_T0_low_load_binomial(M, ref):
    """Validation target 5 (exact law, rho = 0.5): 0.8277 (M = 5), 0.8273 (M = 20), 0.8396
    (M = 100); ties at even M contribute 0; independent of P."""
    for P in (2, 4, 6):
        g = L.solve_T0("supervised", P, alpha=[0.0], rho=[0.5], M=M, load="low", average="binomial")
        assert abs(g["m"][0, 0] - ref) < 5e-5
        assert abs(g["m"][0, 0] - _binomial_m(M, 0.5)) < 1e-13


def test_finite_T_binomial_tends_to_T0_value():
    """P = 4, M = 20, rho = 0.5, T -> 0: m = 0.8273 from the finite-T solver (exact binomial average);
    the Gaussian average gives 0.8427 instead."""
    T = np.array([0.01, 0.03, 0.1])
    g = L.solve_grid("supervised", 4, alpha=[0.0], rho=[0.5], T=T, M=20, load="low", average="binomial")
    assert abs(g["m_retrieval"][0, 0, 0] - 0.8273217) < 1e-6
    assert np.all(np.diff(g["m_retrieval"][0, 0]) < 0)
    h = L.solve_grid("supervised", 4, alpha=[0.0], rho=[0.5], T=T, load="low")
    # Gaussian u has a density at u = 0: the approach is O(T^2) instead of exponential
    d = np.abs(h["m_retrieval"][0, 0, :2] - erf(1.0))
    assert d[0] < 5e-5 and 6 < d[1] / d[0] < 12


@pytest.mark.parametrize("setting,P,alpha,average", [
    ("supervised", 4, 0.008, "gaussian"), ("supervised", 4, 0.008, "binomial"),
    ("supervised", 2, 0.02, "gaussian"), ("supervised", 2, 0.02, "binomial"),
    ("unsupervised", 4, 0.0005, "binomial"), ("unsupervised", 2, 0.005, "gaussian"),
])
def test_T0_high_load_is_the_T_to_0_limit(setting, P, alpha, average):
    """The T = 0 equations (C = beta(1-q)) are the limit of the finite-T solutions: linear in T."""
    g0 = L.solve_T0(setting, P, alpha=[alpha], rho=[0.3], M=10, average=average)
    assert g0["exists"][0, 0]
    T = np.array([0.002, 0.004])
    g = L.solve_grid(setting, P, alpha=[alpha], rho=[0.3], T=T, M=10, average=average)
    for k0, k in (("m", "m_retrieval"), ("s", "s_retrieval"), ("e_retrieval", "f_retrieval")):
        v = g[k][0, 0]
        extrap = 2 * v[0] - v[1]
        assert abs(extrap - g0[k0][0, 0]) < 2e-5, k
    if P > 2:   # RS spin glass: f(T) -> e_SG
        v = g["f_spin_glass"][0, 0]
        assert abs(2 * v[0] - v[1] - g0["e_spin_glass"][0, 0]) < 1e-4


def test_T0_storage_limit():
    """At rho -> 0 the T = 0 retrieval solution is storage.solve_T0's (P = 2 AGS and P = 4)."""
    for P, al in ((2, [0.05, 0.1, 0.137]), (4, [0.01, 0.03])):
        st = S.solve_T0(P, al)
        g = L.solve_T0("supervised", P, alpha=al, rho=[1e-10])
        for k in ("m", "e_retrieval", "e_spin_glass", "C"):
            assert np.allclose(g[k][:, 0], st[k], atol=1e-7, rtol=0), k


# ------------------------------------------------------------------------------ reference numbers
def test_P4_low_load_rho0_reference_numbers():
    """Section 4 item 1 / target 7: T_sp = 0.99157 (m = 0.8894), T_c = 0.72590 (m = 0.9906)."""
    b = L.boundaries("supervised", 4, plane=("rho", "T"), load="low", points=2, span=(0.0, 0.5))
    Tsp = b["retrieval_spinodal"]["T"][0]
    Tc = b["retrieval_thermodynamic"]["T"][0]
    assert abs(Tsp - 0.99157) < 1e-5 and abs(Tc - 0.72590) < 1e-5
    g = L.solve_grid("supervised", 4, alpha=[0.0], rho=[0.0], T=[Tsp - 1e-9, Tc], load="low")
    assert abs(g["m_retrieval"][0, 0, 0] - 0.8894) < 2e-3        # sqrt-singular at the fold
    assert abs(g["m_retrieval"][0, 0, 1] - 0.9906) < 1e-4
    assert abs(g["f_retrieval"][0, 0, 1] - g["f_paramagnet"][0, 0, 1]) < 1e-8


@pytest.mark.parametrize("P,ref", [
    (4, [0.9916, 0.8175, 0.6792, 0.5782, 0.5086, 0.4727]),
    (6, [1.2682, 0.9121, 0.6528, 0.4865, 0.3865, 0.3403]),
])
def test_low_load_spinodal_table(P, ref):
    """Section 4 item 2 / target 8: supervised low-load spinodal T_sp(rho), decreasing in rho."""
    b = L.boundaries("supervised", P, plane=("rho", "T"), load="low", points=9, span=(0.0, 2.0))
    T = b["retrieval_spinodal"]["T"]
    assert np.all(np.diff(T) < 0)
    b2 = L.boundaries("supervised", P, plane=("rho", "T"), load="low", points=2, span=(0.1, 0.25))
    b3 = L.boundaries("supervised", P, plane=("rho", "T"), load="low", points=2, span=(1.0, 2.0))
    got = [T[0], b2["retrieval_spinodal"]["T"][0], b2["retrieval_spinodal"]["T"][1], T[2],
           b3["retrieval_spinodal"]["T"][0], b3["retrieval_spinodal"]["T"][1]]
    assert np.allclose(got, ref, atol=6e-5, rtol=0)
    # the thermodynamic line lies below the spinodal
    assert np.all(b["retrieval_thermodynamic"]["T"] < T)


def _fold_direct(rho):
    """T = 0, P = 4, c = 24, Gaussian u: the spec's Section 3.2 equations in closed form (a = 2 s^3,
    W = rho a^2 + Sigma^2, Sigma^2 = 24 alpha (1+rho)^4): m = erf(a/sqrt(2W)), C = sqrt(2/(pi W)) e^(-a^2/(2W)),
    s = m + rho a C. The fold is the alpha where max_s (s(s) - s) = 0; returns (alpha_c, m there)."""
    def G(x, alpha):
        a = 2 * x ** 3
        W = rho * a * a + 24 * alpha * (1 + rho) ** 4
        m = math.erf(a / math.sqrt(2 * W))
        return m + rho * a * math.sqrt(2 / (math.pi * W)) * math.exp(-a * a / (2 * W)) - x, m

    def top(alpha):
        r = minimize_scalar(lambda x: -G(x, alpha)[0], bounds=(0.2, 1 + 3 * math.sqrt(rho)), method="bounded",
                            options={"xatol": 1e-12})
        return -r.fun, r.x
    ac = brentq(lambda x: top(x)[0], 1e-4, 0.1, xtol=1e-15)
    return ac, G(top(ac)[1], ac)[1]


def test_high_load_capacity_table():
    """Section 4 item 3 / target 9: T = 0, P = 4 alpha_c(rho) in conventions (A) c = 24 and
    (C) c = 2; (C) is exactly 12 times (A)."""
    rho = [0.0, 0.1, 0.5, 1.0]
    a, m = L.capacity("supervised", 4, rho=rho)
    assert np.allclose(a, [0.03298, 0.02176, 0.01062, 0.00815], atol=6e-6, rtol=0)
    # m at the fold against an independent solve of the fold condition. The spec's table quotes
    # m = 0.924, 0.853, 0.652, 0.531 (the last grid point of an iteration from s = 1, criterion m > 0.3):
    # the true fold values are 0.91792, 0.84512, 0.64502, 0.52497 (spec discrepancy, not a solver error)
    ref = [_fold_direct(x) for x in rho]
    assert np.allclose(a, [x[0] for x in ref], atol=1e-10, rtol=0)          # capacity xtol 1e-10
    assert np.allclose(m, [x[1] for x in ref], atol=1e-7, rtol=0)
    assert np.allclose(m, [0.91792, 0.84512, 0.64502, 0.52497], atol=1e-5, rtol=0)
    aC, _ = L.capacity("supervised", 4, rho=rho, c=2)
    assert np.allclose(aC, [0.3957, 0.2612, 0.1275, 0.0978], atol=6e-5, rtol=0)
    assert np.allclose(aC / a, 12.0, atol=0, rtol=1e-7)
    assert abs(a[0] - S.capacity(4)[0]) < 1e-8


def test_P2_capacity():
    """Target 4 and Section 3.4: AGS alpha_c = 0.1379 (m = 0.967) at rho = 0; rho = 0.1: ~0.072, m ~ 0.93."""
    a, m = L.capacity("supervised", 2, rho=[0.0, 0.1])
    assert abs(a[0] - 0.1379) < 1e-4 and abs(m[0] - 0.967) < 1e-3
    assert abs(a[1] - 0.072) < 1.5e-3 and abs(m[1] - 0.93) < 1e-2


def test_P2_spin_glass_line_independent_of_rho():
    """Supervised P = 2: R-normalised couplings leave the glassy part rho-independent, T_g = 1 + sqrt(alpha)."""
    b = L.boundaries("supervised", 2, plane=("rho", "T"), fixed={"alpha": 0.05}, points=3, span=(0.0, 0.5))
    assert np.allclose(b["spin_glass"]["T"], 1 + math.sqrt(0.05), atol=1e-9, rtol=0)
    assert np.all(np.diff(b["retrieval_spinodal"]["T"]) < 0)


@pytest.mark.parametrize("average", ["gaussian", "binomial"])
def test_unsupervised_effective_load(average):
    """Section 3.5 / target 9: at P > 2 the unsupervised glassy noise is the supervised one times
    alpha_eff_uns / alpha_eff_sup = [r^(2P) + (1 - r^(2P))/M] / (r^(2P) (1+rho)^P), the signal part
    being the same, so alpha_c,uns(rho, M) * that ratio = alpha_c,sup(rho)."""
    P, M, rho = 4, 10, 0.3
    r = 1 / math.sqrt(1 + rho * M)
    ratio = (r ** (2 * P) + (1 - r ** (2 * P)) / M) / (r ** (2 * P) * (1 + rho) ** P)
    assert ratio > 5
    au, _ = L.capacity("unsupervised", P, rho=[rho], M=M, average=average)
    asup, _ = L.capacity("supervised", P, rho=[rho], M=M, average=average)
    assert abs(au[0] * ratio / asup[0] - 1) < 1e-7


# ------------------------------------------------------------------------------ structure
@pytest.mark.parametrize("setting,P,load,average,M,alpha,rho,T", [
    ("supervised", 4, "high", "gaussian", None, 0.01, 0.2, 0.4),
    ("supervised", 4, "high", "binomial", 7, 0.01, 0.2, 0.3),
    ("unsupervised", 4, "high", "binomial", 30, 0.001, 0.1, 0.3),
    ("supervised", 2, "high", "gaussian", None, 0.03, 0.2, 0.2),
    ("unsupervised", 2, "high", "binomial", 8, 0.02, 0.2, 0.3),
    ("supervised", 6, "low", "binomial", 9, 0.0, 0.4, 0.3),
    ("supervised", 2, "low", "gaussian", None, 0.0, 0.4, 0.5),
])
def test_free_energy_stationary_and_jacobian(setting, P, load, average, M, alpha, rho, T):
    """f is stationary in (s, q) at the solution (central differences), and the analytic
    Jacobian of the map equals its finite-difference Jacobian."""
    kw = dict(M=M, load=load, average=average)
    g = L.solve_grid(setting, P, alpha=[alpha], rho=[rho], T=[T], **kw)
    T_sg = 0.5 if P == 2 else 0.06           # the RS spin glass of P > 2 exists at low T only
    gs = L.solve_grid(setting, P, alpha=[alpha], rho=[rho], T=[T_sg], **kw)
    branches = [("retrieval", g, T)] + ([("spin_glass", gs, T_sg)] if load == "high" else [])
    for b, gg, Tb in branches:
        assert gg[f"exists_{b}"][0, 0, 0], b
        s, q, f = gg[f"s_{b}"][0, 0, 0], gg[f"q_{b}"][0, 0, 0], gg[f"f_{b}"][0, 0, 0]
        fe = lambda ds, dq: L.free_energy(setting, P, alpha=alpha, rho=rho, T=Tb, s=s + ds, q=q + dq, **kw)
        assert abs(fe(0, 0) - f) < 1e-13
        h = 1e-6                                    # O(h^2) truncation, O(1e-16/h) rounding
        d_s = (fe(h, 0) - fe(-h, 0)) / (2 * h)
        d_q = (fe(0, h) - fe(0, -h)) / (2 * h)
        H = 1e-4
        curv = abs(fe(H, 0) + fe(-H, 0) - 2 * f) / H ** 2 + abs(fe(0, H) + fe(0, -H) - 2 * f) / H ** 2
        if b == "retrieval":
            assert abs(d_s) < 1e-8
        assert abs(d_q) < 1e-7 and curv > 1e-2      # stationary, not flat
    # Jacobian of the map (s, q) -> (S, Q) at the retrieval solution
    pp = L._Params(setting, P, load, average, np.array([alpha]), np.array([rho]),
                   M, None, math.factorial(P))
    beta = np.array([1 / T])
    s, q = g["s_retrieval"][0, 0, 0], g["q_retrieval"][0, 0, 0]
    Rs, Rq, m, J, ok = pp.equations(beta, np.array([s]), np.array([q]))
    assert max(abs(Rs[0]), abs(Rq[0])) < 1e-11 and abs(m[0] - g["m_retrieval"][0, 0, 0]) < 1e-14
    h = 1e-6
    num = []
    for ds, dq in ((h, 0), (0, h)):
        p = pp.equations(beta, np.array([s + ds]), np.array([q + dq]))
        mm = pp.equations(beta, np.array([s - ds]), np.array([q - dq]))
        num.append([((p[0] + s + ds) - (mm[0] + s - ds))[0] / (2 * h), ((p[1] + q + dq) - (mm[1] + q - dq))[0] / (2 * h)])
    num = np.array(num).T          # rows: S, Q; columns: d/ds, d/dq
    assert np.allclose(J[:, 0].reshape(2, 2), num, atol=1e-6, rtol=1e-6)
    lam = np.linalg.eigvals(num).real.max()
    assert abs(lam - g["stability_retrieval"][0, 0, 0]) < 1e-5 and lam < 1


def _low_load_by_enumeration(P, M, rho, T, s):
    """Each setting's own low-load saddle point, one condensed archetype (gauge xi = +1), averaged over all
    2^M sign patterns chi of its M examples (P(chi = +1) = (1+r)/2, r = (1 + rho M)^(-1/2), R = r^2 (1+rho)):
    supervised H = -(N/(2 R^(P/2))) p^P, p = etabar.sigma/N, field (P/2) p^(P-1) etabar / R^(P/2);
    unsupervised H = -(N/(2 R^(P/2) M)) sum_a q_a^P, q_a = eta^a.sigma/N, field (P/2) sum_a eta^a q_a^(P-1)/(R^(P/2) M).
    Evaluated at the claimed order parameters p = q_a = r s; returns the right-hand sides and m."""
    r = 1 / math.sqrt(1 + rho * M)
    R = r * r * (1 + rho)
    chi = np.array(list(itertools.product((-1.0, 1.0), repeat=M)))
    w = np.prod((1 + r * chi) / 2, axis=1)
    x = r * s
    t_sup = np.tanh(0.5 * P * x ** (P - 1) * chi.mean(axis=1) / R ** (P / 2) / T)
    t_uns = np.tanh(0.5 * P * (chi * x ** (P - 1)).sum(axis=1) / (R ** (P / 2) * M) / T)
    return {"x": x, "p": (w * t_sup) @ chi.mean(axis=1), "q_a": (w * t_uns) @ chi, "m_sup": w @ t_sup,
            "m_uns": w @ t_uns}


def test_low_load_settings_and_shapes():
    """Target 12: the generalising state of both settings obeys its own setting's low-load equations (checked
    by enumerating the 2^M example sign patterns, not by the shared solver: the unsupervised example overlaps
    are all equal to the supervised p by exchangeability); low load ignores alpha; outputs have shape
    (len(alpha), len(rho), len(T)) and documented keys."""
    kw = dict(alpha=[0.0, 0.3], rho=[0.0, 0.2, 1.0], T=[0.2, 0.5, 0.8, 1.2], M=12, load="low", average="binomial")
    a = L.solve_grid("supervised", 4, **kw)
    b = L.solve_grid("unsupervised", 4, **kw)
    for g, key in ((a, "p"), (b, "q_a")):
        e = g["exists_retrieval"][0]
        assert e.sum() >= 6
        for i, j in zip(*np.nonzero(e)):
            ref = _low_load_by_enumeration(4, 12, kw["rho"][i], kw["T"][j], g["s_retrieval"][0, i, j])
            assert np.abs(ref[key] - ref["x"]).max() < 1e-9, (key, i, j)
            m = ref["m_sup"] if key == "p" else ref["m_uns"]
            assert abs(g["m_retrieval"][0, i, j] - m) < 1e-9
    for g in (a, b):
        for k in g:
            assert g[k].shape == (2, 3, 4), k
            assert k in L.OBSERVABLE_INFO, k
            assert np.array_equal(g[k][0], g[k][1], equal_nan=True) if g[k].dtype.kind == "f" else \
                np.array_equal(g[k][0], g[k][1])
    assert a["phase"].dtype == np.int8
    assert not a["exists_spin_glass"].any()
    # n = s/(1+rho); phases: retrieval at low T, paramagnet above the spinodal
    e = a["exists_retrieval"]
    rho = np.array(kw["rho"])[None, :, None]
    assert np.allclose((a["n_retrieval"] * (1 + rho))[e], a["s_retrieval"][e])
    assert np.all(a["phase"][:, :, 0] == 3) and np.all(a["phase"][:, :, -1] == 0)


def test_P2_low_load_continuous_transition():
    """Target 11: P = 2 low load, T_c = 1 at every rho (kappa (1 + rho) = 1: s = beta s E u^2 /(1+rho)
    to first order); the transition is continuous."""
    b = L.boundaries("supervised", 2, plane=("rho", "T"), load="low", points=3, span=(0.0, 1.0))
    assert np.allclose(b["retrieval_spinodal"]["T"], 1.0, atol=1e-6)
    assert np.allclose(b["retrieval_thermodynamic"]["T"], 1.0, atol=1e-6)
    g = L.solve_grid("supervised", 2, alpha=[0.0], rho=[0.5], T=[0.99, 0.9999, 1.0001], load="low")
    m = g["m_retrieval"][0, 0]
    assert 0 < m[1] < 0.1 * m[0] and not g["exists_retrieval"][0, 0, 2]
    assert abs(m[0] / m[1] - 10) < 0.2          # m ~ sqrt(1 - T)


# ------------------------------------------------------------------------------ flags and inputs
def test_non_convergence_flagged():
    kw = dict(alpha=[0.0], rho=[0.5], T=[0.577], M=11, load="low", average="binomial")
    g = L.solve_grid("supervised", 4, maxiter=1, **kw)
    assert not g["converged_retrieval"].all()
    bad = ~g["converged_retrieval"]
    assert not g["exists_retrieval"][bad].any()
    assert np.all(np.isnan(g["m_retrieval"][bad]))
    assert np.all(g["iterations_retrieval"][bad] <= 1)
    ok = L.solve_grid("supervised", 4, **kw)
    assert ok["converged_retrieval"].all() and np.all(ok["residual_retrieval"] <= 1e-12)


@pytest.mark.parametrize("kwargs", [
    dict(setting="semi"), dict(P=3), dict(P=1), dict(T=[0.0]), dict(T=[-1.0]), dict(rho=[-0.1]),
    dict(alpha=[-1.0]), dict(alpha=[[0.1]]), dict(average="binomial", M=None), dict(M=0), dict(M=2.5),
    dict(M=5, r=0.5), dict(r=1.5), dict(load="medium"), dict(average="exact"),
    dict(setting="unsupervised", M=None), dict(T=[float("nan")]), dict(tol=0.0), dict(maxiter=0),
])
def test_bad_inputs_raise(kwargs):
    base = dict(setting="supervised", P=4, alpha=[0.01], rho=[0.1], T=[0.5], M=None, average="gaussian")
    base.update(kwargs)
    setting, P = base.pop("setting"), base.pop("P")
    with pytest.raises(ParameterError):
        L.solve_grid(setting, P, **base)


def test_bad_boundary_inputs_raise():
    with pytest.raises(ParameterError):
        L.boundaries("supervised", 4, plane=("T", "rho"), fixed={"alpha": 0.01})
    with pytest.raises(ParameterError):
        L.boundaries("supervised", 4, plane=("alpha", "T"), fixed={})
    with pytest.raises(ParameterError):
        L.boundaries("supervised", 4, plane=("alpha", "T"), fixed={"rho": 0.1}, load="low")
    with pytest.raises(ParameterError):
        L.solve_T0("supervised", 4, alpha=[0.0], rho=[0.5], load="low", average="binomial")


@pytest.mark.parametrize("kw", [
    dict(plane=("rho", "T"), load="low", span=(1.0,)),
    dict(plane=("rho", "T"), load="low", span=(0.5, 0.0)),
    dict(plane=("rho", "T"), load="low", span=(-0.5, 0.5)),
    dict(plane=("rho", "T"), load="low", span=0.5),
    dict(plane=("alpha", "rho"), span=(1.0, 0.0)),
    dict(plane=("alpha", "T"), fixed={"rho": 0.1}, span=(0.02, 0.01)),
    dict(plane=("alpha", "T"), fixed={"rho": 0.1}, T_max=-1.0),
])
def test_bad_boundary_spans_raise_before_any_work(kw, monkeypatch):
    monkeypatch.setattr(L, "capacity", lambda *a, **k: (_ for _ in ()).throw(AssertionError("work started")))
    monkeypatch.setattr(L, "_T_lines", lambda *a, **k: (_ for _ in ()).throw(AssertionError("work started")))
    with pytest.raises(ParameterError, match="span|T_max"):
        L.boundaries("supervised", 4, points=2, **kw)


# ------------------------------------------------------------------------------ slow
def test_boundaries_bracket_the_transitions():
    """(alpha, T) plane at rho = 0.1, P = 4: at each traced spinodal point the retrieval solution
    exists 1e-6 below and not 1e-6 above (upper edge; reentrant lower edge the other way round);
    at the thermodynamic points f_R - f of the m = 0 state changes sign; T = 0 ends in place."""
    b = L.boundaries("supervised", 4, plane=("alpha", "T"), fixed={"rho": 0.1}, points=6)
    ac = L.capacity("supervised", 4, rho=[0.1])[0][0]
    sp = b["retrieval_spinodal"]
    assert sp["alpha"][-1] == ac and sp["T"][-1] == 0 and sp["alpha"][0] == 0
    assert np.all(np.diff(sp["T"]) < 0)                      # monotone along the traced line
    a, T = sp["alpha"][1:-1], sp["T"][1:-1]
    up = np.r_[True, np.diff(a) > 0][: a.size]               # upper edge first, then the lower edge
    for ai, Ti, u in zip(a, T, up):
        # approach the fold from the side where the solution exists (geometric steps down to 1e-6)
        d = np.geomspace(min(0.3, 0.5 * Ti), 1e-6, 25)
        Tg = np.r_[0.002, Ti - d, Ti + 1e-6] if u else np.r_[0.002, Ti - 1e-6, Ti + d[::-1]]
        g = L.solve_grid("supervised", 4, alpha=[ai], rho=[0.1], T=Tg)
        e = g["exists_retrieval"][0, 0]
        pair = (e[-2], e[-1]) if u else (e[1], e[2])
        assert pair == ((True, False) if u else (False, True)), (ai, Ti)
    th = b["retrieval_thermodynamic"]
    a, T = th["alpha"][1:3], th["T"][1:3]
    for ai, Ti in zip(a, T):
        g = L.solve_grid("supervised", 4, alpha=[ai], rho=[0.1], T=[0.002, Ti - 1e-6, Ti + 1e-6])
        ph = g["phase"][0, 0]
        assert ph[1] == 3 and ph[2] == 2
    assert np.all(np.isfinite(b["spin_glass"]["T"]))


@pytest.mark.slow
def test_boundaries_planes_full():
    """Full planes: curves finite, T = 0 ends in place, alpha_c(rho) decreasing."""
    b = L.boundaries("supervised", 4, plane=("alpha", "T"), fixed={"rho": 0.1}, points=21)
    sp = b["retrieval_spinodal"]
    assert np.all(np.diff(sp["T"]) < 0) and sp["T"][-1] == 0
    assert abs(sp["alpha"][-1] - L.capacity("supervised", 4, rho=[0.1])[0][0]) < 1e-12
    c = L.boundaries("supervised", 4, plane=("alpha", "rho"), points=11, span=(0.0, 1.0))
    assert np.all(np.diff(c["retrieval_spinodal"]["alpha"]) < 0)
    assert np.all(c["retrieval_thermodynamic"]["alpha"] < c["retrieval_spinodal"]["alpha"])
    d = L.boundaries("unsupervised", 2, plane=("rho", "T"), fixed={"alpha": 0.02}, points=11, M=50,
                     average="binomial", span=(0.0, 0.3))
    assert np.all(np.isfinite(d["spin_glass"]["T"]))


@pytest.mark.parametrize("M,rho,T", [(3, 0.4, 0.3), (4, 1.0, 0.2)])
def test_example_mode_eigenvalue_by_enumeration(M, rho, T):
    """Unsupervised low load: the eigenvalues of the full M-dimensional map of the example
    overlaps n_a = E[chi_a tanh(beta h)], h = (P/(2 R^(P/2) M)) sum_b n_b^(P-1) chi_b (enumerated
    over chi in {-1,1}^M, finite differences) at the example-symmetric solution are
    stability_retrieval (once) and stability_examples_retrieval (M - 1 times)."""
    P = 4
    g = L.solve_grid("unsupervised", P, alpha=[0.0], rho=[rho], T=[T], M=M, load="low", average="binomial")
    s = g["s_retrieval"].item()
    r = 1 / math.sqrt(1 + rho * M)
    R, beta = r * r * (1 + rho), 1 / T
    chis = np.array(list(np.ndindex(*(2,) * M)), float) * 2 - 1
    w = np.prod(np.where(chis > 0, (1 + r) / 2, (1 - r) / 2), axis=1)

    def N(n):
        h = P / (2 * R ** (P / 2) * M) * (chis * n ** (P - 1)).sum(1)
        return (w[:, None] * chis * np.tanh(beta * h)[:, None]).sum(0)
    n0 = np.full(M, r * s)
    assert np.abs(N(n0) - n0).max() < 1e-14
    h = 1e-6
    J = np.array([(N(n0 + h * e) - N(n0 - h * e)) / (2 * h) for e in np.eye(M)]).T
    ev = np.sort(np.linalg.eigvals(J).real)
    lam_s, lam_x = g["stability_retrieval"].item(), g["stability_examples_retrieval"].item()
    want = np.sort([lam_s] + [lam_x] * (M - 1))
    assert np.allclose(ev, want, atol=1e-8, rtol=0)
    sup = L.solve_grid("supervised", P, alpha=[0.0], rho=[rho], T=[T], M=M, load="low", average="binomial")
    assert np.isnan(sup["stability_examples_retrieval"]).all()


def test_example_mode_gaussian_is_large_M_limit():
    """The Gaussian (Stein) form of the example-mode eigenvalue is the large-M limit of the binomial one."""
    kw = dict(alpha=[0.0], rho=[0.5], T=[0.3, 0.5], load="low")
    h = L.solve_grid("unsupervised", 4, M=2000, **kw)
    g = L.solve_grid("unsupervised", 4, M=2000, average="binomial", **kw)
    a, b = h["stability_examples_retrieval"], g["stability_examples_retrieval"]
    assert np.all(np.isfinite(a)) and np.allclose(a, b, rtol=2e-3, atol=0)


@pytest.mark.parametrize("P,alpha", [(2, [0.02, 0.06]), (4, [0.005, 0.02])])
def test_unsupervised_equals_supervised_at_M1(P, alpha):
    """With one example per archetype the two Hamiltonians coincide (etabar = eta, R = 1), so the
    unsupervised high-load theory (example modes, glassy factor g) must reduce to the supervised one."""
    kw = dict(alpha=alpha, rho=[0.3, 1.0], T=[0.1, 0.4, 0.8], M=1, average="binomial")
    a = L.solve_grid("supervised", P, **kw)
    b = L.solve_grid("unsupervised", P, **kw)
    for k in ("m", "s", "q", "f", "phase", "f_spin_glass", "f_paramagnet", "stability_retrieval"):
        assert np.allclose(a[k], b[k], equal_nan=True, atol=1e-13, rtol=0), k
    assert a["exists_retrieval"].any() and a["exists_spin_glass"].any()


def test_rho_T_plane_high_load():
    """(rho, T) at alpha = 0.015, P = 4: the RS spin-glass line is rho-independent (supervised
    glassy part) and equals the storage one; the spinodal reaches T = 0 where alpha_c(rho) = alpha;
    the lines end at T = 0 in the right order."""
    b = L.boundaries("supervised", 4, plane=("rho", "T"), fixed={"alpha": 0.015}, points=4, span=(0.0, 0.6))
    sg = b["spin_glass"]["T"]
    assert np.allclose(sg, sg[0], atol=1e-8) and abs(sg[0] - 0.14976478) < 1e-6
    sp, th = b["retrieval_spinodal"], b["retrieval_thermodynamic"]
    assert sp["T"][-1] == 0 and th["T"][-1] == 0 and th["rho"][-1] < sp["rho"][-1]
    assert abs(L.capacity("supervised", 4, rho=[sp["rho"][-1]])[0][0] - 0.015) < 1e-8
    g = L.solve_T0("supervised", 4, alpha=[0.015], rho=[th["rho"][-1]])
    assert abs(g["e_retrieval"][0, 0] - g["e_spin_glass"][0, 0]) < 1e-9
    assert np.all(th["T"][:4] < sp["T"][:4])


def test_free_energy_refuses_q_outside_unit_interval():
    kw = dict(alpha=0.01, rho=0.1, T=0.5, s=0.9, M=20)
    assert np.isfinite(L.free_energy("supervised", 4, q=0.8, **kw))
    for q in (1.5, -0.1):
        with pytest.raises(ParameterError, match="q"):
            L.free_energy("supervised", 4, q=q, **kw)
