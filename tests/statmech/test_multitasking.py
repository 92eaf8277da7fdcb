"""Multitasking (diluted-pattern) networks: low-storage theory, T = 0 families, SNR, loss view.

Validation targets: /work/shared/physics/multitasking.md Section 11 (1/N convention)."""
import itertools
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from hopfield import multitasking as HM
from hopfield.hebbian import HebbianNetwork
from hopfield.patterns import random_patterns
from hopfield.validation import ParameterError
from statmech import multitasking as M
from statmech import snr as SNR


def _stable(K, d, T, **kw):
    return [s for s in M.stationary_states(K, d, T, **kw) if s["stable"]]


# ------------------------------------------------------------------------------ the 3^K average
@pytest.mark.parametrize("K", [1, 2, 3, 4])
def test_half_atom_average_equals_direct_enumeration(K):
    rng = np.random.default_rng(K)
    d, T = 0.37, 0.41
    xs, p = M.atoms(K, d)
    assert xs.shape == (3 ** K, K) and abs(p.sum() - 1) < 1e-14
    for _ in range(3):
        m = rng.uniform(-0.6, 0.6, K)
        h = xs @ m / T
        F = (p * np.tanh(h)) @ xs
        A = np.eye(K) - (xs.T * (p / np.cosh(h) ** 2)) @ xs / T
        f = 0.5 * m @ m - T * (p @ np.log(2 * np.cosh(h)))
        assert np.allclose(M.rhs(m, d, T), F, atol=1e-14)
        assert np.allclose(M.hessian(m, d, T), A, atol=1e-13)
        assert abs(M.free_energy(m, d, T) - f) < 1e-14
        # the spec's second form of A: delta (1 - beta(1-d)) + beta E[xi xi^T tanh^2]
        A2 = np.eye(K) * (1 - (1 - d) / T) + (xs.T * (p * np.tanh(h) ** 2)) @ xs / T
        assert np.allclose(A, A2, atol=1e-13)


def test_average_matches_sampled_field_distribution():
    """Exact 3^K average vs a brute-force Monte Carlo average over sampled pattern rows."""
    K, d, T = 3, 0.45, 0.3
    m = np.array([0.4, 0.2, 0.1])
    xi = random_patterns(400_000, K, 7, dilution=d).astype(float)
    t = np.tanh(xi @ m / T)
    est = (xi * t[:, None]).mean(axis=0)
    err = (xi * t[:, None]).std(axis=0) / math.sqrt(xi.shape[0])
    assert np.all(np.abs(est - M.rhs(m, d, T)) < 5 * err)


def test_gradient_and_hessian_are_derivatives_of_f():
    K, d, T = 3, 0.55, 0.2
    m = np.array([0.3, -0.15, 0.07])
    eps = 1e-6
    g = np.array([(M.free_energy(m + eps * e, d, T) - M.free_energy(m - eps * e, d, T)) / (2 * eps) for e in np.eye(K)])
    assert np.allclose(g, m - M.rhs(m, d, T), atol=1e-8)
    H = np.array([(M.rhs(m + eps * e, d, T) - M.rhs(m - eps * e, d, T)) / (2 * eps) for e in np.eye(K)])
    assert np.allclose(np.eye(K) - H, M.hessian(m, d, T), atol=1e-7)


def test_free_energy_is_invariant_under_sign_flips_and_permutations():
    m = np.array([0.3, -0.15, 0.07, 0.02])
    f0 = M.free_energy(m, 0.4, 0.25)
    for perm in itertools.permutations(range(4)):
        s = np.array([1, -1, -1, 1])[list(perm)]
        assert abs(M.free_energy(s * m[list(perm)], 0.4, 0.25) - f0) < 1e-15


def test_K10_supported():
    """K = 10 (3^10 atoms): the pure state solves the K = 10 equations with the K-independent
    transverse eigenvalue; the ladder solves the T = 0 equations below d_c(10); K = 6 multi-start."""
    d, T = 0.5, 0.3
    m = np.zeros(10)
    m[0], lam = M.pure_state(d, T)
    assert np.abs(M.rhs(m, d, T) - m).max() < 1e-12
    ev = np.linalg.eigvalsh(M.hessian(m, d, T))
    assert abs(ev[0] - lam) < 1e-12
    lad = M.ladder_T0(10, 0.45)
    assert lad["exists"] and np.allclose(M.rhs_T0(lad["m"], 0.45), lad["m"], atol=1e-14)
    r = M.solve_point(6, 0.5, 0.3, n_random=0)
    assert r["converged"] and r["phase"] == "pure" and abs(r["m"][0] - m[0]) < 1e-10


