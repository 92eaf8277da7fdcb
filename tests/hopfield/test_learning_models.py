"""Reference learning models (hopfield.learning) and structured data (hopfield.datasets)."""
import itertools

import numpy as np
import pytest

from hopfield import HebbianNetwork, ParameterError, random_patterns
from hopfield.datasets import (binarize, class_archetypes, class_examples, digits_dataset,
                               load_digits_binary)
from hopfield.learning import (R_from_r, SupervisedNetwork, UnsupervisedNetwork, estimate_quality,
                               example_sums, make_dataset, make_examples, r_from_rho, resolve_quality,
                               rho_from_r)


# ----------------------------------------------------------------------------- dataset parameters
@pytest.mark.parametrize("r,M", [(0.3015, 20), (0.9, 1), (1.0, 7), (0.05, 300)])
def test_rho_r_R_relations(r, M):
    rho = rho_from_r(r, M)
    assert rho == pytest.approx((1 - r * r) / (M * r * r))
    assert r_from_rho(rho, M) == pytest.approx(r, rel=1e-12)
    R = R_from_r(r, M)
    assert R == pytest.approx(r * r + (1 - r * r) / M, rel=1e-14)
    assert R == pytest.approx(r * r * (1 + rho), rel=1e-12)
    assert resolve_quality(M, rho=rho)[0] == pytest.approx(r, rel=1e-12)


def test_sanity_point_parameters():
    r, rho, R = resolve_quality(20, rho=0.5)
    assert r == pytest.approx(0.3015, abs=1e-4) and rho == pytest.approx(0.5)


def test_make_examples_layout_and_statistics():
    rng = np.random.default_rng(0)
    xi = random_patterns(2000, 3, rng)
    eta = make_examples(xi, 50, 0.4, rng)
    assert eta.shape == (2000, 3, 50) and eta.dtype == np.int8 and eta.flags.c_contiguous
    chi = eta * xi[:, :, None]
    assert set(np.unique(chi)) <= {-1, 1}
    # E[chi] = r: 3e5 entries, sd of the mean 0.0017
    assert chi.mean() == pytest.approx(0.4, abs=0.01)
    Mb = example_sums(eta)
    assert Mb.dtype == np.int16 and Mb.shape == (2000, 3)
    np.testing.assert_array_equal(Mb, eta.astype(int).sum(axis=2))
    # E[etabar^2] = R
    assert np.mean((Mb / 50.0) ** 2) == pytest.approx(R_from_r(0.4, 50), rel=0.02)
    assert estimate_quality(eta, xi) == pytest.approx(0.4, abs=0.01)


def test_perfect_examples_are_archetypes():
    xi = random_patterns(30, 2, 1)
    eta = make_examples(xi, 4, 1.0, 2)
    np.testing.assert_array_equal(eta, np.repeat(xi[:, :, None], 4, axis=2))
    a, e = make_dataset(30, 2, 4, rho=0.0, rng=5)
    np.testing.assert_array_equal(e, np.repeat(a[:, :, None], 4, axis=2))


# ----------------------------------------------------------------------------- energies
def brute_energy_sup(etabar, sigma, P, R):
    N, K = etabar.shape
    x = etabar * sigma[:, None]
    tot = 0.0
    for tup in itertools.permutations(range(N), P):
        tot += np.prod(x[list(tup)], axis=0).sum()
    return -tot / (2.0 * R ** (P / 2) * N ** (P - 1))


def brute_energy_uns(eta, sigma, P, R):
    N, K, M = eta.shape
    x = eta.reshape(N, K * M).astype(np.int64) * sigma[:, None]
    tot = 0
    for tup in itertools.permutations(range(N), P):
        tot += int(np.prod(x[list(tup)], axis=0).sum())
    return -tot / (2.0 * R ** (P / 2) * M * N ** (P - 1))


