"""hopfield.RealHebbianNetwork: the distinct-index P-body energy with real-valued patterns, against explicit
sums over P-subsets and against the integer reference on +-1 / diluted patterns."""
import itertools
import math

import numpy as np
import pytest

from hopfield import HebbianNetwork, ParameterError, RealHebbianNetwork, random_patterns


def brute_energy(xi, s, P):
    N = xi.shape[0]
    x = xi * s[:, None]
    tot = sum(np.prod(x[list(c)], axis=0).sum() for c in itertools.combinations(range(N), P))
    return -math.factorial(P) * tot / (2.0 * N ** (P - 1))


@pytest.mark.parametrize("P", [2, 3, 4, 5])
def test_energy_and_delta_against_subset_sums(P):
    rng = np.random.default_rng(P)
    xi = rng.standard_normal((8, 3))
    net = RealHebbianNetwork(xi, P)
    for _ in range(3):
        s = (2 * rng.integers(0, 2, size=8) - 1).astype(np.int8)
        E = brute_energy(xi, s.astype(float), P)
        assert net.energy(s) == pytest.approx(E, rel=1e-12, abs=1e-14)
        t = s.copy()
        t[2] = -t[2]
        assert net.delta_energy(s, 2) == pytest.approx(brute_energy(xi, t.astype(float), P) - E, rel=1e-10, abs=1e-13)
        np.testing.assert_allclose(net.overlaps(s), xi.T @ s / 8, rtol=1e-15)


@pytest.mark.parametrize("P,dilution", [(2, 0.0), (3, 0.3), (4, 0.2)])
def test_integer_patterns_give_the_integer_reference(P, dilution):
    rng = np.random.default_rng(10 + P)
    xi = random_patterns(12, 3, rng, dilution=dilution)
    a, b = RealHebbianNetwork(xi.astype(float), P), HebbianNetwork(xi, P)
    s = (2 * rng.integers(0, 2, size=12) - 1).astype(np.int8)
    assert a.energy(s) == b.energy(s)
    assert all(a.delta_energy(s, i) == b.delta_energy(s, i) for i in range(12))


def test_bad_inputs():
    with pytest.raises(ParameterError, match="patterns"):
        RealHebbianNetwork(np.array([[np.inf, 1.0], [0.5, 0.2]]))
    with pytest.raises(ParameterError, match="patterns.shape"):
        RealHebbianNetwork(np.ones(5))
    with pytest.raises(ParameterError, match="N"):
        RealHebbianNetwork(np.ones((3, 2)), 4)
    with pytest.raises(ParameterError, match="P"):
        RealHebbianNetwork(np.ones((3, 2)), 1)
    with pytest.raises(ParameterError, match="sigma"):
        RealHebbianNetwork(np.ones((3, 2))).energy([1, 0, 1])