# ------------------------------------------------------------------------------ T_c, Landau, reductions
@pytest.mark.parametrize("K", [1, 2, 3])
def test_Tc_is_one_minus_d(K):
    d = np.array([0.0, 0.3, 0.6, 0.8])
    Tc = 1 - d
    for fac, para in ((1.01, True), (0.99, False)):
        g = M.solve_grid(K, d, [1.0])  # shape check on a single T
        assert g["phase"].shape == (4, 1)
        for di, tc in zip(d, Tc):
            g = M.solve_grid(K, [di], [fac * tc])
            assert (g["phase"][0, 0] == 0) == para
            assert g["converged"][0, 0]
    # the paramagnet's Hessian is (1 - beta(1-d)) I: zero at T = 1 - d
    assert np.allclose(M.hessian(np.zeros(K), 0.3, 0.7), 0.0, atol=1e-14)
    b = M.boundaries(1, points=5)["paramagnetic"]
    assert np.allclose(b["T"], 1 - b["d"])


def test_K1_reduces_to_diluted_curie_weiss():
    d = np.array([0.0, 0.2, 0.5])
    T = np.array([0.1, 0.3, 0.45, 0.7, 0.95])
    g = M.solve_grid(1, d, T)
    for i, di in enumerate(d):
        for j, t in enumerate(T):
            m = g["m1"][i, j]
            assert abs(m - (1 - di) * math.tanh(m / t)) < 1e-12
            assert abs(m - M.pure_state(di, t)[0]) < 1e-10
    assert abs(M.solve_point(1, 0.3, 0.5)["m"][0] - 0.57017) < 5e-6      # spec 11.12


def test_d0_reduces_to_hopfield_low_storage():
    # Curie-Weiss m = tanh(beta m) and its free energy
    T = 0.6
    m = M.pure_state(0.0, T)[0]
    assert abs(m - math.tanh(m / T)) < 1e-14
    assert abs(M.free_energy([m], 0.0, T) - (0.5 * m * m - T * math.log(2 * math.cosh(m / T)))) < 1e-14
    # K = 2: pure states stable at all T < 1, the even 2-mixture never (Amit-Gutfreund-Sompolinsky 1985)
    for t in (0.05, 0.3, 0.7, 0.95):
        st = _stable(2, 0.0, t)
        assert [s["phase"] for s in st] == ["pure"]
        assert M.symmetric_state(2, 0.0, t)[1][0] < 0
    # K = 3: symmetric 3-mixture stable below T ~ 0.461 (AGS 1985) with m -> 1/2 at T -> 0
    (lo, hi), = M.symmetric_edges(3, 0.0)
    assert lo == 0.0 and abs(hi - 0.461) < 2e-3
    assert abs(M.symmetric_state(3, 0.0, 0.01)[0] - 0.5) < 1e-6


@pytest.mark.parametrize("K", [2, 3, 4])
def test_landau_selection_just_below_Tc(K):
    """Spec 3.3 / 11.8: pure for d < 2/3, symmetric K-mixture for d > 2/3, just below T_c."""
    d = np.array([0.3, 0.55, 0.75, 0.9])
    for i, di in enumerate(d):
        g = M.solve_grid(K, [di], [0.97 * (1 - di)])
        want = "pure" if di < 2 / 3 else "symmetric"
        assert M.PHASES[int(g["phase"][0, 0])] == want
    a, b, c = M.landau_coefficients(0.5, 0.4)
    assert b < 0 and c > 0 and a < 0
    assert M.landau_coefficients(0.8, 0.1)[1] > 0
    # transverse eigenvalue of the pure state near T_c: ~ (beta(1-d) - 1)(2 - 3d)
    for di in (0.3, 0.6, 0.7):
        t = (1 - di) * (1 - 1e-4)
        lam = M.pure_state(di, t)[1]
        assert abs(lam / (((1 - di) / t - 1) * (2 - 3 * di)) - 1) < 1e-3


@pytest.mark.parametrize("K", [3, 4])
def test_spec_solver_checks_section_3_3(K):
    for d, T, want in ((0.6, 0.38, "pure"), (0.65, 0.34, "pure"), (0.7, 0.29, "symmetric"), (0.8, 0.19, "symmetric")):
        assert [s["phase"] for s in _stable(K, d, T)] == [want]