@pytest.mark.parametrize("P", [2, 4])
def test_energies_match_bruteforce(P):
    rng = np.random.default_rng(P)
    xi, eta = make_dataset(7, 2, 3, r=0.5, rng=rng)
    R = R_from_r(0.5, 3)
    sup = SupervisedNetwork(eta, P, r=0.5, archetypes=xi)
    uns = UnsupervisedNetwork(eta, P, r=0.5, archetypes=xi)
    etabar = eta.mean(axis=2)
    for _ in range(3):
        s = rng.choice(np.array([-1, 1], dtype=np.int8), size=7)
        assert sup.energy(s) == pytest.approx(brute_energy_sup(etabar, s, P, R), rel=1e-12, abs=1e-14)
        assert uns.energy(s) == pytest.approx(brute_energy_uns(eta, s, P, R), rel=1e-12, abs=1e-14)


def test_pairwise_couplings_group_convention():
    rng = np.random.default_rng(3)
    r, M, N = 0.6, 5, 25
    xi, eta = make_dataset(N, 3, M, r=r, rng=rng)
    R = R_from_r(r, M)
    etabar = eta.mean(axis=2)
    Jsup = etabar @ etabar.T / (R * N)
    ex = eta.reshape(N, -1).astype(float)
    Juns = ex @ ex.T / (R * N * M)
    for J in (Jsup, Juns):
        np.fill_diagonal(J, 0.0)
    sup, uns = SupervisedNetwork(eta, 2, r=r), UnsupervisedNetwork(eta, 2, r=r)
    np.testing.assert_allclose(sup.couplings(), Jsup, atol=1e-14)
    np.testing.assert_allclose(uns.couplings(), Juns, atol=1e-14)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=N)
    assert sup.energy(s) == pytest.approx(-0.5 * s @ Jsup @ s, rel=1e-12)
    assert uns.energy(s) == pytest.approx(-0.5 * s @ Juns @ s, rel=1e-12)
    np.testing.assert_allclose(sup.local_field(s), Jsup @ s, atol=1e-12)
    np.testing.assert_allclose(uns.local_field(s), Juns @ s, atol=1e-12)
    with pytest.raises(ParameterError):
        SupervisedNetwork(eta, 4, r=r).couplings()


