"""Compiled 1RSB path (statmech.rsb_kernels + sinh-mapped outer rule) against the numpy reference,
1RSB replicon, hard/soft decomposition, 1RSB lines."""
import math
import pathlib

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import root
from scipy.special import log_ndtr

from statmech import rsb as R
from statmech import rsb_kernels as K
from statmech import storage as S
from statmech.quadrature import gauss_hermite

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _random_points(P, n, seed):
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.02, 0.15, n)
    beta = 1 / np.exp(rng.uniform(np.log(0.003), np.log(0.8), n))
    m = rng.uniform(0, 1, n)
    q0 = rng.uniform(0.05, 0.99, n)
    q1 = q0 + np.exp(rng.uniform(-12, 0, n)) * (1 - q0)
    return alpha, beta, m, q0, beta * (1 - q1), beta * rng.uniform(0.01, 1, n)


@pytest.mark.parametrize("P", [2, 3])
def test_kernel_equals_numpy_reference_on_the_same_rule(P):
    """Same outer nodes (uniform grid and Gauss-Hermite): compiled and numpy inner/outer averages agree to rounding."""
    args = _random_points(P, 30, P)
    for rule in (0.02, 60):
        a = R._outer(P, *args, rule, reference=True)
        fl = lambda v: np.ascontiguousarray(np.broadcast_to(v, (30,)), dtype=float)
        z, w = R._zgrid(rule) if isinstance(rule, float) else gauss_hermite(rule)
        zh, wh = gauss_hermite(64)
        y, wy = R._panels()
        E = K.outer_averages(fl(args[1]), fl(a["a"]), fl(a["s0"]), fl(a["s1"]), fl(a["x"]), z, w, zh, wh, y, wy)
        for i, k in enumerate(("ElnZ", "Et", "Et2", "Es", "Elc")):
            assert np.allclose(E[i], a[k], rtol=1e-13, atol=1e-12), k