# ------------------------------------------------------------------------------ finite-T values (11.12)
@pytest.mark.parametrize("K,d,T,want", [
    (2, 0.3, 0.3, (0.68566, 0.0)),
    (2, 0.3, 0.1, (0.69998, 0.20289)),
    (2, 0.8, 0.1, (0.16952, 0.16952)),
    (3, 0.8, 0.05, (0.16363, 0.16363, 0.16363)),
    (3, 0.9, 0.01, (0.09689, 0.09050, 0.08411)),
    (3, 0.5, 0.05, (0.49958, 0.24957, 0.12454)),
    (2, 0.7, 0.05, (0.29698, 0.21293)),
    (4, 0.6, 0.01, (0.35518, 0.26561, 0.18883, 0.13120)),
])
def test_finite_temperature_states(K, d, T, want):
    r = M.solve_point(K, d, T)
    assert r["converged"] and r["stability"] > 0 and r["residual"] < 1e-10
    assert np.allclose(r["m"], want, atol=6e-6)


def test_solve_grid_api():
    g = M.solve_grid(3, [0.3, 0.8], [0.05, 0.1, 0.5])
    for k in ("m1", "m2", "m3", "f", "phase", "stability", "residual", "converged", "n_stable"):
        assert g[k].shape == (2, 3), k
        assert k in M.OBSERVABLE_INFO
    assert g["phase"].dtype == np.int8 and set(np.unique(g["phase"])) <= set(M.PHASES)
    assert np.all(g["m1"] >= g["m2"]) and np.all(g["m2"] >= g["m3"])
    assert g["converged"].all() and np.all(g["stability"] > 0)
    assert M.PHASES[int(g["phase"][1, 0])] == "symmetric" and abs(g["m1"][1, 0] - 0.16363) < 6e-6
    assert M.PHASES[int(g["phase"][0, 1])] == "hierarchical"
    assert M.PHASES[int(g["phase"][1, 2])] == "paramagnet"
    # the thermodynamic state has the lowest f among stable states, and f at T -> 0 is -|m|^2/2
    st = _stable(3, 0.3, 0.05)
    assert abs(g["f"][0, 0] - min(s["f"] for s in st)) < 1e-12


# ------------------------------------------------------------------------------ lines
def test_pure_edge_table_and_K_independence():
    table = {0.05: 0.0475, 0.1: 0.0900, 0.2: 0.1601, 0.3: 0.2128, 0.4: 0.2536, 0.5: 0.2872,
             0.55: 0.3021, 0.6: 0.3160, 0.65: 0.3291}
    for d, Tp in table.items():
        assert abs(M.pure_edge(d) - Tp) < 6e-5, d
    assert abs(M.pure_edge(0.01) / (0.01 * 0.99) - 1) < 0.02          # small-d limit d(1-d)
    assert M.pure_edge(0.0) == 0.0 and abs(M.pure_edge(2 / 3) - 1 / 3) < 1e-12
    # K independence: the pure state (m, 0, ..) is stable just above T_p and unstable just below
    Tp = M.pure_edge(0.3)
    for K in (2, 3, 5):
        for t, sign in ((Tp * 1.001, 1), (Tp * 0.999, -1)):
            m = np.zeros(K)
            m[0] = M.pure_state(0.3, t)[0]
            assert np.abs(M.rhs(m, 0.3, t) - m).max() < 1e-12
            assert np.sign(np.linalg.eigvalsh(M.hessian(m, 0.3, t))[0]) == sign
    # root located to better than 1e-6
    assert abs(M.pure_state(0.3, Tp)[1]) < 1e-8


def _pure_edge_direct(d):
    """T_p from its own conditions, independent of the package scan: on the pure state m = a tanh(m/T)
    (a = 1-d), lambda_perp = 1 - a/T + m^2/T = 0 gives m^2 = a - T, so T_p is the root of
    sqrt(a - T) = a tanh(sqrt(a - T)/T) in (a d, a) (positive below a d, negative just below T_c for d < 2/3)."""
    a = 1.0 - d

    def g(T):
        return math.sqrt(a - T) - a * math.tanh(math.sqrt(a - T) / T)
    lo = a * d
    return lo if g(lo) == 0.0 else brentq(g, lo, a * (1 - 1e-9), xtol=1e-16, rtol=1e-14)


@pytest.mark.parametrize("d", [1e-5, 5e-5, (2 / 3) / 7000, 1e-3, 0.05, 0.3, 0.6])
def test_pure_edge_against_direct_solve_down_to_small_d(d):
    """Small d (T_p ~ d(1-d), below the old scan end 1e-4 (1-d)) and the d of boundaries(K, points=7001)[1]."""
    ref = _pure_edge_direct(d)
    assert abs(M.pure_edge(d) / ref - 1) < 1e-8
    if d < 1e-3:
        assert abs(ref / (d * (1 - d)) - 1) < 1e-12                      # T_p = d(1-d) + O(e^(-2/d))


