"""One-step replica-symmetry breaking (statmech.rsb): reductions to RS, P-spin limit, AT line,
T = 0 capacities. Long runs are marked slow."""
import math

import numpy as np
import pytest

from hopfield.validation import ParameterError
from statmech import rsb as R
from statmech import storage as S

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# ----------------------------------------------------------------------------------------------
# reductions to RS
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("P,alpha,T", [(2, 0.05, 0.3), (2, 0.1, 0.05), (3, 0.1, 0.4), (4, 0.03, 0.05)])
def test_x1_and_q1_eq_q0_reduce_to_rs(P, alpha, T):
    g = S.solve_grid(P, [alpha], [T])
    assert g["exists_retrieval"][0, 0]
    m, q = g["m_retrieval"][0, 0], g["q_retrieval"][0, 0]
    f_rs = g["f_retrieval"][0, 0]
    # q1 = q0 = q_RS: any x gives f_RS and zero residuals
    for x in (0.2, 0.7, 1.0):
        Rv, f = R.residuals_1rsb(P, alpha, T, m, q, q, x)
        assert f == pytest.approx(f_rs, abs=1e-10)
        assert np.max(np.abs(Rv)) < 1e-9
    # x = 1: f does not depend on q1 and equals the RS f at q0
    for q1 in (q + 0.3 * (1 - q), q + 0.9 * (1 - q)):
        f = R.free_energy_1rsb(P, alpha, T, m, q, q1, 1.0)
        assert f == pytest.approx(float(S.free_energy(P, alpha, T, m, q)), abs=1e-10)


def test_grid_rs_where_replicon_positive_and_rsb_below():
    """P = 3 dense at small load, retrieval replicon positive: 1RSB coincides with RS exactly."""
    g = R.solve_grid_1rsb(3, [0.05], [0.2, 0.4], ladder=4)
    assert (g["stability_retrieval"] > 0).all()
    assert not g["rsb_retrieval"].any()
    rs = S.solve_grid(3, [0.05], [0.2, 0.4])
    assert np.allclose(g["f_retrieval"], rs["f_retrieval"], atol=1e-14)
    assert np.allclose(g["q1_retrieval"], g["q0_retrieval"])
    assert (g["x_retrieval"] == 1).all()


# ----------------------------------------------------------------------------------------------
# pure P-spin glass limit
# ----------------------------------------------------------------------------------------------
def test_pspin_static_temperature():
    """Static 1RSB transition of the Ising P-spin glass with E J^2 = J^2 P!/(2 N^(P-1)), J = 1:
    P = 3 T_s = 0.651 (Gardner, Nucl. Phys. B 257, 747 (1985); Montanari & Ricci-Tersenghi,
    Eur. Phys. J. B 33, 339 (2003)); T_s decreases with P to the REM value 1/(2 sqrt(ln 2))."""
    T3, q3 = R.pspin_static_temperature(3)
    assert T3 == pytest.approx(0.651, abs=1e-3)
    assert 0.7 < q3 < 0.9
    T4, _ = R.pspin_static_temperature(4)
    T10, _ = R.pspin_static_temperature(10)
    rem = 1 / (2 * math.sqrt(math.log(2)))
    assert T3 > T4 > T10 > rem
    assert T10 == pytest.approx(rem, abs=1e-3)