@pytest.mark.parametrize("cls", [SupervisedNetwork, UnsupervisedNetwork])
@pytest.mark.parametrize("P", [2, 4, 6])
def test_delta_energy_and_local_field(cls, P):
    rng = np.random.default_rng(10 + P)
    xi, eta = make_dataset(11, 2, 4, rho=0.3, rng=rng)
    net = cls(eta, P, rho=0.3)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=11)
    h = net.local_field(s)
    for i in range(11):
        t = s.copy()
        t[i] = -t[i]
        d = net.delta_energy(s, i)
        assert d == pytest.approx(net.energy(t) - net.energy(s), rel=1e-10, abs=1e-14)
        assert d == pytest.approx(2 * s[i] * h[i], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("P", [2, 4])
def test_big_data_limit_equals_storage_model(P):
    """r = 1 (perfect examples, rho = 0): both models are the dense Hebbian model of storage.md."""
    xi = random_patterns(9, 3, 4)
    eta = make_examples(xi, 5, 1.0, 0)
    ref = HebbianNetwork(xi, P)
    sup, uns = SupervisedNetwork(eta, P, r=1.0), UnsupervisedNetwork(eta, P, r=1.0)
    rng = np.random.default_rng(1)
    for _ in range(3):
        s = rng.choice(np.array([-1, 1], dtype=np.int8), size=9)
        assert sup.energy(s) == pytest.approx(ref.energy(s), rel=1e-13)
        assert uns.energy(s) == pytest.approx(ref.energy(s), rel=1e-13)
        assert sup.delta_energy(s, 3) == pytest.approx(ref.delta_energy(s, 3), rel=1e-13)


def test_overlap_normalisations():
    """n -> 1/(1+rho) and s -> 1 at sigma = xi^mu (learning.md 9.2); n_{mu a} -> r."""
    N, M, rho = 20000, 20, 0.5
    xi, eta = make_dataset(N, 2, M, rho=rho, rng=11)
    net = SupervisedNetwork(eta, 2, rho=rho, archetypes=xi)
    o = net.overlaps(xi[:, 0])
    assert o["m"][0] == 1.0
    # n = r/(R N) sum etabar xi: mean 1/(1+rho), sd sqrt(Var etabar / N) r / R ~ 0.006
    assert o["n"][0] == pytest.approx(1.0 / (1.0 + rho), abs=0.03)
    assert o["s"][0] == pytest.approx(1.0, abs=0.03)
    assert o["s"][0] == pytest.approx((1 + rho) * o["n"][0], rel=1e-12)
    assert abs(o["n"][1]) < 0.05
    assert o["n_examples"].shape == (2, M)
    assert o["n_examples"][0].mean() == pytest.approx(net.r, abs=0.01)
    assert o["n_examples"][0].mean() == pytest.approx(o["s"][0] * net.r, rel=1e-12)


def test_reference_rejects_bad_inputs():
    xi, eta = make_dataset(8, 2, 3, r=0.5, rng=0)
    with pytest.raises(ParameterError):
        SupervisedNetwork(eta, 3, r=0.5)  # odd P
    with pytest.raises(ParameterError):
        SupervisedNetwork(eta, 2)  # neither r nor rho
    with pytest.raises(ParameterError):
        SupervisedNetwork(eta, 2, r=0.5, rho=0.1)  # both
    with pytest.raises(ParameterError):
        UnsupervisedNetwork(eta, 2, r=1.5)
    with pytest.raises(ParameterError):
        UnsupervisedNetwork(eta, 2, r=0.0)
    with pytest.raises(ParameterError):
        UnsupervisedNetwork(eta, 2, rho=-0.1)
    bad = eta.copy()
    bad[0, 0, 0] = 2                                           # entries in {-1, 0, +1} (0: diluted data)
    with pytest.raises(ParameterError, match="examples"):
        SupervisedNetwork(bad, 2, r=0.5)
    with pytest.raises(ParameterError):
        SupervisedNetwork(eta[:, :, 0], 2, r=0.5)  # 2-D
    with pytest.raises(ParameterError):
        SupervisedNetwork(eta, 2, r=0.5, archetypes=xi[:, :1])
    blank = xi.copy()
    blank[3, 0] = 0     # drawing examples needs +-1 archetypes (learning.md 1); the networks take diluted data
    for call in (lambda: estimate_quality(eta, blank), lambda: make_examples(blank, 3, 0.5, 0)):
        with pytest.raises(ParameterError, match=r"archetypes\[3, 0\] = 0"):
            call()
    net = SupervisedNetwork(eta, 2, r=0.5)
    with pytest.raises(ParameterError):
        net.energy(np.ones(7, dtype=np.int8))
    with pytest.raises(ParameterError):
        net.delta_energy(np.ones(8, dtype=np.int8), 8)
    with pytest.raises(ParameterError):
        net.archetype_overlaps(np.ones(8, dtype=np.int8))  # no archetypes given
    with pytest.raises(ParameterError):
        make_examples(xi, 0, 0.5, 0)
    with pytest.raises(ParameterError):
        make_examples(xi, 3, -0.1, 0)
    with pytest.raises(ParameterError):
        make_dataset(8, 2, 3, rng=0)
    with pytest.raises(ParameterError):
        rho_from_r(0.0, 3)


# ----------------------------------------------------------------------------- datasets
def test_binarize_threshold():
    v = np.array([0.0, 0.5, 0.5001, 1.0])
    np.testing.assert_array_equal(binarize(v, 0.5), [-1, -1, 1, 1])
    np.testing.assert_array_equal(binarize(v, 0.5, invert=True), [1, 1, -1, -1])


def test_class_examples_user_array_and_archetype_definition():
    # class 7: three vectors; site 0 mean +1/3 -> +1, site 1 mean -1/3 -> -1; class 2: two vectors with a tie
    data = np.array([[1, -1, 1], [1, 1, -1], [-1, -1, 1],   # label 7
                     [1, -1, -1], [-1, -1, 1]],            # label 2
                    dtype=np.int8)
    labels = np.array([7, 7, 7, 2, 2])
    xi, classes = class_archetypes(data, labels)
    np.testing.assert_array_equal(classes, [2, 7])
    np.testing.assert_array_equal(xi[:, 1], [1, -1, 1])
    np.testing.assert_array_equal(xi[:, 0], [1, -1, 1])  # ties (sites 0 and 2) -> +1
    eta, lab, xi2 = class_examples(data, labels)
    assert eta.shape == (3, 2, 2) and eta.dtype == np.int8 and eta.flags.c_contiguous
    np.testing.assert_array_equal(lab, [2, 7])
    np.testing.assert_array_equal(eta[:, 0, :].T, data[3:5])        # first M rows of class 2
    np.testing.assert_array_equal(eta[:, 1, :].T, data[0:2])        # first M = 2 rows of class 7
    np.testing.assert_array_equal(xi2, xi)                          # archetypes use all rows of the class
    eta3, lab3, _ = class_examples(data, labels, M=2, classes=[7], rng=0)
    assert eta3.shape == (3, 1, 2) and lab3.tolist() == [7]
    with pytest.raises(ParameterError):
        class_examples(data, labels, M=3)       # class 2 has only 2 rows
    with pytest.raises(ParameterError):
        class_examples(data * 2, labels)        # not +-1
    with pytest.raises(ParameterError):
        class_examples(data, labels[:4])
    with pytest.raises(ParameterError):
        class_examples(data, labels, classes=[5])


def test_digits_loader():
    pytest.importorskip("sklearn")
    data, labels = load_digits_binary()
    assert data.shape == (1797, 64) and data.dtype == np.int8
    assert set(np.unique(data)) == {-1, 1}
    np.testing.assert_array_equal(np.unique(labels), np.arange(10))
    from sklearn.datasets import load_digits
    raw = load_digits().data
    np.testing.assert_array_equal(data == 1, raw >= 9)  # value/16 > 0.5 <=> value >= 9
    eta, lab, xi = digits_dataset()
    assert eta.shape == (64, 10, int(np.bincount(labels).min())) and xi.shape == (64, 10)
    np.testing.assert_array_equal(lab, np.arange(10))
    for k in range(10):
        mean = data[labels == k].astype(float).mean(axis=0)
        np.testing.assert_array_equal(xi[:, k], np.where(mean >= 0, 1, -1))
    # archetypes are recognisably different, examples resemble their own archetype most
    r_hat = estimate_quality(eta, xi)
    assert 0.5 < r_hat < 1.0
    net = SupervisedNetwork(eta, 2, r=r_hat, archetypes=xi)
    m = net.archetype_overlaps(xi[:, 3])
    assert int(np.argmax(m)) == 3
    eta5, lab5, _ = digits_dataset(5, classes=[0, 1], rng=1)
    assert eta5.shape == (64, 2, 5) and lab5.tolist() == [0, 1]


def test_example_retrieval_energy_unsupervised():
    """sigma = eta^{1,b}: E/N -> -(1/(2 R^{P/2} M)) [1 + (M-1) r^{2P}] (learning.md 3.5), K = 1."""
    N, M, r, P = 6000, 10, 0.6, 4
    xi, eta = make_dataset(N, 1, M, r=r, rng=2)
    net = UnsupervisedNetwork(eta, P, r=r, archetypes=xi)
    R = R_from_r(r, M)
    e = net.energy(eta[:, 0, 3]) / N
    pred = -(1 + (M - 1) * r ** (2 * P)) / (2 * R ** (P / 2) * M)
    # overlaps with the other examples fluctuate by ~1/sqrt(N) around r^2
    assert e == pytest.approx(pred, rel=0.03)
    # generalising state sign(Mbar): E/N ~ -(kappa/2) s^P with s = etabar . sigma / (r N)
    sgn = np.where(example_sums(eta)[:, 0] >= 0, 1, -1).astype(np.int8)
    s = net.s_overlaps(sgn)[0]
    kappa = (1 + net.rho) ** (-P / 2)
    sup = SupervisedNetwork(eta, P, r=r)
    assert sup.energy(sgn) / N == pytest.approx(-0.5 * kappa * s ** P, rel=0.01)
