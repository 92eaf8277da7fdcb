"""Synchronous (parallel) dynamics: Peretto's stationary law by exact enumeration, T = 0 fixed points
and 2-cycles, per-chain streams, bad input."""
import itertools

import numpy as np
import pytest

from hopfield import ParameterError, random_patterns
from montecarlo.synchronous import synchronous_run


@pytest.mark.parametrize("dilution", [0.0, 0.2])
def test_heat_bath_matches_peretto_law_not_boltzmann(dilution):
    """Parallel heat bath with symmetric J (J_ii = 0) is stationary under pi ~ prod_i 2 cosh(beta h_i):
    enumerate all 2^10 states (N = 10, K = 3, T = 0.8) and compare <m_1^2> and <E>/N with MC time
    averages of 64 independent chains (z < 4); the Boltzmann law of the sequential dynamics differs by
    more than 20 standard errors, so the test tells the two dynamics apart."""
    N, K, T = 10, 3, 0.8
    xi = random_patterns(N, K, np.random.default_rng(4), dilution=dilution)
    x = xi.astype(float)
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=N)))
    S = states @ x
    h = (S @ x.T - np.count_nonzero(xi, axis=1) * states) / N
    E = -((S ** 2).sum(axis=1) - np.count_nonzero(xi)) / (2.0 * N * N)
    m2 = (S[:, 0] / N) ** 2
    lw = np.log(2 * np.cosh(h / T)).sum(axis=1)
    peretto = np.exp(lw - lw.max())
    peretto /= peretto.sum()
    boltz = np.exp(-N * (E - E.min()) / T)
    boltz /= boltz.sum()
    r = synchronous_run(xi, T, 3000, chains=64, init="random", seed=1)
    assert r["dynamics"] == "synchronous"
    for series, obs in ((r["m"] ** 2, m2), (r["E"], E)):
        per_chain = series[:, 100:].mean(axis=1)
        mean, err = per_chain.mean(), per_chain.std(ddof=1) / np.sqrt(per_chain.size)
        assert abs(mean - peretto @ obs) < 4 * err
        assert abs(mean - boltz @ obs) > 20 * err


def test_zero_temperature_fixed_point_and_two_cycle():
    """T = 0: a stored pattern at low load is a fixed point of the sign rule; the antiferromagnetic pair
    (N = 2, xi = (1, -1), J_12 = -1/2) flips both spins of an aligned start every step: a 2-cycle."""
    xi = random_patterns(500, 5, np.random.default_rng(0))
    r = synchronous_run(xi, 0.0, 5, init="pattern")
    assert np.all(r["m"] == 1.0) and not r["cycle2"].any()
    pair = np.array([[1], [-1]], dtype=np.int8)
    r = synchronous_run(pair, 0.0, 6, chains=16, init="random", seed=2)
    aligned = r["spins"][:, 0] == r["spins"][:, 1]
    assert aligned.any() and (~aligned).any()
    assert np.array_equal(r["cycle2"], aligned)


def test_chain_streams_do_not_depend_on_the_batch():
    xi = random_patterns(40, 4, np.random.default_rng(1))
    one = synchronous_run(xi, 0.7, 20, chains=1, init="random", seed=5, point=3)
    three = synchronous_run(xi, 0.7, 20, chains=3, init="random", seed=5, point=3)
    assert np.array_equal(one["m"][0], three["m"][0]) and np.array_equal(one["spins"][0], three["spins"][0])


@pytest.mark.parametrize("kwargs, name", [
    (dict(T=-1.0), "T"), (dict(steps=0), "steps"), (dict(chains=0), "chains"), (dict(init="hier"), "init"),
    (dict(ties="coin"), "ties"), (dict(seed=-1), "seed"), (dict(patterns=np.full((4, 2), 2)), "patterns"),
])
def test_bad_inputs(kwargs, name):
    args = dict(patterns=random_patterns(10, 2, np.random.default_rng(0)), T=0.5, steps=3)
    args.update(kwargs)
    with pytest.raises(ParameterError, match=name):
        synchronous_run(args.pop("patterns"), args.pop("T"), args.pop("steps"), **args)