def test_t0_kernel_and_log_ndtr():
    u = np.concatenate([np.linspace(-60, 12, 400), [-35.0, -34.999, 0.0]])
    assert np.allclose([K.log_ndtr(v) for v in u], log_ndtr(u), rtol=1e-13, atol=1e-300)
    z, w = R._zgrid(0.003)
    for a0, s0, s, mu in ((0.9, 0.3, 0.2, 5.0), (0.0, 0.0, 0.7, 0.4), (1.5, 1.1, 0.05, 40.0)):
        lnZ, sg, ah, dens = R._T0_inner(a0 + s0 * z, s, mu)
        ref = [lnZ @ w, sg @ w, (sg * sg) @ w, ah @ w, dens @ w]
        assert np.allclose(K.t0_averages(a0, s0, s, mu, z, w), ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("P", [2, 3])
def test_sinh_rule_converged(P):
    """The sinh-mapped outer rule at the solver's step agrees with half the step (random points,
    including sharp inner transitions at low T where the uniform rule needs a 1e-4 spacing)."""
    alpha, beta, m, q0, C, mu = _random_points(P, 20, 10 + P)
    a, s0, s1, _, x, _, _ = R._fields(P, alpha, beta, m, q0, C, mu)
    fl = lambda v: np.ascontiguousarray(v, dtype=float)
    zh, wh = gauss_hermite(64)
    y, wy = R._panels()
    E1 = K.outer_averages_sinh(fl(beta), fl(a), fl(s0), fl(s1), fl(x), R.OUTER_DT, zh, wh, y, wy)
    E2 = K.outer_averages_sinh(fl(beta), fl(a), fl(s0), fl(s1), fl(x), R.OUTER_DT / 2, zh, wh, y, wy)
    assert np.max(np.abs(E1 - E2)) < 1e-11


def test_fast_grid_vs_reference_and_stationarity():
    """P = 3 spin glass (1RSB) and retrieval: compiled solver vs the numpy reference; the fast
    solution satisfies the saddle-point equations and df/dx = 0 under both quadratures."""
    kw = {"ladder": 4}
    fast = R.solve_grid_1rsb(3, [1 / 3], [0.3, 0.5], **kw)
    ref = R.solve_grid_1rsb(3, [1 / 3], [0.3, 0.5], reference=True, **kw)
    for b in R.BRANCHES:
        assert (fast[f"rsb_{b}"] == ref[f"rsb_{b}"]).all()
        assert np.allclose(fast[f"f_{b}"], ref[f"f_{b}"], atol=1e-10, equal_nan=True)
        assert np.allclose(fast[f"x_{b}"], ref[f"x_{b}"], atol=1e-6, equal_nan=True)
        assert np.allclose(fast[f"q1_{b}"], ref[f"q1_{b}"], atol=1e-8, equal_nan=True)
    use = fast["rsb_spin_glass"]
    assert use.all()
    args = [np.full(2, 1 / 3), np.array([0.3, 0.5])] + [fast[f"{k}_spin_glass"][0] for k in ("m", "q0", "q1", "x")]
    for reference in (False, True):
        Rv, _ = R.residuals_1rsb(3, *args, reference=reference)
        assert np.max(np.abs(Rv)) < (1e-9 if not reference else 1e-8)


@pytest.mark.parametrize("P,ref,rs", [(2, 0.1381865, 0.1379056), (4, 0.0381953, 0.0329767),
                                      (6, 1.4658565e-3, 1.31400e-3)])
def test_capacities_fast(P, ref, rs):
    """T = 0 capacities RS -> 1RSB (issue 7 numbers; P = 2: Steffan-Kuehn 0.138186), converged in the
    outer-rule resolution."""
    a8, _ = R.capacity_1rsb(P)
    a4, _ = R.capacity_1rsb(P, resolution=4)
    assert a8 == pytest.approx(ref, rel=1e-6)
    assert a4 == pytest.approx(a8, rel=1e-9)
    assert S.capacity(P)[0] == pytest.approx(rs, rel=5e-6)      # rs quoted to 6-7 digits


# ---------------------------------------------------------------------------- 1RSB replicon ----
@pytest.mark.parametrize("P,alpha,T", [(2, 0.1, 0.05), (2, 0.135, 0.01), (3, 0.1, 0.2), (4, 0.03, 0.05)])
def test_replicon_1rsb_reduces_to_rs(P, alpha, T):
    g = S.solve_grid(P, [alpha], [T])
    m, q = g["m_retrieval"][0, 0], g["q_retrieval"][0, 0]
    lam_rs = R.replicon(P, alpha, T, m, q)
    for x in (0.3, 0.8, 1.0):     # q1 = q0 (the x = 1 solution has q1 = q0)
        assert R.replicon_1rsb(P, alpha, T, m, q, q, x) == pytest.approx(lam_rs, abs=1e-11)


def test_replicon_1rsb_pspin_gardner_picture():
    """P = 3 pure P-spin glass (J = 1): the 1RSB solution is stable just below T_s, unstable at low T
    (Gardner transition in between), and lambda_1 -> -infinity like -1/T at T = 0."""
    Ts, _ = R.pspin_static_temperature(3)
    g = R.solve_grid_1rsb(3, [1 / 3], [0.1, Ts - 0.01], ladder=8)
    assert g["rsb_spin_glass"].all()
    lam = g["replicon_1rsb_spin_glass"][0]
    assert lam[0] < 0 < lam[1]
    t0 = R.solve_T0_1rsb(3, [1 / 3])
    assert R.replicon_1rsb_T0(3, 1 / 3, 0.0, 0.0, t0["C_spin_glass"][0], t0["mu_spin_glass"][0]) < 0


def test_replicon_1rsb_p2_capacity_and_grid():
    """P = 2: on the T = 0 1RSB solution at alpha_c, T lambda_1 -> -0.00543 < 0 (unstable towards
    further breaking, consistent with 2RSB 0.138187 > 1RSB 0.138186); finite T below the AT line the
    1RSB replicon is negative but much closer to 0 than the RS one."""
    ac, mc, d = R.capacity_1rsb(2, return_details=True)
    slope = R.replicon_1rsb_T0(2, ac, mc, d["q0"], d["C"], d["mu"])
    assert slope == pytest.approx(-(2 / 3) * ac * d["C"] / (1 - d["C"]) ** 2, rel=1e-6)
    assert slope < 0
    g = R.solve_grid_1rsb(2, [0.135], [0.003, 0.007], ladder=12)
    assert g["rsb_retrieval"].all()
    lam1, lam = g["replicon_1rsb_retrieval"][0], g["stability_retrieval"][0]
    assert (lam < lam1).all() and (lam1 < 0).all()
    assert "replicon_1rsb_retrieval" in R.OBSERVABLE_INFO


# ------------------------------------------------------------------- hard/soft decomposition ----
def test_gaussian_layer_logdet_explicit_matrices_and_limit():
    beta, q0, q1 = 1.7, 0.3, 0.8
    for n, x in ((6, 2), (6, 3), (8, 4)):
        Q = np.full((n, n), q0)
        for b in range(n // x):
            Q[b * x:(b + 1) * x, b * x:(b + 1) * x] = q1
        np.fill_diagonal(Q, 1.0)
        sign, ld = np.linalg.slogdet(np.eye(n) - (beta / 10) * Q)
        assert sign > 0
        assert R.gaussian_layer_logdet(beta / 10, q0, q1, x, n) == pytest.approx(ld, abs=1e-12)
    # n -> 0 continuation: (1/n) ln det -> the bracket of the soft part
    b, x = 0.8, 0.4
    D1 = 1 - b * (1 - q1)
    D0 = D1 - b * x * (q1 - q0)
    lim = (1 - 1 / x) * math.log(D1) + math.log(D0) / x - b * q0 / D0
    assert R.gaussian_layer_logdet(b, q0, q1, x, 1e-7) / 1e-7 == pytest.approx(lim, abs=1e-6)


def test_hard_soft_decomposition_p2():
    """P = 2: self + hard + soft = f on a grid of RS and 1RSB points; RS points equal the AGS free
    energy of statmech.storage; paramagnet soft part = the Gaussian integral (alpha/(2 beta)) ln(1 - beta)."""
    rng = np.random.default_rng(5)
    alpha = rng.uniform(0.01, 0.15, 20)
    T = rng.uniform(0.05, 1.5, 20)
    m = rng.uniform(0, 1, 20)
    q0 = rng.uniform(0, 0.9, 20)
    q1 = q0 + rng.uniform(0, 1, 20) * (1 - q0)
    q1 = np.maximum(q1, 1 - 0.95 * T)          # D1 > 0
    x = rng.uniform(0.05, 1, 20)
    ok = 1 - (1 - q1) / T - x / T * (q1 - q0) > 0
    d = R.hard_soft_parts(2, alpha[ok], T[ok], m[ok], q0[ok], q1[ok], x[ok])
    assert ok.sum() >= 5
    assert np.allclose(d["self"] + d["hard"] + d["soft"], d["total"], atol=1e-11)
    sel = 1 - (1 - q0) / T > 0                 # RS points (q1 = q0, x = 1)
    d = R.hard_soft_parts(2, alpha[sel], T[sel], m[sel], q0[sel], q0[sel], 1.0)
    f_rs = S.free_energy(2, alpha[sel], T[sel], m[sel], q0[sel])
    assert np.allclose(d["self"] + d["hard"] + d["soft"], f_rs, atol=1e-11)
    Tp = np.array([1.2, 2.0])
    d = R.hard_soft_parts(2, 0.1, Tp, 0.0, 0.0, 0.0, 1.0)
    assert np.allclose(d["soft"], 0.1 * Tp / 2 * np.log(1 - 1 / Tp), atol=1e-14)
    assert np.allclose(d["hard"], -Tp * math.log(2), atol=1e-14)


@pytest.mark.parametrize("P", [3, 4])
def test_soft_part_vanishes_for_dense(P):
    rng = np.random.default_rng(P)
    n = 15
    q0 = rng.uniform(0, 0.9, n)
    d = R.hard_soft_parts(P, rng.uniform(0.01, 0.3, n), rng.uniform(0.05, 1.0, n), rng.uniform(0, 1, n),
                          q0, q0 + rng.uniform(0, 1, n) * (1 - q0), rng.uniform(0.05, 1, n))
    assert np.max(np.abs(d["soft"])) < 1e-12
    assert np.allclose(d["hard"], d["total"], atol=1e-12)


# -------------------------------------------------------------------------------- 1RSB lines ----
def _static_T(P, alpha):
    """Static 1RSB transition of the m = 0 state solved directly (no package code): glassy covariance
    xi(q) = c q^P with c = alpha P!/4 (storage.md: paramagnet -beta f = ln 2 + beta^2 alpha P!/8); at x = 1,
    q0 = 0 the tilted inner measure is a shifted Gaussian, E[cosh X g(X)]/E cosh X = E g(s^2 + s z), s^2 = beta^2 xi'(q),
    so q = E tanh^2(s^2 + s z) and df/dx|_(x=1) = 0 reads E ln cosh(s^2 + s z) - s^2/2 - (beta^2/2)(q xi' - xi) = 0.
    Gauss-Hermite, 201 nodes; root (T, q) with q > 0 (q = 0 is the trivial paramagnet)."""
    z, w = hermegauss(201)
    w = w / w.sum()
    c = alpha * math.factorial(P) / 4

    def eqs(v):
        b = 1.0 / v[0]
        s2 = b * b * c * P * v[1] ** (P - 1)
        X = s2 + math.sqrt(s2) * z
        return [w @ np.tanh(X) ** 2 - v[1], w @ (np.logaddexp(X, -X) - math.log(2)) - s2 / 2
                - b * b / 2 * (P - 1) * c * v[1] ** P]
    sol = root(eqs, [0.6 * math.sqrt(2 * c), 0.9], method="hybr", options={"xtol": 1e-13})
    assert sol.success and sol.x[1] > 0.5 and np.max(np.abs(eqs(sol.x))) < 1e-12
    return float(sol.x[0])


def test_boundaries_1rsb_dense_spin_glass_line():
    """T_s(alpha) of the line against the equations solved directly at each alpha (P = 4); J = 1 is alpha = 2/P!;
    P = 3, J = 1: 0.6514 (the Ising 3-spin static temperature, ~0.651 in the literature)."""
    Ts, _ = R.pspin_static_temperature(4)
    a = np.array([0.0, 0.05, 2 / 24])
    b = R.boundaries_1rsb(4, a, names=("spin_glass_1rsb",))
    assert set(b) == {"spin_glass_1rsb"}
    assert b["spin_glass_1rsb"][1][0] == 0.0
    np.testing.assert_allclose(b["spin_glass_1rsb"][1][1:], [_static_T(4, x) for x in a[1:]], rtol=1e-7)
    assert b["spin_glass_1rsb"][1][-1] == pytest.approx(Ts)
    assert R.pspin_static_temperature(3)[0] == pytest.approx(_static_T(3, 1 / 3), rel=1e-7)
    assert _static_T(3, 1 / 3) == pytest.approx(0.651, abs=1e-3)


def test_boundaries_1rsb_p2_retrieval_line_and_trace_hook():
    """alpha_c^1RSB(T) near T = 0: starts at 0.1381865, stays above the RS T = 0 capacity (and above
    the RS re-entrant maximum 0.13818 of storage.md), within 2e-5 of the T = 0 value, and each point
    is a fold of alpha(m) at an admissible 1RSB solution."""
    from statmech.models import FAMILIES
    sweep = {"method": "1rsb", "P": 2, "alpha": [0.1, 0.14], "boundary_points": 4, "T": [0.01]}
    c = FAMILIES["hebbian"].trace(sweep, ["all"])
    A, T = c["retrieval_spinodal_1rsb"]["alpha"], c["retrieval_spinodal_1rsb"]["T"]
    assert len(A) >= 3 and T[0] == 0
    assert A[0] == pytest.approx(0.1381865, abs=1e-6)
    assert (A > 0.13818).all() and (np.abs(A - A[0]) < 2e-5).all()


def test_1rsb_study_traces_its_lines_next_to_rs(tmp_path):
    """End to end: a method = "1rsb" sweep asks for its own line, the RS sweep it links gives the RS
    lines, both land in the file and in the plot; the family's names are those of statmech.rsb."""
    from statmech.config import parse_config
    from statmech.models import FAMILIES
    from statmech.plot import plot_study
    from statmech.sweep import run_study

    assert FAMILIES["hebbian"].boundaries_1rsb == R.BOUNDARIES_1RSB
    cfg = parse_config("""
[[sweeps]]
name = "rs3"
P = 3
alpha = [0.05, 0.1]
T = [0.3, 0.6]
boundaries = ["spin_glass"]
boundary_points = 3

[[sweeps]]
name = "rsb3"
method = "1rsb"
P = 3
alpha = [0.05, 0.1]
T = [0.6]
theory = "rs3"
boundaries = ["spin_glass_1rsb"]
boundary_points = 3
""")
    out = tmp_path / "s.h5"
    res = run_study(cfg, out)
    line = res["rsb3"].boundaries["spin_glass_1rsb"]
    a = np.asarray(line["alpha"])
    assert a.size >= 2 and np.all(np.isfinite(line["T"]))
    np.testing.assert_allclose(line["T"], [_static_T(3, x) for x in a], rtol=1e-7)
    # the 1RSB static transition lies above the RS paramagnet - spin-glass line at the same alpha
    rs = res["rs3"].boundaries["spin_glass"]
    T_rs = np.interp(a, rs["alpha"], rs["T"])
    assert np.all(np.asarray(line["T"]) > T_rs)
    assert pathlib.Path(plot_study(out)).exists()