def test_dense_spin_glass_transition_in_package_units():
    """Package convention: glassy part = P-spin glass with J^2 = alpha P!/2, so at alpha = 2/P! (J = 1)
    the 1RSB spin glass has x < 1 just below T_s and is RS (x = 1, paramagnet) above; at alpha = 0.1
    the transition moves to sqrt(alpha P!/2) T_s."""
    Ts, _ = R.pspin_static_temperature(3)
    for alpha in (1 / 3, 0.1):
        J = math.sqrt(alpha * 6 / 2)
        g = R.solve_grid_1rsb(3, [alpha], J * np.array([0.5, Ts - 0.01, Ts + 0.01]), ladder=8)
        assert list(g["rsb_spin_glass"][0]) == [True, True, False]
        x = g["x_spin_glass"][0]
        assert 0 < x[0] < x[1] < 1 and x[1] > 0.95
        assert g["q0_spin_glass"][0, 0] == 0
        # where 1RSB is used its f is above the paramagnet's (f maximal over the Parisi parameters)
        fP = -(math.log(2) + alpha * 6 / 8 / (J * Ts - 0.01 * J) ** 2) * (J * Ts - 0.01 * J)
        assert g["f_spin_glass"][0, 1] >= fP - 1e-12
        assert set(np.unique(g["phase"])) <= set(R.PHASES)


def test_spin_glass_T0_energy_and_low_T_continuity():
    """T = 0 1RSB P-spin ground state e = max_mu [-ln2/mu - c mu/2 - ln Phi(mu sqrt(cP))/mu] (c = J^2/2);
    P = 3, J = 1: e = -0.81353 here (the RS value -sqrt(3/pi) = -0.977 is far off; the REM value
    -sqrt(ln 2) = -0.8326 is approached for large P); finite-T 1RSB f approaches it at low T."""
    t0 = R.solve_T0_1rsb(3, [1 / 3])
    e3 = t0["e_spin_glass"][0]
    assert e3 == pytest.approx(-0.813535, abs=2e-6)
    e10 = R.solve_T0_1rsb(10, [2 / math.factorial(10)])["e_spin_glass"][0]
    assert e10 == pytest.approx(-math.sqrt(math.log(2)), abs=2e-3)
    assert e10 < e3
    g = R.solve_grid_1rsb(3, [1 / 3], [0.02, 0.05], ladder=2)
    assert g["rsb_spin_glass"].all()
    assert g["f_spin_glass"][0, 0] == pytest.approx(e3, abs=2e-4)
    assert g["x_spin_glass"][0, 0] / 0.02 == pytest.approx(t0["mu_spin_glass"][0], rel=0.05)


# ----------------------------------------------------------------------------------------------
# replicon and AT line
# ----------------------------------------------------------------------------------------------
def test_at_line_p2():
    """AGS retrieval AT line (storage spec [C]: 0.0027, 0.0095, 0.0142 at alpha = 0.11, 0.13, 0.135)."""
    a, T = R.at_line(2, [0.11, 0.13, 0.135])
    assert np.allclose(a, [0.11, 0.13, 0.135])
    assert np.allclose(T, [0.0027, 0.0095, 0.0142], atol=1e-4)
    for ai, Ti in zip(a, T):
        g = S.solve_grid(2, [ai], [Ti - 2e-5, Ti + 2e-5])
        lam = R.replicon(2, ai, [Ti - 2e-5, Ti + 2e-5], g["m_retrieval"][0], g["q_retrieval"][0])
        assert lam[0] < 0 < lam[1]


def test_replicon_paramagnet():
    # P = 2 paramagnet: 1 - alpha beta^2/(1-beta)^2, zero at T_g = 1 + sqrt(alpha)
    for alpha in (0.05, 0.1):
        Tg = 1 + math.sqrt(alpha)
        assert R.replicon(2, alpha, Tg, 0.0, 0.0) == pytest.approx(0.0, abs=1e-12)
        assert R.replicon(2, alpha, Tg * 0.99, 0.0, 0.0) < 0 < R.replicon(2, alpha, Tg * 1.01, 0.0, 0.0)
    # P >= 3 paramagnet: xi''(0) = 0, replicon 1 (the P-spin transition is discontinuous)
    assert R.replicon(3, 0.1, 0.3, 0.0, 0.0) == pytest.approx(1.0)
    # explicit r reproduces the default r = q/D^2
    T, m, q = 0.1, 0.98, 0.95
    r = q / (1 - (1 - q) / T) ** 2
    assert R.replicon(2, 0.1, T, m, q, r) == pytest.approx(R.replicon(2, 0.1, T, m, q))