def test_learning_pure_edge_small_d_asymptotics():
    """T_p(d, rho) at small d (Gaussian c = 1 + sqrt(rho) Z): at T << n, E sech^2(beta n c) = 2 T phi_c(0)/n,
    n = (1-d) s0/(1+rho), s0 = E|c|, so lambda_perp = 0 gives T_p = d(1-d) / (1 - 2 (1-d)(1+rho) phi_c(0)/s0);
    rho = 0: the storage value d(1-d). d = 1e-5: T_p below the old scan end 1e-4 (1-d)."""
    d = 1e-5
    assert abs(M.learning_pure_edge(d, rho=0.0) / (d * (1 - d)) - 1) < 1e-8
    for rho in (0.1, 0.3):
        phi0 = math.exp(-1 / (2 * rho)) / math.sqrt(2 * math.pi * rho)
        s0 = math.erf(1 / math.sqrt(2 * rho)) + math.sqrt(2 * rho / math.pi) * math.exp(-1 / (2 * rho))
        ref = d * (1 - d) / (1 - 2 * (1 - d) * (1 + rho) * phi0 / s0)
        assert abs(M.learning_pure_edge(d, rho=rho) / ref - 1) < 1e-5, rho


def test_symmetric_edges_K2_K3():
    for d, Ts in {0.7: 0.0938, 0.75: 0.0636, 0.8: 0.0402, 0.85: 0.0227, 0.9: 0.0100, 0.95: 0.0025}.items():
        (lo, hi), = M.symmetric_edges(2, d)
        assert abs(lo - Ts) < 6e-4 and abs(hi - (1 - d)) < 1e-9, d
    assert abs(M.symmetric_edges(2, 0.95)[0][0] / 0.05 ** 2 - 1) < 0.03      # -> (1-d)^2
    for d, Ts in {0.7: 0.1055, 0.75: 0.0737, 0.8: 0.049, 0.85: 0.0288, 0.9: 0.0135}.items():
        (lo, hi), = M.symmetric_edges(3, d)
        assert abs(lo - Ts) < 1e-3, d
    # pocket below 2/3 (K = 2): stable in a window below T_c (spec 5.1 / 11.14)
    for d, (a, b) in {0.602: (0.235, 0.253), 0.61: (0.200, 0.285), 0.62: (0.178, 0.302), 0.65: (0.137, 0.327)}.items():
        (lo, hi), = M.symmetric_edges(2, d)
        assert abs(lo - a) < 2e-3 and abs(hi - b) < 2e-3, d
    (lo, hi), = M.symmetric_edges(3, 0.65)
    assert abs(lo - 0.151) < 2e-3 and abs(hi - 0.313) < 2e-3
    assert M.symmetric_edges(2, 0.59) == []


def test_cascade_temperatures():
    for d, T3 in {0.1: 0.00900, 0.2: 0.03202, 0.3: 0.06383, 0.4: 0.10188, 0.5: 0.15906}.items():
        assert abs(M.cascade_temperature(3, d) - T3) < 6e-6, d
    assert M.cascade_temperature(2, 0.3) == M.pure_edge(0.3)
    assert abs(M.cascade_temperature(3, 0.05) / (0.95 * 0.05 ** 2) - 1) < 0.05    # (1-d) d^2
    assert abs(M.cascade_temperature(4, 0.1) / (0.9 * 0.1 ** 3) - 1) < 0.05       # (1-d) d^3


def test_boundaries_structure():
    b = M.boundaries(3, points=4)
    assert {"paramagnetic", "pure_edge", "symmetric_edge", "symmetric_upper_edge", "cascade_3", "multicritical"} <= set(b)
    for v in b.values():
        assert v["d"].shape == v["T"].shape
    pe = b["pure_edge"]
    assert np.allclose(pe["T"], [M.pure_edge(x) for x in pe["d"]])
    assert np.all(pe["T"] <= 1 - pe["d"] + 1e-12)
    assert np.all(b["symmetric_edge"]["T"] < 1 - b["symmetric_edge"]["d"])
    assert M.MULTICRITICAL == (2 / 3, 1 / 3)


