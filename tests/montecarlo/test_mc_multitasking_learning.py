"""Monte Carlo of the learning version of the multitasking network (diluted archetypes and examples;
/work/shared/physics/multitasking.md Sections 2.2, 6, 8): montecarlo.learning.LearningBatch on data in
{-1, 0, +1} and montecarlo.multitasking.multitasking_point(M=..., r/rho=...).

Checked against: the numpy references (hopfield.learning networks, hopfield.multitasking.learning_local_fields),
the storage kernel at r = 1 (learning -> storage), exact enumeration at N = 10, and the low-storage theory
(exact binomial law of c, statmech.multitasking) at the spec's MC points (Section 6.1, 6.2).
"""
import itertools
import math

import numpy as np
from mc_oracles import chain_mean
import pytest

from hopfield import ParameterError
from hopfield import multitasking as HM
from hopfield.learning import SupervisedNetwork, UnsupervisedNetwork
from montecarlo import ChainBatch
from montecarlo.learning import LearningBatch
from montecarlo.multitasking import multitasking_examples, multitasking_patterns, multitasking_point
from statmech import multitasking as M

REF = {"supervised": SupervisedNetwork, "unsupervised": UnsupervisedNetwork}


def _data(N, K, Mx, d, r, seed):
    xi = HM.diluted_patterns(N, K, d, rng=seed)
    return xi, HM.diluted_examples(xi, Mx, r, rng=seed + 1)


# ----------------------------------------------------------------------------- exact kernels
@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
@pytest.mark.parametrize("P", [2, 4, 6])
def test_diluted_delta_energy_matches_reference(setting, P):
    N, r = 14, 0.5
    xi, eta = _data(N, 3, 4, 0.3, r, seed=P)
    assert (xi == 0).any() and (eta == 0).any()
    net = REF[setting](eta, P, r=r, archetypes=xi)
    b = LearningBatch(setting, eta, xi, P, 0.7, r=r, replicas=3, init="random", seed=P)
    for _ in range(3):
        b.run(7)
        E = b.energies()
        for c in range(b.C):
            s = b.spins[c]
            ref = np.array([net.delta_energy(s, i) for i in range(N)])
            np.testing.assert_allclose(b.delta_energies(c), ref, rtol=0, atol=1e-13 * np.abs(ref).max())
            assert E[c] == pytest.approx(net.energy(s), rel=1e-13, abs=1e-15)
            np.testing.assert_allclose(b.archetype_overlaps()[c], net.archetype_overlaps(s), atol=1e-15)
            np.testing.assert_allclose(b.example_mean_overlaps()[c], net.example_mean_overlaps(s), rtol=1e-13)
    assert b.check_overlaps()