# ----------------------------------------------------------------------------------------------
# T = 0
# ----------------------------------------------------------------------------------------------
def test_T0_solution_is_stationary_and_above_rs():
    for P, alpha in ((2, 0.13), (3, 0.1), (4, 0.03)):
        s = R.solve_T0_1rsb(P, [alpha])
        assert s["exists"][0]
        v = np.array([s["m"][0], s["q0"][0], s["C"][0], s["mu"][0]])
        e0, res = R.energy_T0_1rsb(P, alpha, *v)
        assert np.max(np.abs(res if P == 2 else res[[0, 1, 3]])) < 1e-9
        # 1RSB energy above RS (maximal over the Parisi parameters), by a small amount
        assert 0 <= e0 - s["e_retrieval_rs"][0] < 1e-3
        # stationarity of e in every variable (C enters only for P = 2)
        for k in range(4 if P == 2 else 3) if P == 2 else (0, 1, 3):
            h = 1e-6 * max(abs(v[k]), 1e-2)
            vp, vm = v.copy(), v.copy()
            vp[k] += h
            vm[k] -= h
            d = (R.energy_T0_1rsb(P, alpha, *vp)[0] - R.energy_T0_1rsb(P, alpha, *vm)[0]) / (2 * h)
            assert abs(d) < 1e-6


def test_dense_capacities_1rsb_above_rs_and_converged():
    """P = 3: 1RSB T = 0 capacity above RS; quadrature convergence of the T = 0 outer grid
    (resolution 4 vs the default 8 here, 16 in the slow tests)."""
    for P, ref in ((3, 0.1537373),):
        ac_rs, _ = S.capacity(P)
        a8, m8 = R.capacity_1rsb(P)
        a4, m4 = R.capacity_1rsb(P, resolution=4)
        assert a8 > ac_rs
        assert a4 == pytest.approx(a8, rel=1e-6)
        assert m4 == pytest.approx(m8, abs=1e-4)
        assert a8 == pytest.approx(ref, rel=1e-6)


# ----------------------------------------------------------------------------------------------
# API, validation
# ----------------------------------------------------------------------------------------------
def test_grid_keys_and_shapes():
    g = R.solve_grid_1rsb(3, [1 / 3, 0.5], [0.3, 0.7], ladder=2)
    for b in R.BRANCHES:
        for k in ("m", "q0", "q1", "x", "f", "residual", "converged", "iterations", "exists", "rsb", "stability"):
            assert g[f"{k}_{b}"].shape == (2, 2)
            assert f"{k}_{b}" in R.OBSERVABLE_INFO
    for k in ("m", "f", "phase"):
        assert g[k].shape == (2, 2) and k in R.OBSERVABLE_INFO
    assert g["phase"].dtype == np.int8
    used = g["rsb_spin_glass"]
    assert (g["q1_spin_glass"][used] > g["q0_spin_glass"][used]).all()
    assert ((g["x_spin_glass"][used] > 0) & (g["x_spin_glass"][used] < 1)).all()


@pytest.mark.parametrize("call", [
    lambda: R.solve_grid_1rsb(1, [0.1], [0.5]),
    lambda: R.solve_grid_1rsb(2.5, [0.1], [0.5]),
    lambda: R.solve_grid_1rsb(2, [-0.1], [0.5]),
    lambda: R.solve_grid_1rsb(2, [0.1], [0.0]),
    lambda: R.solve_grid_1rsb(2, [0.1], [float("nan")]),
    lambda: R.solve_grid_1rsb(2, [[0.1]], [0.5]),
    lambda: R.solve_grid_1rsb(2, [], [0.5]),
    lambda: R.solve_grid_1rsb(2, [0.1], [0.5], tol=0),
    lambda: R.replicon(2, 0.1, 0.5, 0.5, 1.5),
    lambda: R.replicon(2, 0.1, -0.5, 0.5, 0.5),
    lambda: R.at_line(2, [0.1], xtol=0),
    lambda: R.at_line(0, [0.1]),
    lambda: R.capacity_1rsb(1),
    lambda: R.capacity_1rsb(2, resolution=0),
    lambda: R.solve_T0_1rsb(3, [-1.0]),
    lambda: R.pspin_static_temperature(2),
    lambda: R.pspin_static_temperature(3, J=-1),
])
def test_bad_inputs(call):
    with pytest.raises(ParameterError):
        call()