# ------------------------------------------------------------------------------ T = 0
def test_critical_dilutions():
    ref = {3: 0.618034, 4: 0.543689, 5: 0.518790, 6: 0.508660, 8: 0.502017, 10: 0.500493}
    for K, dc in ref.items():
        assert abs(M.critical_dilution(K) - dc) < 1e-6
    assert abs(M.critical_dilution(3) - (math.sqrt(5) - 1) / 2) < 1e-14
    assert math.isnan(M.critical_dilution(2))
    c = M.critical_dilutions(3)
    assert abs(c["d_star"] - 0.546918) < 1e-6 and c["multicritical"] == 2 / 3
    assert math.isnan(M.critical_dilutions(4)["d_star"])


def test_ladder_and_family_B_at_T0():
    A = M.ladder_T0(3, 0.3)
    assert np.allclose(A["m"], (0.7, 0.21, 0.063)) and A["exists"]
    assert np.allclose(M.ladder_T0(4, 0.45)["m"], (0.55, 0.2475, 0.111375, 0.05011875))
    assert np.allclose(M.ladder_T0(2, 0.3)["m"], (0.7, 0.21)) and M.ladder_T0(2, 0.95)["exists"]
    for K, d in ((3, 0.3), (4, 0.45), (5, 0.5)):
        m = M.ladder_T0(K, d)["m"]
        assert abs(m.sum() - (1 - d ** K)) < 1e-14
        assert abs(m @ m - (1 - d) * (1 - d ** (2 * K)) / (1 + d)) < 1e-14
        assert np.allclose(M.rhs_T0(m, d), m, atol=1e-14)                  # T = 0 self-consistency
    assert not M.ladder_T0(3, 0.62)["exists"] and M.ladder_T0(3, 0.618)["exists"]
    assert not np.allclose(M.rhs_T0(M.ladder_T0(3, 0.7)["m"], 0.7), M.ladder_T0(3, 0.7)["m"])
    table = {0.2: ((0.544, 0.416, 0.288), -0.27597), 0.3: ((0.5285, 0.3815, 0.2345), -0.23992),
             0.5: ((0.4375, 0.3125, 0.1875), -0.16211), 0.6: ((0.368, 0.272, 0.176), -0.12019),
             0.7: ((0.2865, 0.2235, 0.1605), -0.07890), 0.9: ((0.0995, 0.0905, 0.0815), -0.01237)}
    for d, (mB, f0) in table.items():
        B = M.family_B_T0(d)
        assert np.allclose(B, mB, atol=1e-12) and abs(-0.5 * B @ B - f0) < 6e-6
        assert np.allclose(np.diff(B), -d * (1 - d) ** 2)
        assert np.allclose(M.rhs_T0(B, d), B, atol=1e-14)
    fA = {0.2: -0.33331, 0.3: -0.26903, 0.5: -0.16406, 0.6: -0.11917}
    for d, f0 in fA.items():
        assert abs(M.ladder_T0(3, d)["f0"] - f0) < 6e-6
    assert M.ground_state_T0(0.5)["family"] == "A" and M.ground_state_T0(0.56)["family"] == "B"
    assert M.ground_state_T0(0.7)["family"] == "B"


@pytest.mark.parametrize("d,fam", [(0.3, "A"), (0.5, "A"), (0.58, "B"), (0.7, "B")])
def test_T0_limit_of_finite_T_solver_K3(d, fam):
    """T -> 0+: the lowest stable state tends to the ground-state family; both A and B are stable where
    A exists (d < d_c(3))."""
    T = 0.002
    st = _stable(3, d, T)
    want = M.ladder_T0(3, d)["m"] if fam == "A" else M.family_B_T0(d)
    assert np.allclose(st[0]["m"], want, atol=2e-3)
    found_B = any(np.allclose(s["m"], M.family_B_T0(d), atol=2e-3) for s in st)
    found_A = any(np.allclose(s["m"], M.ladder_T0(3, d)["m"], atol=2e-3) for s in st)
    assert found_B and found_A == (d < M.critical_dilution(3))


@pytest.mark.parametrize("d", [0.2, 0.5, 0.8])
def test_K2_only_hierarchical_at_low_T(d):
    st = _stable(2, d, 0.002)
    assert len(st) == 1 and st[0]["phase"] == "hierarchical"
    assert np.allclose(st[0]["m"], (1 - d, d * (1 - d)), atol=2e-3)


