import itertools

import numpy as np
import pytest

from hopfield import HebbianNetwork, ParameterError, random_patterns


def brute_energy(xi, sigma, P):
    """Direct sum over ordered P-tuples of distinct sites (tiny N only)."""
    N, K = xi.shape
    x = xi.astype(np.int64) * sigma[:, None]
    tot = 0
    for tup in itertools.permutations(range(N), P):
        tot += int(np.prod(x[list(tup)], axis=0).sum())
    return -tot / (2.0 * N ** (P - 1))


@pytest.mark.parametrize("P", [2, 3, 4])
@pytest.mark.parametrize("dilution", [0.0, 0.4])
def test_energy_matches_bruteforce(P, dilution):
    rng = np.random.default_rng(P + int(10 * dilution))
    xi = random_patterns(7, 3, rng, dilution=dilution)
    net = HebbianNetwork(xi, P)
    for _ in range(4):
        s = rng.choice(np.array([-1, 1], dtype=np.int8), size=7)
        assert net.energy(s) == pytest.approx(brute_energy(xi, s, P), rel=1e-14, abs=1e-14)


def test_pairwise_energy_matches_couplings():
    rng = np.random.default_rng(1)
    xi = random_patterns(20, 4, rng, dilution=0.2)
    net = HebbianNetwork(xi, 2)
    J = xi.astype(float) @ xi.T.astype(float) / 20
    np.fill_diagonal(J, 0.0)
    s = rng.choice([-1, 1], size=20).astype(np.int8)
    assert net.energy(s) == pytest.approx(-0.5 * s @ J @ s, abs=1e-12)
    assert np.allclose(net.local_field(s), J @ s, atol=1e-12)


@pytest.mark.parametrize("P", [2, 3, 4])
def test_delta_energy_and_field(P):
    rng = np.random.default_rng(5)
    xi = random_patterns(9, 4, rng, dilution=0.2)
    net = HebbianNetwork(xi, P)
    s = rng.choice([-1, 1], size=9).astype(np.int8)
    h = net.local_field(s)
    for i in range(9):
        f = s.copy()
        f[i] = -f[i]
        dE = net.delta_energy(s, i)
        assert dE == pytest.approx(net.energy(f) - net.energy(s), abs=1e-12)
        assert dE == pytest.approx(2 * s[i] * h[i], abs=1e-12)


def test_overlaps_and_patterns():
    rng = np.random.default_rng(2)
    xi = random_patterns(1000, 5, rng, dilution=0.3)
    assert xi.dtype == np.int8 and xi.shape == (1000, 5) and xi.flags.c_contiguous
    assert abs((xi == 0).mean() - 0.3) < 0.03
    net = HebbianNetwork(xi, 2)
    s = np.where(xi[:, 0] == 0, 1, xi[:, 0]).astype(np.int8)
    assert np.allclose(net.overlaps(s), xi.T.astype(np.int64) @ s.astype(np.int64) / 1000)
    a = random_patterns(10, 3, 42)
    b = random_patterns(10, 3, np.random.default_rng(42))
    assert np.array_equal(a, b) and set(np.unique(a)) <= {-1, 1}


def test_zero_temperature_dynamics_fixed_point():
    rng = np.random.default_rng(3)
    xi = random_patterns(40, 2, rng)
    net = HebbianNetwork(xi, 2)
    s0 = xi[:, 0].copy()
    s0[:6] *= -1  # corrupted pattern: low load retrieves it
    s, sweeps, conv = net.zero_temperature_dynamics(s0, rng=1, ties="frozen")
    assert conv
    assert abs(net.overlaps(s)[0]) == 1.0
    assert all(net.delta_energy(s, i) >= 0 for i in range(40))


def test_bad_inputs():
    xi = random_patterns(5, 2, 0)
    with pytest.raises(ParameterError, match="P = 1"):
        HebbianNetwork(xi, 1)
    with pytest.raises(ParameterError, match="P"):
        HebbianNetwork(xi, 2.5)
    with pytest.raises(ParameterError, match="patterns"):
        HebbianNetwork(xi * 2, 2)
    with pytest.raises(ParameterError, match="shape"):
        HebbianNetwork(xi[:, 0], 2)
    with pytest.raises(ParameterError, match="N"):
        HebbianNetwork(xi[:2], 3)
    net = HebbianNetwork(xi, 2)
    with pytest.raises(ParameterError, match="sigma"):
        net.energy(np.zeros(5))
    with pytest.raises(ParameterError, match="i = 7"):
        net.delta_energy(np.ones(5), 7)
    with pytest.raises(ParameterError, match="dilution"):
        random_patterns(5, 2, 0, dilution=1.0)
    with pytest.raises(ParameterError, match="K"):
        random_patterns(5, 0, 0)
    with pytest.raises(ParameterError, match="rng"):
        random_patterns(5, 2, "seed")
    with pytest.raises(ParameterError, match="schedule"):
        net.zero_temperature_dynamics(np.ones(5), schedule="parallel")
