"""Monte Carlo of the learning models (montecarlo.learning) against the numpy references."""
import itertools

import numpy as np
from mc_oracles import chain_mean, run_with_threads
import pytest
from scipy.stats import binom

from hopfield import HebbianNetwork, ParameterError
from hopfield.learning import (SupervisedNetwork, UnsupervisedNetwork, example_sums, make_dataset,
                               make_examples)
from montecarlo import ChainBatch
from montecarlo.learning import LearningBatch, learning_dataset, learning_point

REF = {"supervised": SupervisedNetwork, "unsupervised": UnsupervisedNetwork}


def exact_T0_overlap(r, M):
    """m = P(B > M/2) - P(B < M/2), B ~ Bin(M, (1+r)/2) (learning.md 3.1)."""
    k = np.arange(M + 1)
    p = binom.pmf(k, M, (1 + r) / 2)
    return float(p[k > M / 2].sum() - p[k < M / 2].sum())


# ----------------------------------------------------------------------------- exact kernels
@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
@pytest.mark.parametrize("P", [2, 4, 6])
def test_delta_energy_matches_reference(setting, P):
    xi, eta = make_dataset(12, 3, 4, r=0.5, rng=P)
    net = REF[setting](eta, P, r=0.5)
    b = LearningBatch(setting, eta, xi, P, 0.7, r=0.5, replicas=3, init="random", seed=P)
    for _ in range(3):
        b.run(7)
        E = b.energies()
        for c in range(b.C):
            s = b.spins[c]
            ref = np.array([net.delta_energy(s, i) for i in range(12)])
            scale = np.abs(ref).max()
            np.testing.assert_allclose(b.delta_energies(c), ref, rtol=0, atol=1e-13 * scale)
            assert E[c] == pytest.approx(net.energy(s), rel=1e-13, abs=1e-15)
    assert b.check_overlaps()


@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
def test_incremental_overlaps_exact_after_many_flips(setting):
    xi, eta = make_dataset(60, 3, 7, rho=0.4, rng=3)
    b = LearningBatch(setting, eta, xi, 4, 2.0, rho=0.4, replicas=2, init="random", seed=9)
    b.run(400)
    assert b.acc_total.min() > 5000
    assert b.check_overlaps()
    # measured n and m agree with the reference overlaps
    net = REF[setting](eta, 4, rho=0.4, archetypes=xi)
    for c in range(2):
        o = net.overlaps(b.spins[c])
        np.testing.assert_allclose(b.archetype_overlaps()[c], o["m"], atol=1e-15)
        np.testing.assert_allclose(b.example_mean_overlaps()[c], o["n"], rtol=1e-13)
        np.testing.assert_allclose(b.example_overlaps()[c], o["n_examples"], atol=1e-15)