# ------------------------------------------------------------------------------ SNR
def test_snr_condition_matches_critical_dilution():
    for K in range(2, 9):
        dc = M.critical_dilution(K)
        for d in np.linspace(0.05, 0.95, 19):
            assert SNR.parallel_retrieval_condition(K, d) == (K == 2 or d < dc) == M.ladder_T0(K, d)["exists"]
    w = SNR.worst_case_fractions(3, 0.65)
    assert np.allclose(w, [0.35 ** 3 / 4, 0.65 * 0.35 ** 2 / 2, 0.65 ** 2 * 0.35])
    th = SNR.unstable_fraction_theory(3, 0.65)
    assert abs(th["unstable_fraction"] - 0.35 ** 3 / 4) < 1e-15 and th["tie_fraction"] == 0.0
    assert SNR.unstable_fraction_theory(3, 0.5)["unstable_fraction"] == 0.0
    assert abs(SNR.max_patterns(10_000, 0.5) - 6.64) < 0.01


@pytest.mark.parametrize("d,stable", [(0.5, True), (0.65, False)])
def test_snr_hierarchical_configuration_finite_N(d, stable):
    N, K = 20_000, 3
    xi = HM.diluted_patterns(N, K, d, rng=11)
    s = HM.hierarchical_configuration(xi, rng=1)
    dec = SNR.field_decomposition(xi, s)
    assert np.allclose(dec["field"], HM.local_fields(xi, s), atol=1e-15)
    assert np.all(np.abs(dec["m"] - SNR.ladder_amplitudes(K, d)) < 4 / math.sqrt(N))
    cs = SNR.configuration_stability(xi, s)
    assert cs["stable"] == stable
    p = SNR.unstable_fraction_theory(K, d, dec["m"])["unstable_fraction"]
    assert abs(cs["unstable_fraction"] - p) <= 5 * math.sqrt(max(p, 1 / N) / N)
    assert abs(cs["free_fraction"] - d ** K) < 5 * math.sqrt(d ** K / N)


# ------------------------------------------------------------------------------ hopfield.multitasking
def test_energy_loss_identity_and_reference_network():
    rng = np.random.default_rng(3)
    for d in (0.0, 0.4, 0.8):
        xi = HM.diluted_patterns(60, 3, d, rng=rng)
        net = HebbianNetwork(xi)
        for _ in range(3):
            s = rng.choice([-1, 1], size=60).astype(np.int8)
            E = net.energy(s)
            assert abs(HM.energy(xi, s) - E) < 1e-12
            assert abs(HM.energy_from_losses(xi, s) - E) < 1e-10
            J = HM.couplings(xi)
            assert abs(-0.5 * s @ J @ s - E) < 1e-10
            assert np.allclose(HM.losses(xi, s), HM.loss_chance(xi) - HM.overlaps(xi, s), atol=1e-15)
            assert np.allclose(HM.local_fields(xi, s), net.local_field(s), atol=1e-12)
            assert abs(HM.delta_energy(xi, s, 5) - net.delta_energy(s, 5)) < 1e-12
            if d > 0:
                assert abs(HM.energy(xi, s, normalisation="N(1-d)", d=d) - E / (1 - d)) < 1e-12
    assert HM.loss_chance(d=0.3) == 0.85


def test_losses_minimised_in_parallel_at_hierarchical_state():
    d, K, N = 0.3, 3, 20_000
    xi = HM.diluted_patterns(N, K, d, rng=5)
    s = HM.hierarchical_configuration(xi, rng=2)
    L = HM.losses(xi, s)
    assert np.all(L < HM.loss_chance(d=d) - 0.05)
    assert np.allclose(L, (2 - d) / 2 - M.ladder_T0(K, d)["m"], atol=4 / math.sqrt(N))


def test_conversions():
    T, m = HM.to_rescaled(0.3, T=0.7, m=0.21)
    assert abs(T - 1.0) < 1e-15 and abs(m - 0.3) < 1e-15           # T_c -> 1
    T2, m2 = HM.from_rescaled(0.3, T=T, m=m)
    assert abs(T2 - 0.7) < 1e-15 and abs(m2 - 0.21) < 1e-15


# ------------------------------------------------------------------------------ learning version
def test_c_law_moments_and_sign_table():
    for r, M_, es, eg in ((0.4, 20, 0.9349, 0.9490), (0.2, 50, 0.8448, 0.8511), (0.2, 100, 0.9561, 0.9588),
                          (0.5, 10, 0.9021, 0.9321), (0.1, 100, 0.6827, 0.6851)):
        c, p, rho = M.c_law(M=M_, r=r)
        assert abs(p @ c - 1) < 1e-12 and abs(p @ c ** 2 - (1 + rho)) < 1e-12
        assert abs(p @ np.sign(c) - es) < 6e-5
        assert abs(math.erf(1 / math.sqrt(2 * rho)) - eg) < 6e-5
        cg, pg, _ = M.c_law(M=M_, r=r, law="gaussian")
        assert abs(pg @ cg - 1) < 1e-12 and abs(pg @ cg ** 2 - (1 + rho)) < 1e-10
        assert abs(pg @ np.sign(cg) - math.erf(1 / math.sqrt(2 * rho))) < 1e-10