@pytest.mark.parametrize("name,call", [
    ("T", lambda: R.free_energy_1rsb(3, 0.1, -0.5, 0.5, 0.3, 0.6, 0.5)),
    ("alpha", lambda: R.free_energy_1rsb(3, -0.1, 0.5, 0.5, 0.3, 0.6, 0.5)),
    ("x", lambda: R.free_energy_1rsb(3, 0.1, 0.5, 0.5, 0.3, 0.6, 2.0)),
    ("x", lambda: R.residuals_1rsb(2, 0.1, 0.5, 0.5, 0.3, 0.6, [0.5, 0.0])),
    ("T", lambda: R.residuals_1rsb(3, 0.1, float("nan"), 0.5, 0.3, 0.6, 0.5)),
    ("q1", lambda: R.residuals_1rsb(3, 0.1, 0.5, 0.5, 0.3, 1.2, 0.5)),
    ("m", lambda: R.residuals_1rsb(3, 0.1, 0.5, -1.5, 0.3, 0.6, 0.5)),
    ("n_outer", lambda: R.residuals_1rsb(3, 0.1, 0.5, 0.5, 0.3, 0.6, 0.5, n_outer=0)),
    ("T", lambda: R.hard_soft_parts(2, 0.1, -0.5, 0.5, 0.3, 0.6, 0.5)),
    ("q0", lambda: R.hard_soft_parts(2, 0.1, 0.5, 0.5, -0.3, 0.6, 0.5)),
    ("alpha", lambda: R.energy_T0_1rsb(3, -0.1, 0.9, 0.5, 0.1, 2.0)),
    ("m", lambda: R.energy_T0_1rsb(3, 0.1, 5.0, 0.5, 0.1, 2.0)),
    ("mu", lambda: R.energy_T0_1rsb(2, 0.1, 0.9, 0.5, 0.1, 0.0)),
    ("C", lambda: R.energy_T0_1rsb(2, 0.1, 0.9, 0.5, -0.1, 1.0)),
    ("alpha", lambda: R.replicon_1rsb_T0(3, -0.1, 0.9, 0.5, 0.1, 2.0)),
    ("q0", lambda: R.replicon_1rsb_T0(2, 0.1, 0.9, 1.5, 0.1, 2.0)),
    ("x", lambda: R.gaussian_layer_logdet(1.0, 0.2, 0.5, 0.0, 0)),
    ("beta", lambda: R.gaussian_layer_logdet(-1.0, 0.2, 0.5, 0.5, 0)),
])
def test_bad_inputs_name_the_parameter(name, call):
    with pytest.raises(ParameterError) as err:
        call()
    assert err.value.name == name


# ----------------------------------------------------------------------------------------------
# slow
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_p2_capacity_1rsb_steffan_kuehn():
    """AGS 1RSB T = 0 capacity 0.138186 (Steffan & Kuehn, Z. Phys. B 95, 249 (1994); Stojnic 2024
    fl-RDT level 2: 0.138186); converged in the outer-grid resolution."""
    vals = [R.capacity_1rsb(2, resolution=r)[0] for r in (4, 8, 12)]
    assert vals[1] == pytest.approx(0.138186, abs=1e-6)
    assert abs(vals[2] - vals[1]) < 2e-8
    assert vals[1] > S.capacity(2)[0]