@pytest.mark.parametrize("P", [2, 4])
def test_perfect_examples_reduce_to_storage_kernel(P):
    """r -> 1 (rho -> 0): learning kernels give exactly the storage kernel's DeltaE (learning -> storage)."""
    rng = np.random.default_rng(P)
    N, K, M = 40, 3, 5
    xi = (2 * rng.integers(0, 2, size=(N, K)) - 1).astype(np.int8)
    eta = make_examples(xi, M, 1.0, rng)
    spins = (2 * rng.integers(0, 2, size=(2, N)) - 1).astype(np.int8)
    store = ChainBatch(xi, P, [1.0], replicas=2, init=spins)
    for setting in ("supervised", "unsupervised"):
        b = LearningBatch(setting, eta, xi, P, 1.0, r=1.0, replicas=2, init=spins)
        for c in range(2):
            ref = store.delta_energies(c)
            np.testing.assert_allclose(b.delta_energies(c), ref, rtol=1e-13, atol=1e-15)
            heb = HebbianNetwork(xi, P)  # the numpy storage reference as well
            np.testing.assert_allclose(b.delta_energies(c), [heb.delta_energy(spins[c], i) for i in range(N)],
                                       rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(b.energies(), store.energies(), rtol=1e-13)


# ----------------------------------------------------------------------------- exact enumeration
def enumerate_averages(net, xi, T):
    N = net.N
    states = np.array(list(itertools.product((-1, 1), repeat=N)), dtype=np.int8)
    E = np.array([net.energy(s) for s in states])
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    m = states.astype(np.int64) @ xi[:, 0].astype(np.int64) / N
    return float(w @ E) / N, float(w @ np.abs(m))


@pytest.mark.parametrize("setting,P,T", [("supervised", 2, 0.6), ("supervised", 4, 0.12),
                                         ("unsupervised", 2, 0.6), ("unsupervised", 4, 0.3)])
@pytest.mark.parametrize("dynamics", ["heat_bath", "metropolis"])
def test_enumeration_small_N(setting, P, T, dynamics):
    N, K, M, r = 10, 2, 3, 0.6
    xi, eta = make_dataset(N, K, M, r=r, rng=7)
    E_ex, am_ex = enumerate_averages(REF[setting](eta, P, r=r), xi, T)
    b = LearningBatch(setting, eta, xi, P, T, r=r, replicas=4, dynamics=dynamics, init="random",
                      seed=11 + P, point=1 if dynamics == "metropolis" else 0)
    b.run(200, measure=False)
    ser = b.run(12000)
    for key, exact, arr in (("E", E_ex, ser["E"]), ("|m|", am_ex, np.abs(ser["m"]))):
        mean, err = chain_mean(arr)
        z = (mean - exact) / err
        assert abs(z) < 4.5, (key, mean, exact, err)


# ----------------------------------------------------------------------------- physics sanity point
def _sanity(N, samples, T):
    out = learning_point("supervised", 4, N, T, M=20, rho=0.5, K=3, sweeps=40 if T > 0 else 12,
                         burn_in=20 if T > 0 else 6, replicas=1, samples=samples, seed=1)
    exact = exact_T0_overlap(out["r"], 20)
    assert exact == pytest.approx(0.8273, abs=1e-4)
    return out, exact


def test_dense_learning_sanity_point_reduced():
    """learning.md 6: N = 4000, K = 3, P = 4, M = 20, rho = 0.5: m ~ 0.8335 vs exact 0.8273; here N = 1500.

    Compared at T = 0+ (T = 0.01, montecarlo.md 3): the sites with Mbar_i^1 = 0 (ties, ~7% at M = 20)
    are then free, as the theory assumes (sign(0) = 0); at T = 0 they keep part of the start (next test).
    """
    out, exact = _sanity(1500, 4, 0.01)
    assert abs(out["m"] - exact) < 4.0 * out["m_err"] + 1e-3, (out["m"], out["m_err"])
    assert out["m_err"] < 0.015
    assert out["n"] == pytest.approx(0.7002, abs=0.02)  # n = s/(1+rho) at T = 0 (learning.md 9.6)
    out0, _ = _sanity(1500, 4, 0.0)
    assert out0["acceptance"] < 1e-3  # fixed point reached
    assert abs(out0["m"] - exact) < 0.045


@pytest.mark.slow
def test_dense_learning_sanity_point_full():
    out, exact = _sanity(4000, 16, 0.01)
    assert abs(out["m"] - exact) < 4.0 * out["m_err"], (out["m"], out["m_err"])
    assert out["n"] == pytest.approx(0.7002, abs=0.008)
    out0, _ = _sanity(4000, 16, 0.0)
    # T = 0 from xi^1: tie sites keep part of the start, m is biased up by ~0.015 (spread ~0.01 per sample)
    assert 0.0 < out0["m"] - exact < 0.03


def rs_supervised_low_load(P, T, M, r):
    """Learning.md 3.1 with the exact binomial u: (m, n, q) by iterating s = E[u tanh(beta kappa (P/2) s^(P-1) u)]."""
    rho = (1 - r * r) / (M * r * r)
    kap, beta = (1 + rho) ** (-P / 2), 1.0 / T
    k = np.arange(M + 1)
    w = binom.pmf(k, M, (1 + r) / 2)
    u = (2 * k - M) / (r * M)
    s = float(w @ np.abs(u))
    for _ in range(100000):
        s_new = float(w @ (u * np.tanh(beta * kap * (P / 2) * s ** (P - 1) * u)))
        if abs(s_new - s) < 1e-14:
            break
        s = s_new
    t = np.tanh(beta * kap * (P / 2) * s ** (P - 1) * u)
    return float(w @ t), s / (1 + rho), float(w @ t ** 2)


@pytest.mark.parametrize("setting,P,T", [("supervised", 4, 0.3), ("unsupervised", 2, 0.5)])
def test_low_load_finite_T_matches_rs_theory(setting, P, T):
    """Finite-T retrieval vs the RS low-load equations (fixes the R^{P/2} temperature scale); N = 2000."""
    r = 1 / np.sqrt(1 + 0.5 * 20)
    m, n, q = rs_supervised_low_load(P, T, 20, r)
    out = learning_point(setting, P, 2000, T, M=20, rho=0.5, K=2, sweeps=150, burn_in=50, samples=4, seed=3)
    for key, th in (("m", m), ("n", n), ("q", q)):
        assert abs(out[key] - th) < 4 * out[key + "_err"] + 0.01, (key, out[key], out[key + "_err"], th)


@pytest.mark.slow
@pytest.mark.parametrize("setting,P,T", [("supervised", 2, 0.5), ("supervised", 4, 0.3), ("supervised", 4, 0.45),
                                         ("unsupervised", 2, 0.5)])
def test_low_load_finite_T_matches_rs_theory_full(setting, P, T):
    r = 1 / np.sqrt(1 + 0.5 * 20)
    m, n, q = rs_supervised_low_load(P, T, 20, r)
    out = learning_point(setting, P, 4000, T, M=20, rho=0.5, K=2, sweeps=400, burn_in=100, samples=8, seed=3)
    for key, th in (("m", m), ("n", n), ("q", q)):
        assert abs(out[key] - th) < 4 * out[key + "_err"] + 0.003, (key, out[key], out[key + "_err"], th)


def test_unsupervised_dense_memorises_when_M_r_P_small():
    """P = 4, M r^P = 0.165 (rho = 0.5, M = 20): example-retrieval states are far deeper (learning.md 3.5);
    the unsupervised chain leaves the generalising state for one example (overlap ~1), m drops to ~r."""
    xi, eta = learning_dataset(1000, 2, 20, rho=0.5, seed=1)
    b = LearningBatch("unsupervised", eta, xi, 4, 0.3, rho=0.5, seed=1)
    b.run(200, measure=False)
    ov = b.example_overlaps()[0, 0]
    assert ov.max() > 0.9
    assert abs(b.archetype_overlaps()[0, 0]) < 0.5


def test_T0_fixed_point_is_sign_of_example_mean():
    """At the T = 0 fixed point (low load) every site with Mbar_i^1 != 0 sits at sign(Mbar_i^1)."""
    xi, eta = learning_dataset(1500, 3, 20, rho=0.5, seed=2)
    b = LearningBatch("supervised", eta, xi, 4, 0.0, rho=0.5)
    b.run(12)
    assert (b.delta_energies(0) >= 0).all()
    mb = example_sums(eta)[:, 0]
    nz = mb != 0
    np.testing.assert_array_equal(b.spins[0][nz], np.sign(mb[nz]))


# ----------------------------------------------------------------------------- contract, repro, inputs
def test_learning_point_contract():
    out = learning_point("unsupervised", 2, 200, 0.5, M=5, r=0.8, K=2, sweeps=60, seed=2)
    for key in ("m", "m_err", "abs_m", "n", "n_err", "E", "E_err", "q", "q_err", "acceptance", "tau_m",
                "burn_in", "K", "N", "too_short", "r", "rho", "R", "M"):
        assert key in out
    assert out["K"] == 2 and out["N"] == 200 and 0 <= out["burn_in"] <= 30
    assert np.isfinite(out["q"]) and 0 < out["acceptance"] < 1
    one = learning_point("supervised", 4, 50, 0.3, M=3, rho=0.2, alpha=0.001, sweeps=20, replicas=1)
    assert np.isnan(one["q"]) and one["K"] == 125
    a = learning_point("supervised", 2, 100, 0.5, M=4, r=0.7, sweeps=30, seed=3, point=1)
    b = learning_point("supervised", 2, 100, 0.5, M=4, r=0.7, sweeps=30, seed=3, point=1)
    c = learning_point("supervised", 2, 100, 0.5, M=4, r=0.7, sweeps=30, seed=3, point=2)
    np.testing.assert_equal(a, b)
    assert a["E"] != c["E"]


SCRIPT = r"""
import hashlib, json, numpy as np, numba
from montecarlo.learning import learning_point, LearningBatch, learning_dataset
res = {"threads": numba.get_num_threads()}
for setting in ("supervised", "unsupervised"):
    r = learning_point(setting, 4, 40, 0.4, M=3, rho=0.3, K=2, sweeps=40, replicas=3, samples=2, seed=5, point=3,
                       init="random")
    res[setting] = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in r.items()}
    xi, eta = learning_dataset(40, 2, 3, rho=0.3, seed=5)
    b = LearningBatch(setting, eta, xi, 2, 0.5, rho=0.3, replicas=4, dynamics="metropolis", init="random", seed=1)
    b.run(30)
    res[setting + "_hash"] = hashlib.sha256(b.spins.tobytes() + b.rng.tobytes()).hexdigest()
print(json.dumps(res))
"""


def _run(threads):
    return run_with_threads(SCRIPT, threads)


def test_bitwise_independent_of_threads():
    one, two = _run(1), _run(2)
    assert one["threads"] == 1 and two["threads"] == 2
    for setting in ("supervised", "unsupervised"):
        assert one[setting + "_hash"] == two[setting + "_hash"]
        np.testing.assert_equal(one[setting], two[setting])


def test_bad_inputs_raise():
    xi, eta = make_dataset(10, 2, 3, r=0.5, rng=0)
    bad = [
        dict(setting="hybrid"), dict(P=3), dict(P=0), dict(N=1), dict(T=-1.0), dict(M=0), dict(r=None),
        dict(r=0.5, rho=0.2), dict(r=1.2), dict(rho=-1.0, r=None), dict(alpha=0.1, K=2), dict(K=0),
        dict(sweeps=1), dict(burn_in=50), dict(replicas=0), dict(samples=0), dict(dynamics="gibbs"),
        dict(dynamics="zero"), dict(init="pattern"), dict(schedule="spiral"), dict(seed=-1),
        dict(kernel="fast"),
    ]
    base = dict(setting="supervised", P=2, N=10, T=0.5, M=3, r=0.5, sweeps=20)
    for kw in bad:
        args = {**base, **kw}
        if args.get("r") is None and "rho" not in args:
            args.pop("r")
        with pytest.raises(ParameterError):
            learning_point(args.pop("setting"), args.pop("P"), args.pop("N"), args.pop("T"), **args)
    with pytest.raises(ParameterError):
        LearningBatch("supervised", eta[:, :, 0], xi, 2, 1.0, r=0.5)
    with pytest.raises(ParameterError):
        LearningBatch("supervised", eta, xi[:, :1], 2, 1.0, r=0.5)
    with pytest.raises(ParameterError):
        LearningBatch("unsupervised", eta, xi, 2, 1.0, r=0.5, init=np.zeros((1, 10), dtype=np.int8))
    with pytest.raises(ParameterError):
        LearningBatch("unsupervised", eta, xi, 2, 1.0)


def test_blank_archetypes_refused_where_the_data_must_be_pm1():
    """learning.md 1: make_examples draws examples of +-1 archetypes; a blank is refused with the parameter,
    entry and allowed values. (LearningBatch takes diluted data: tests/montecarlo/test_mc_multitasking_learning.py.)"""
    xi, _ = make_dataset(40, 2, 3, r=0.6, rng=1)
    xi[7, 1] = 0
    with pytest.raises(ParameterError, match=r"archetypes\[7, 1\] = 0 .*\{-1, \+1\}"):
        make_examples(xi, 3, 0.6, np.random.default_rng(0))


# ----------------------------------------------------------------------------- Plefka (approximate) variant
@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
def test_plefka_is_exact_at_P2_and_close_at_low_load(setting):
    xi, eta = learning_dataset(300, 2, 5, r=0.6, seed=4)
    runs = {}
    for kernel in ("exact", "plefka"):
        b = LearningBatch(setting, eta, xi, 2, 0.6, r=0.6, replicas=2, init="random", seed=2, kernel=kernel)
        b.run(30)
        runs[kernel] = b
    np.testing.assert_array_equal(runs["exact"].spins, runs["plefka"].spins)  # P = 2: identical trajectories
    with pytest.raises(ParameterError):
        runs["plefka"].delta_energies(0)
    # P = 4, low load, T = 0+: same retrieval state up to the spread
    out = {k: learning_point("supervised", 4, 1500, 0.01, M=20, rho=0.5, K=3, sweeps=30, burn_in=15, replicas=1,
                             samples=2, seed=1, kernel=k) for k in ("exact", "plefka")}
    assert out["plefka"]["kernel"] == "plefka_approximate" and out["exact"]["kernel"] == "distinct_index_exact"
    assert out["plefka"]["m"] == pytest.approx(out["exact"]["m"], abs=0.02)


# ----------------------------------------------------------------------------- checkpoint / resume
@pytest.mark.parametrize("setting,P,kernel,T", [("supervised", 4, "exact", 0.4), ("unsupervised", 4, "exact", 0.6),
                                                ("unsupervised", 4, "plefka", 0.6), ("supervised", 2, "exact", 0.0)])
def test_checkpoint_resume_bit_for_bit(setting, P, kernel, T):
    """state_dict -> from_state (and load_state into a fresh batch) resumes the run bit for bit: same
    spins, streams, overlaps, acceptance and the same recorded series as an uninterrupted run."""
    xi, eta = make_dataset(120, 3, 5, r=0.6, rng=11)
    kw = dict(r=0.6, replicas=2, init="random", seed=4, point=2, kernel=kernel,
              dynamics="zero" if T == 0 else "heat_bath")
    full = LearningBatch(setting, eta, xi, P, T, **kw)
    ref = full.run(30)
    part = LearningBatch(setting, eta, xi, P, T, **kw)
    part.run(12)
    state = part.state_dict()
    for resumed in (LearningBatch.from_state(state),
                    LearningBatch(setting, eta, xi, P, T, **kw).load_state(part.state_dict(include_data=False))):
        tail = resumed.run(18)
        for k in ("E", "m", "n", "acc", "q"):
            np.testing.assert_array_equal(tail[k], ref[k][:, 12:])
        np.testing.assert_array_equal(resumed.spins, full.spins)
        np.testing.assert_array_equal(resumed.rng, full.rng)
        np.testing.assert_array_equal(resumed.acceptance(), full.acceptance())
        assert resumed.sweeps == 30 and resumed.check_overlaps()
    bad = dict(state)
    bad["spins"] = -bad["spins"]
    with pytest.raises(ParameterError):
        LearningBatch(setting, eta, xi, P, T, **kw).load_state(bad)


def test_loss_candidates_follow_m():
    """learning.md Section 2.4: loss_dist = <||xi^1 - sigma||^2> / (4N) = (1 - <m>) / 2 exactly (a linear function of
    m, so the same time and chain averages), and loss_sq = <(1 - m)^2> >= (1 - <m>)^2 (Jensen), with equality
    only without fluctuations; at the RS low-load point of the test above both follow the theory m (RS
    m = 0.80704) within 4 standard errors, no extra allowance."""
    r = 1 / np.sqrt(1 + 0.5 * 20)
    m_th = rs_supervised_low_load(4, 0.3, 20, r)[0]
    out = learning_point("supervised", 4, 2000, 0.3, M=20, rho=0.5, K=2, sweeps=150, burn_in=50, samples=4, seed=3)
    assert abs(out["loss_dist"] - (1 - out["m"]) / 2) < 1e-12
    assert out["loss_sq"] >= (1 - out["m"]) ** 2 - 1e-12
    assert abs(out["loss_dist"] - (1 - m_th) / 2) < 4 * out["loss_dist_err"]     # 0.0973(29) vs 0.0965
    assert abs(out["loss_sq"] - (1 - m_th) ** 2) < 4 * out["loss_sq_err"]         # 0.0380(23) vs 0.0372