def _lstable(*a, **kw):
    return [s["m"] for s in M.solve_learning_point(*a, **kw)["states"] if s["stable"]]


def test_learning_low_storage_values():
    # K = 1, T -> 0: m = (1-d) E sign(c) (spec 11.15)
    st = _lstable(1, 0.3, 0.002, M=20, r=0.4)
    assert len(st) == 1 and abs(st[0][0] - 0.6544) < 6e-5
    # K = 2, d = 0.5, r = 0.2, M = 50, T = 0.01: unique state (spec 11.16)
    st = _lstable(2, 0.5, 0.01, M=50, r=0.2)
    assert len(st) == 1 and np.allclose(st[0], (0.3385, 0.3229), atol=6e-5)
    # K = 2, d = 0.3, r = 0.4, M = 20, T = 0.01: two stable states (spec 6.2)
    st = _lstable(2, 0.3, 0.01, M=20, r=0.4)
    assert len(st) == 2 and np.allclose(st[0], (0.6017, 0.2741), atol=6e-5) and np.allclose(st[1], (0.5772, 0.3000), atol=6e-5)
    # rho -> 0 gives the storage equations
    st = _lstable(2, 0.3, 0.1, rho=1e-9, law="gaussian")
    assert np.allclose(st[0], (0.69998, 0.20289), atol=6e-5)


@pytest.mark.parametrize("rho", [0.0625, 0.48])
def test_learning_Tc_is_one_minus_d_for_every_rho(rho):
    d = 0.4
    for fac, para in ((1.01, True), (0.99, False)):
        st = _lstable(1, d, fac * (1 - d), rho=rho, law="gaussian", n_random=0)
        assert (st[0][0] < 1e-8) == para


def test_supervised_equals_unsupervised():
    """The mechanism of spec 6.1 at finite N: for sigma depending on the examples only through xibar the two
    fields agree up to O(N^-1/2); for sigma = one example they do not. (solve_learning_point ignores
    ``setting``; the two settings' mean-field equations are checked separately in
    test_multitasking_learning.py::test_supervised_and_unsupervised_equations_by_example_enumeration.)"""
    rms = []
    for N in (2000, 32000):
        xi = HM.diluted_patterns(N, 2, 0.3, rng=N)
        eta = HM.diluted_examples(xi, 20, 0.4, rng=N + 1)
        xb = eta.mean(axis=2)
        sig = HM.hierarchical_configuration(np.sign(xb).astype(np.int8), rng=1)
        h = HM.learning_local_fields(xi, eta, sig, 0.4)
        diff = h["supervised"] - h["unsupervised"]
        rms.append(math.sqrt(np.mean(diff ** 2)))
        assert rms[-1] < 0.05 * math.sqrt(np.mean(h["supervised"] ** 2))
        s1 = np.where(eta[:, 0, 0] != 0, eta[:, 0, 0], sig).astype(np.int8)
        h1 = HM.learning_local_fields(xi, eta, s1, 0.4)
        assert math.sqrt(np.mean((h1["supervised"] - h1["unsupervised"]) ** 2)) > 5 * rms[-1]
    assert 2.5 < rms[0] / rms[1] < 6.5          # ~ N^-1/2: 4 expected (40 random q's: loose bounds)