@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
def test_diluted_P2_fields_match_the_multitasking_reference(setting):
    """P = 2: DeltaE_i = 2 sigma_i h_i with the fields of spec 2.2 written out as matrix products
    (hopfield.multitasking.learning_local_fields), an implementation independent of e_P."""
    N, r = 60, 0.4
    xi, eta = _data(N, 3, 5, 0.4, r, seed=3)
    b = LearningBatch(setting, eta, xi, 2, 0.8, r=r, replicas=2, init="random", seed=5)
    b.run(5)
    for c in range(b.C):
        s = b.spins[c]
        h = HM.learning_local_fields(xi, eta, s, r)[setting]
        np.testing.assert_allclose(b.delta_energies(c), 2.0 * s * h, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("P", [2, 4])
def test_diluted_perfect_examples_reduce_to_storage_kernel(P):
    """r = 1: every example is its archetype, blanks included, and both learning kernels give the storage
    kernel's DeltaE and H on diluted patterns (learning -> storage)."""
    rng = np.random.default_rng(P)
    N, K, Mx = 40, 3, 4
    xi = HM.diluted_patterns(N, K, 0.35, rng=rng)
    eta = HM.diluted_examples(xi, Mx, 1.0, rng=rng)
    spins = (2 * rng.integers(0, 2, size=(2, N)) - 1).astype(np.int8)
    store = ChainBatch(xi, P, [1.0], replicas=2, init=spins)
    for setting in ("supervised", "unsupervised"):
        b = LearningBatch(setting, eta, xi, P, 1.0, r=1.0, replicas=2, init=spins)
        for c in range(2):
            np.testing.assert_allclose(b.delta_energies(c), store.delta_energies(c), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(b.energies(), store.energies(), rtol=1e-13)


def test_diluted_starts_are_random_on_the_blanks_and_pm1_starts_unchanged():
    N, r = 200, 0.6
    xi, eta = _data(N, 2, 3, 0.5, r, seed=8)
    for init in ("archetype", "example", "mean"):
        b = LearningBatch("supervised", eta, xi, 2, 0.5, r=r, replicas=2, init=init, seed=4)
        assert np.isin(b.spins, (-1, 1)).all()
        sup = xi[:, 0] != 0
        if init == "archetype":
            assert (b.spins[:, sup] == xi[sup, 0]).all()
        blank = ~sup
        # the blanks get the chain's own random start: both signs, different in the two chains
        assert 0.3 < (b.spins[0, blank] == 1).mean() < 0.7
        assert (b.spins[0, blank] != b.spins[1, blank]).any()
    # +-1 data: the archetype start is xi^1 itself and the random start is unchanged by the blank rule
    xi1 = np.where(xi == 0, 1, xi).astype(np.int8)
    b = LearningBatch("unsupervised", HM.diluted_examples(xi1, 3, r, rng=1), xi1, 2, 0.5, r=r, init="archetype")
    assert (b.spins[0] == xi1[:, 0]).all()


# ----------------------------------------------------------------------------- exact enumeration
@pytest.mark.parametrize("setting,P,T", [("supervised", 2, 0.5), ("unsupervised", 2, 0.5), ("unsupervised", 4, 0.3),
                                         ("supervised", 4, 0.2)])
def test_diluted_enumeration_small_N(setting, P, T):
    N, K, Mx, r = 10, 2, 3, 0.6
    xi, eta = _data(N, K, Mx, 0.3, r, seed=17)
    net = REF[setting](eta, P, r=r)
    states = np.array(list(itertools.product((-1, 1), repeat=N)), dtype=np.int8)
    E = np.array([net.energy(s) for s in states])
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    exact = {"E": float(w @ E) / N, "|m|": float(w @ np.abs(states.astype(np.int64) @ xi[:, 0] / N))}
    b = LearningBatch(setting, eta, xi, P, T, r=r, replicas=4, init="random", seed=21 + P)
    b.run(200, measure=False)
    ser = b.run(12000)
    for key, arr in (("E", ser["E"]), ("|m|", np.abs(ser["m"]))):
        mean, err = chain_mean(arr)
        assert abs(mean - exact[key]) < 4.5 * err, (key, mean, exact[key], err)


# ----------------------------------------------------------------------------- theory vs MC (spec 6.1, 6.2)
def _exact_K1_T0(d, r, Mx):
    """K = 1, T = 0: m = (1 - d) [P(B > M/2) - P(B < M/2)], B ~ Bin(M, (1+r)/2) (spec 6.2)."""
    k = np.arange(Mx + 1)
    p = np.array([math.comb(Mx, j) for j in k]) * ((1 + r) / 2) ** k * ((1 - r) / 2) ** (Mx - k)
    return (1 - d) * float(p[k > Mx / 2].sum() - p[k < Mx / 2].sum())


def test_K1_T0_theory_value():
    assert _exact_K1_T0(0.3, 0.4, 20) == pytest.approx(0.7 * 0.9349, abs=1e-4)
    st = [s for s in M.solve_learning_point(1, 0.3, 1e-3, M=20, r=0.4)["states"] if s["stable"]]
    assert st[0]["m"][0] == pytest.approx(_exact_K1_T0(0.3, 0.4, 20), abs=1e-6)


T_CRIT = {5: 4.03, 15: 2.95}   # two-sided 1% quantiles of Student t (degrees of freedom = samples - 1)


def _point(K, d, T, Mx, r, N, sweeps, samples, setting, init="pattern"):
    return multitasking_point(K, N, d, T, sweeps=sweeps, samples=samples, M=Mx, r=r, setting=setting, init=init,
                              seed=3)


def _t(out, key, want):
    """(MC - theory) / error: the error is the standard error of the per-sample means (disorder and thermal
    noise), so this is Student t with samples - 1 degrees of freedom, up to the finite-size bias."""
    return (out[key] - want) / out[key + "_err"]


@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
@pytest.mark.parametrize("N", [4000, 40000])
def test_K1_T0(setting, N):
    """Spec 6.1: K = 1, d = 0.3, r = 0.4, M = 20, T = 0 -> m = 0.6544 (exact law) for both settings (the spec's
    MC at N = 4e4: 0.6541 supervised, 0.6532 unsupervised)."""
    out = _point(1, 0.3, 0.0, 20, 0.4, N, 20, 6, setting)
    assert abs(_t(out, "m1", _exact_K1_T0(0.3, 0.4, 20))) < T_CRIT[5], out["m1"]
    assert 0.1 / math.sqrt(N) < out["m1_err"] < 3.0 / math.sqrt(N)
    # the example-mean overlap of the retrieved archetype: n = E[xi c sign(xi c)] / (1 + rho) = (1 - d) E|c| / (1 + rho)
    k = np.arange(21)
    p = np.array([math.comb(20, j) for j in k]) * 0.7 ** k * 0.3 ** (20 - k)
    n_th = 0.7 * float(p @ np.abs((2 * k - 20) / 20 / 0.4)) / (1 + out["rho"])
    assert abs(_t(out, "n", n_th)) < T_CRIT[5], (out["n"], n_th)


@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
def test_K2_two_valley_point_from_the_hierarchical_start(setting):
    """Spec 6.2: K = 2, d = 0.3, r = 0.4, M = 20, T = 0.01 has two stable states, (0.6017, 0.2741) and
    (0.5772, 0.3000); MC from the hierarchical start sits in one of them (compared with the nearer one)."""
    states = [s["m"] for s in M.solve_learning_point(2, 0.3, 0.01, M=20, r=0.4)["states"] if s["stable"]]
    np.testing.assert_allclose(states[0], [0.6017, 0.2741], atol=1e-4)
    np.testing.assert_allclose(states[1], [0.5772, 0.3000], atol=1e-4)
    out = _point(2, 0.3, 0.01, 20, 0.4, 20000, 60, 6, setting, init="hierarchical")
    got = np.array([out["m1"], out["m2"]])
    ref = min(states, key=lambda m: np.abs(m - got).max())
    for k in (1, 2):
        assert abs(_t(out, f"m{k}", ref[k - 1])) < T_CRIT[5], (got, ref)


def _unique_K2_state():
    st = [s for s in M.solve_learning_point(2, 0.5, 0.01, M=50, r=0.2)["states"] if s["stable"]]
    assert len(st) == 1
    return st[0]["m"]


def test_K2_unique_state_theory_value():
    np.testing.assert_allclose(_unique_K2_state(), [0.3385, 0.3229], atol=1e-4)


@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
def test_K2_unique_state_mean_amplitude_extrapolated(setting):
    """Spec 6.2: K = 2, d = 0.5, r = 0.2, M = 50 (rho = 0.48), T = 0.01: the unique stable state
    (0.3385, 0.3229). At this large rho each sample's two archetypes differ in strength by O(N^-1/2) with a
    large prefactor (sorted amplitudes, supervised, 16 samples: (0.3454, 0.3209) at N = 5000, (0.3388, 0.3233)
    at N = 160000), and the mean amplitude carries an O(N^-1/2) bias (+0.0024, +0.0006, +0.0004 at N = 5000,
    20000, 160000). So the mean amplitude is extrapolated linearly in N^-1/2 from N = 5000 and 20000,
    m_inf = 2 m(20000) - m(5000), and compared with the theory (t with 15 degrees of freedom, conservatively).
    The amplitudes themselves converge slowly here (T = 0.01 with discrete atoms of c: the state moves fast with
    T, from (0.3400, 0.3214) at T = 0.005 to the symmetric 0.3307 at T = 0.02): supervised from the pattern
    start (0.3402(5), 0.3223(6)) at N = 80000 and (0.3398(3), 0.3223(5)) at N = 320000, so they are not
    asserted; the spec's own MC gave (0.342, 0.325)."""
    a = _point(2, 0.5, 0.01, 50, 0.2, 5000, 100, 16, setting)
    b = _point(2, 0.5, 0.01, 50, 0.2, 20000, 100, 16, setting)
    m_inf = 2.0 * b["m_mean"] - a["m_mean"]
    err = math.hypot(2.0 * b["m_mean_err"], a["m_mean_err"])
    assert err < 0.005
    assert abs(m_inf - float(np.mean(_unique_K2_state()))) < T_CRIT[15] * err, (a["m_mean"], b["m_mean"], m_inf, err)


@pytest.mark.slow
@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
def test_K2_hierarchical_finite_T_amplitudes_N80000(setting):
    """K = 2, d = 0.3, r = 0.4, M = 20, T = 0.1: the unique stable (hierarchical) state (0.5835, 0.2798), each
    amplitude at N = 80000, 16 samples (measured: supervised (0.5821(19), 0.2829(25)), unsupervised
    (0.5825(21), 0.2824(26)))."""
    st = [s["m"] for s in M.solve_learning_point(2, 0.3, 0.1, M=20, r=0.4)["states"] if s["stable"]]
    assert len(st) == 1
    np.testing.assert_allclose(st[0], [0.5835, 0.2798], atol=1e-4)
    out = _point(2, 0.3, 0.1, 20, 0.4, 80000, 200, 16, setting)
    for k, want in enumerate(st[0], start=1):
        assert abs(_t(out, f"m{k}", want)) < T_CRIT[15], (k, out[f"m{k}"], want)


def test_learning_point_reduces_to_storage_at_r1():
    """r = 1 (rho = 0): the learning version runs the storage dynamics on the same archetypes (the same
    keys), so the overlaps agree to statistical precision (different streams and energy bookkeeping)."""
    kw = dict(sweeps=30, samples=2, seed=2, init="pattern")
    a = multitasking_point(2, 2000, 0.3, 0.1, **kw)
    for setting in ("supervised", "unsupervised"):
        b = multitasking_point(2, 2000, 0.3, 0.1, M=3, r=1.0, setting=setting, **kw)
        assert b["rho"] == 0.0
        for k in ("m1", "m2"):
            assert abs(a[k] - b[k]) < 4 * math.hypot(a[k + "_err"], b[k + "_err"]) + 1e-3, (k, a[k], b[k])
        assert b["E"] == pytest.approx(a["E"], abs=4 * math.hypot(a["E_err"], b["E_err"]) + 1e-3)


def test_multitasking_examples_keys():
    xi = multitasking_patterns(50, 2, 0.4, seed=1, point=2, sample=3)
    e1 = multitasking_examples(xi, 4, 0.5, seed=1, point=2, sample=3)
    assert e1.shape == (50, 2, 4) and ((e1 == 0) == (xi == 0)[:, :, None]).all()
    assert (e1 == multitasking_examples(xi, 4, 0.5, seed=1, point=2, sample=3)).all()
    assert not (e1 == multitasking_examples(xi, 4, 0.5, seed=1, point=2, sample=4)).all()


def test_learning_point_bad_inputs():
    base = dict(sweeps=4)
    for kw in (dict(M=3), dict(r=0.5), dict(M=0, r=0.5), dict(M=3, r=0.5, rho=0.1), dict(M=3, r=1.5),
               dict(M=3, r=0.5, setting="hybrid")):
        with pytest.raises(ParameterError):
            multitasking_point(2, 30, 0.3, 0.5, **base, **kw)


@pytest.mark.parametrize("setting,P,d", [("supervised", 2, 0.3), ("unsupervised", 2, 0.3), ("supervised", 4, 0.0),
                                         ("unsupervised", 4, 0.2)])
def test_learning_unstable_sites_and_run_to_fixed_point(setting, P, d):
    """unstable_sites = #{i: DeltaE_i < 0} of the exact DeltaE; run_to_fixed_point stops at T = 0 fixed points."""
    N, r = 50, 0.5
    xi, eta = _data(N, 3, 4, d, r, seed=11 + P)
    b = LearningBatch(setting, eta, xi, P, 0.0, r=r, replicas=3, init="random", seed=P)
    before = b.unstable_sites()
    assert before.min() > 0
    for c in range(b.C):
        assert before[c] == np.sum(b.delta_energies(c) < 0)
    done, fixed = b.run_to_fixed_point(200, chunk=1)
    assert fixed.all() and 0 < done < 200 and (b.unstable_sites() == 0).all()
    assert all(b.delta_energies(c).min() >= 0 for c in range(b.C))
    with pytest.raises(ParameterError, match="dynamics"):
        LearningBatch(setting, eta, xi, P, 0.5, r=r).run_to_fixed_point(5)