@pytest.mark.slow
def test_p2_rsb_below_the_at_line():
    """P = 2 retrieval: 1RSB solution used well below T_R (replicon < 0), q1 - q0 shrinking towards T_R,
    RS above T_R; f_1RSB >= f_RS. (Within ~10 % of T_R the x equation, of order (q1 - q0)^2, is below
    the quadrature noise and the continuation may stop: a known limitation.)"""
    a, (TR,) = 0.135, R.at_line(2, [0.135])[1]
    T = np.array([0.3, 0.5, 0.7, 1.05, 1.5]) * TR
    g = R.solve_grid_1rsb(2, [a], T, ladder=12)
    rsb = g["rsb_retrieval"][0]
    assert list(rsb) == [True, True, True, False, False]
    assert (g["stability_retrieval"][0, :3] < 0).all() and (g["stability_retrieval"][0, 3:] > 0).all()
    gap = (g["q1_retrieval"] - g["q0_retrieval"])[0]
    assert gap[0] > gap[1] > gap[2] > 0
    assert (g["f_retrieval"][0, :3] >= S.solve_grid(2, [a], T[:3])["f_retrieval"][0] - 1e-12).all()


@pytest.mark.slow
def test_large_P_thermodynamic_threshold_approaches_rem():
    """T = 0 crossing of the 1RSB retrieval (-1/2 + ...) and 1RSB spin-glass energies: alpha_th P! ->
    1/(2 ln 2) (REM: -1/2 = -J sqrt(ln 2), J^2 = alpha P!/2). P = 10: 0.7220 vs 0.72135."""
    P = 10
    ac = R.capacity_1rsb(P)[0]
    A = np.linspace(0.3 * ac, 0.995 * ac, 16)
    s = R.solve_T0_1rsb(P, A)
    assert s["exists"].all()
    d = s["e_retrieval"] - s["e_spin_glass"]
    k = int(np.flatnonzero((d[:-1] < 0) & (d[1:] >= 0))[0])
    ath = A[k] - d[k] * (A[k + 1] - A[k]) / (d[k + 1] - d[k])
    assert ath * math.factorial(P) == pytest.approx(1 / (2 * math.log(2)), abs=2e-3)


@pytest.mark.slow
@pytest.mark.parametrize("P,ref", [(3, 0.1537373), (4, 0.0381953), (6, 0.0014658565)])
def test_dense_capacity_resolution_16(P, ref):
    ac_rs, _ = S.capacity(P)
    a, m = R.capacity_1rsb(P)
    assert a > ac_rs
    assert a == pytest.approx(ref, rel=1e-6)
    a16, m16 = R.capacity_1rsb(P, resolution=16)
    assert a16 == pytest.approx(a, rel=1e-7)
    assert m16 == pytest.approx(m, abs=1e-5)


def test_reference_csv():
    """data/rsb_reference.csv: the fast rows (slow rows are covered by the slow tests)."""
    import csv
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2] / "data" / "rsb_reference.csv"
    with open(path) as fh:
        ref = {r["name"]: (float(r["value"]), float(r["tolerance"]))
               for r in csv.DictReader(line for line in fh if not line.startswith("#"))}
    got = {"pspin3_T_s": R.pspin_static_temperature(3)[0],
           "dense3_alpha_c_1rsb_T0": R.capacity_1rsb(3)[0],
           "pspin3_e_1rsb_T0": R.solve_T0_1rsb(3, [1 / 3])["e_spin_glass"][0]}
    a, T = R.at_line(2, [0.11, 0.13, 0.135])
    got.update({"ags_T_R_alpha_0.11": T[0], "ags_T_R_alpha_0.13": T[1], "ags_T_R_alpha_0.135": T[2]})
    for k, v in got.items():
        val, tol = ref[k]
        assert abs(v - val) <= tol, k