# ------------------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("call", [
    lambda: M.solve_grid(0, [0.3], [0.5]),
    lambda: M.solve_grid(11, [0.3], [0.5]),
    lambda: M.solve_grid(2, [1.0], [0.5]),
    lambda: M.solve_grid(2, [-0.1], [0.5]),
    lambda: M.solve_grid(2, [0.3], [0.0]),
    lambda: M.solve_grid(2, [0.3], []),
    lambda: M.solve_grid(2, [[0.3]], [0.5]),
    lambda: M.solve_grid(2, [0.3], [0.5], P=3),
    lambda: M.solve_grid(2.5, [0.3], [0.5]),
    lambda: M.boundaries(2, points=1),
    lambda: M.critical_dilutions(0),
    lambda: M.pure_edge(0.8),
    lambda: M.symmetric_edges(1, 0.8),
    lambda: M.stationary_states(2, 0.3, -1.0),
    lambda: M.cascade_temperature(1, 0.3),
    lambda: HM.diluted_patterns(10, 2, 1.0),
    lambda: HM.energy(np.array([[2], [1]]), [1, 1]),
    lambda: HM.losses(np.ones((3, 1)), [1, 1]),
    lambda: HM.couplings(np.ones((3, 1)), normalisation="bad"),
    lambda: SNR.max_patterns(100, 0.0),
    lambda: M.solve_learning_point(2, 0.3, 0.1, M=20, r=0.4, setting="teacher"),
    lambda: M.solve_learning_point(4, 0.3, 0.1, M=20, r=0.4),
    lambda: M.c_law(M=20, r=1.5),
    lambda: M.c_law(r=0.4),
    lambda: HM.learning_local_fields(np.ones((3, 1)), np.ones((3, 1, 2)) * 2, [1, 1, 1], 0.5),
    lambda: SNR.configuration_stability(np.ones((3, 1)), [1, 0, 1]),
    lambda: M.free_energy([0.5, 0.1], 1.5, 0.5),
    lambda: M.free_energy([0.5, 0.1], 0.3, -1.0),
    lambda: M.rhs([0.5, 0.1], -0.5, 0.3),
    lambda: M.rhs([0.5, 0.1], 0.3, 0.0),
    lambda: M.hessian([0.5, 0.1], 0.3, np.nan),
    lambda: M.rhs([[0.5, 0.1], [0.2, 0.2]], [0.3, 1.0], 0.5),
    lambda: HM.to_rescaled(0.3, T=-1.0, m=0.2),
    lambda: HM.from_rescaled(0.3, T=[0.5, -0.1]),
    lambda: HM.to_rescaled(0.3, m=np.nan),
])
def test_bad_inputs_raise(call):
    with pytest.raises(ParameterError):
        call()


def test_reference_csv():
    import csv
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2] / "data" / "multitasking_reference.csv"
    with open(path) as fh:
        ref = {r["name"]: (float(r["value"]), float(r["tolerance"]))
               for r in csv.DictReader(line for line in fh if not line.startswith("#"))}
    got = {"d_c_K3": M.critical_dilution(3), "d_c_K4": M.critical_dilution(4), "d_c_K5": M.critical_dilution(5),
           "d_c_K10": M.critical_dilution(10), "d_star_K3": M.critical_dilutions(3)["d_star"],
           "T_p_d0.1": M.pure_edge(0.1), "T_p_d0.3": M.pure_edge(0.3), "T_p_d0.5": M.pure_edge(0.5),
           "T_s_K2_d0.8": M.symmetric_edges(2, 0.8)[0][0], "T_s_K3_d0.8": M.symmetric_edges(3, 0.8)[0][0],
           "T_3_d0.3": M.cascade_temperature(3, 0.3), "m_K1_d0.3_T0.5": M.pure_state(0.3, 0.5)[0],
           "T_sym3_d0": M.symmetric_edges(3, 0.0)[0][1]}
    assert set(got) == set(ref)
    for k, v in got.items():
        assert abs(v - ref[k][0]) <= ref[k][1], (k, v, ref[k])


def test_grid_resolves_the_multicritical_region_and_finds_the_lowest_state():
    """Hard region (d ~ 0.6-0.65, T ~ 0.2-0.33; flat landscapes, many saddles): every point resolved,
    and the grid's thermodynamic f equals the lowest stable f of a denser multi-start."""
    d = np.linspace(0.58, 0.66, 9)
    T = np.linspace(0.18, 0.33, 9)
    g = M.solve_grid(3, d, T)
    assert g["converged"].all() and np.all(g["residual"] < 1e-10)
    for i, j in ((0, 0), (2, 7), (4, 8), (5, 4), (8, 2), (3, 6)):
        st = _stable(3, d[i], T[j], n_random=30, seed=5)
        assert abs(g["f"][i, j] - st[0]["f"]) < 1e-10, (d[i], T[j])


def test_extra_starts_shape_checked():
    """Extra starting points must hold K overlaps each (a bare reshape error before)."""
    for bad in ([1.0, 2.0, 3.0], [], [[0.5, np.nan]]):
        with pytest.raises(ParameterError, match="extra_starts"):
            M.stationary_states(2, 0.3, 0.2, extra_starts=bad)
    states = M.stationary_states(2, 0.3, 0.2, n_random=0, extra_starts=[[0.7, 0.0], [0.35, 0.35]])
    assert states and all(s["converged"] for s in states)
