"""Dense Hebbian Monte Carlo with real-valued patterns (montecarlo.real.RealPatternBatch; montecarlo.md 2.2
"real entries", validation target 1): DeltaE and H against hopfield.RealHebbianNetwork, the
integer kernel on +-1 patterns, exact enumeration at N = 10, and the K = 1 mean-field overlap of a Gaussian
pattern at large N."""
import itertools
import math

import numpy as np
from mc_oracles import chain_mean
import pytest

from hopfield import ParameterError, RealHebbianNetwork
from montecarlo import ChainBatch, RealPatternBatch


@pytest.mark.parametrize("P", [2, 3, 4, 5])
def test_delta_energy_and_energy_match_the_reference(P):
    """Against hopfield.RealHebbianNetwork (exact rational arithmetic; itself checked against P-subset sums)."""
    rng = np.random.default_rng(P)
    N, K = 9, 3
    xi = rng.standard_normal((N, K))
    net = RealHebbianNetwork(xi, P)
    b = RealPatternBatch(xi, P, 0.8, replicas=2, init="random", seed=P)
    for _ in range(3):
        b.run(5)
        E = b.energies()
        for c in range(b.C):
            s = b.spins[c]
            ref = np.array([net.delta_energy(s, i) for i in range(N)])
            np.testing.assert_allclose(b.delta_energies(c), ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
            assert E[c] == pytest.approx(net.energy(s), rel=1e-10, abs=1e-12)
            np.testing.assert_allclose(b.overlaps()[c], net.overlaps(s), atol=1e-13)


@pytest.mark.parametrize("P", [2, 4])
def test_pm1_patterns_give_the_integer_kernel(P):
    rng = np.random.default_rng(10 + P)
    xi = (2 * rng.integers(0, 2, size=(40, 5)) - 1).astype(np.int8)
    spins = (2 * rng.integers(0, 2, size=(2, 40)) - 1).astype(np.int8)
    a = RealPatternBatch(xi.astype(float), P, 1.0, replicas=2, init=spins)
    b = ChainBatch(xi, P, [1.0], replicas=2, init=spins)
    for c in range(2):
        np.testing.assert_allclose(a.delta_energies(c), b.delta_energies(c), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.energies(), b.energies(), rtol=1e-12)


@pytest.mark.parametrize("P,T,dynamics", [(2, 0.7, "heat_bath"), (2, 0.7, "metropolis"), (3, 0.5, "heat_bath"),
                                          (4, 0.3, "metropolis")])
def test_enumeration_small_N(P, T, dynamics):
    N, K = 10, 2
    xi = np.random.default_rng(3).standard_normal((N, K))
    states = np.array(list(itertools.product((-1, 1), repeat=N)), dtype=np.int8)
    net = RealHebbianNetwork(xi, P)
    E = np.array([net.energy(s) for s in states])
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    exact = {"E": float(w @ E) / N, "|m|": float(w @ np.abs(states @ xi[:, 0] / N))}
    b = RealPatternBatch(xi, P, T, replicas=4, dynamics=dynamics, init="random", seed=5)
    b.run(200, measure=False)
    ser = b.run(12000)
    for key, arr in (("E", ser["E"]), ("|m|", np.abs(ser["m"]))):
        mean, err = chain_mean(arr)
        assert abs(mean - exact[key]) < 4.5 * err, (key, mean, exact[key], err)


def _mean_field_m(P, T, m0=1.0):
    """K = 1, Gaussian pattern: m = E[xi tanh((P/2) beta xi m^(P-1))], xi ~ N(0, 1) (Gauss-Hermite, 80 nodes),
    by iteration from m0 (the retrieval branch)."""
    z, wz = np.polynomial.hermite_e.hermegauss(80)
    wz = wz / wz.sum()
    m = m0
    for _ in range(5000):
        m = float(wz @ (z * np.tanh(0.5 * P / T * z * m ** (P - 1))))
    return m


@pytest.mark.parametrize("P,T", [(2, 0.5), (4, 0.3)])
def test_gaussian_pattern_K1_mean_field(P, T):
    """Low storage (K = 1), one Gaussian pattern: the retrieval overlap against the mean-field equation,
    over 8 patterns (disorder samples) at N = 4000: Student t with 7 degrees of freedom (3.50 at 1%) plus
    an O(1/N) allowance of 2/N."""
    m_th = _mean_field_m(P, T)
    assert 0.3 < m_th < math.sqrt(2 / math.pi)
    N, samples = 4000, 8
    xi = np.random.default_rng(P).standard_normal((samples, N, 1))
    b = RealPatternBatch(xi, P, T, init="pattern", seed=2)
    b.run(60, measure=False)
    ser = b.run(100)
    per = ser["m"].mean(axis=1)
    mean, err = per.mean(), per.std(ddof=1) / math.sqrt(samples)
    assert 0 < err < 0.02
    assert abs(mean - m_th) < 3.50 * err + 2.0 / N, (mean, err, m_th)


def test_checkpoint_resume_bit_for_bit_and_threads():
    xi = np.random.default_rng(1).standard_normal((50, 3))
    a = RealPatternBatch(xi, 4, 0.4, replicas=3, init="random", seed=9)
    a.run(5)
    st = a.state_dict()
    ra = a.run(7)
    b = RealPatternBatch(xi, 4, 0.4, replicas=3, init="random", seed=9).load_state(st)
    rb = b.run(7)
    assert all(np.array_equal(ra[k], rb[k]) for k in ra)
    assert np.array_equal(a.spins, b.spins) and np.array_equal(a.rng, b.rng)


def test_zero_temperature_and_bad_inputs():
    xi = np.random.default_rng(2).standard_normal((60, 2))
    b = RealPatternBatch(xi, 2, 0.0, init="random", seed=1)
    assert b.dynamics == "zero"
    b.run(30)
    assert b.delta_energies(0).min() >= 0.0          # a fixed point of the T = 0 dynamics
    for kw in (dict(P=1), dict(T=-1.0), dict(T=0.5, dynamics="zero"), dict(init="archetype"), dict(replicas=0),
               dict(schedule="spiral")):
        args = {"P": 2, "T": 0.5, **kw}
        with pytest.raises(ParameterError):
            RealPatternBatch(xi, args.pop("P"), args.pop("T"), **args)
    with pytest.raises(ParameterError, match="patterns"):
        RealPatternBatch(np.full((5, 2), np.nan), 2, 0.5)
    with pytest.raises(ParameterError, match="N"):
        RealPatternBatch(xi[:3], 4, 0.5)
