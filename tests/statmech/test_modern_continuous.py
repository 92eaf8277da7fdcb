"""Fixed points of the softmax iteration against Ramsauer et al.'s conditions and the symmetry-reduced map."""
import math

import numpy as np
import pytest

from hopfield.modern import ContinuousModernHopfield
from hopfield.validation import ParameterError
from statmech import modern_continuous as mc

K, G = 16, 4
LAMS = np.geomspace(0.4, 300, 25)
SEPS = np.linspace(0.03, 1.0, 14)


@pytest.fixture(scope="module")
def grid():
    return mc.classify_grid(K, G, LAMS, SEPS)


def test_geometry_separation_and_m_max():
    for s in (0.1, 0.5, 1.0):
        X = mc.cluster_patterns(K, G, s)
        net = ContinuousModernHopfield(X, 1.0)
        assert np.allclose(np.linalg.norm(X, axis=0), 1.0)
        assert all(net.separation(i) == pytest.approx(s, abs=1e-14) for i in range(K))    # Ramsauer Eq. 5
        mean = X.mean(axis=1)
        assert np.max(np.sum((X - mean[:, None]) ** 2, axis=0)) == pytest.approx(mc.m_max_squared(K, G, s), rel=1e-13)
    assert mc.well_separated_bound(K, 5.0) == pytest.approx(
        ContinuousModernHopfield(mc.cluster_patterns(K, G, 0.5), 5.0).well_separated_bound(), rel=1e-14)


def test_vector_iteration_matches_reduced_map(grid):
    """The full iteration from x_1 and the 3-variable symmetric reduction give the same fixed point."""
    for i in range(0, LAMS.size, 3):
        for j in range(0, SEPS.size, 2):
            r = mc.reduced_fixed_point(K, G, SEPS[j], LAMS[i])
            assert grid["k"][i, j] == r["k"] and grid["phase"][i, j] == r["phase"]
            assert grid["p_start"][i, j] == pytest.approx(r["a"], abs=1e-7)
            assert r["converged"] and 1 <= r["steps"] < 200000
    assert grid["converged"].all()


def test_reduced_map_reports_non_convergence():
    """Three steps from x_1 are not a fixed point: flagged, and the weights are those of the full vector
    iteration truncated the same way (its p_start = softmax at x^(3), i.e. the weights of step 4)."""
    full = mc.classify(mc.cluster_patterns(16, 4, 0.3), 5.0, max_steps=3)
    assert full["converged"] == 0
    for steps in (3, 4):
        r = mc.reduced_fixed_point(16, 4, 0.3, 5.0, max_steps=steps)
        assert r["converged"] is False and r["steps"] == steps
    assert r["a"] == pytest.approx(full["p_start"], abs=1e-12)
    done = mc.reduced_fixed_point(16, 4, 0.3, 5.0)
    assert done["converged"] is True and abs(done["a"] - r["a"]) > 1e-3


def test_contraction_condition_gives_the_unique_global_fixed_point(grid):
    """Lemma A3: lambda m_max^2 < 1 -> one fixed point, near the mean; the classifier says 'global'."""
    inside = grid["contraction"] == 1
    assert inside.sum() >= 10
    assert np.all(grid["phase"][inside] == 0)
    for i, j in zip(*np.nonzero(inside)):
        X = mc.cluster_patterns(K, G, SEPS[j])
        ends = [mc.classify(X, LAMS[i], start=s)["x"] for s in (0, 5, 10, 15)]
        assert max(np.linalg.norm(e - ends[0]) for e in ends) < 1e-8


def test_well_separated_patterns_are_single_fixed_points(grid):
    """Lemmas A5-A7 and Thm 5: Delta above the bound -> a fixed point within 1/(lambda K M) of x_i,
    with ||x_i - x_i*|| <= 2 e (K-1) M e^(-lambda Delta); the classifier says 'single'."""
    inside = grid["well_separated"] == 1
    assert inside.sum() >= 10
    assert np.all(grid["phase"][inside] == 2)
    for i, j in zip(*np.nonzero(inside)):
        lam, s = LAMS[i], SEPS[j]
        d = grid["distance"][i, j]
        assert d <= 1.0 / (lam * K)
        assert d <= 2 * math.e * (K - 1) * math.exp(-lam * s)


def test_metastable_cluster_average():
    """Derived sufficient condition (Lemma A3 inside a cluster, Lemmas A5-A7 for the cluster means):
    lambda s (1 - 1/n) < 1 and (1 - s + s/n) >= 2/(lambda G) + ln(2 (G-1) G lambda)/lambda -> the fixed point
    averages exactly the n = K/G patterns of the start's cluster."""
    n, hits = K // G, 0
    for lam in np.geomspace(3, 60, 12):
        for s in np.linspace(0.01, 0.3, 12):
            if lam * s * (1 - 1 / n) < 1 and 1 - s + s / n >= 2 / (lam * G) + math.log(2 * (G - 1) * G * lam) / lam:
                r = mc.classify(mc.cluster_patterns(K, G, s), lam)
                assert r["phase"] == 1 and r["k"] == n
                hits += 1
    assert hits >= 10


def test_three_phases_present(grid):
    assert set(np.unique(grid["phase"]).astype(int)) == {0, 1, 2}
    # large lambda, large separation: single; smallest lambda: global
    assert grid["phase"][-1, -1] == 2 and np.all(grid["phase"][0] == 0)


def test_bad_input():
    with pytest.raises(ParameterError):
        mc.cluster_patterns(16, 3, 0.5)
    with pytest.raises(ParameterError):
        mc.cluster_patterns(16, 4, 0.0)
    with pytest.raises(ParameterError):
        mc.reduced_fixed_point(16, 4, 0.5, -1.0)
    for kw in ({"max_steps": 0}, {"max_steps": -5}, {"eps": -1.0}, {"eps": 0.0}):
        with pytest.raises(ParameterError):
            mc.reduced_fixed_point(16, 4, 0.3, 5.0, **kw)


@pytest.mark.parametrize("kw", [{"lams": [1.0, -1.0]}, {"separations": [0.3, 1.5]}, {"eps": 0.0}, {"max_steps": 0}])
def test_classify_grid_refuses_before_the_first_point(kw, monkeypatch):
    calls = []
    monkeypatch.setattr(mc, "classify", lambda *a, **k: calls.append(a))
    args = {"lams": [1.0, 2.0], "separations": [0.3]} | kw
    with pytest.raises(ParameterError):
        mc.classify_grid(16, 4, **args)
    assert calls == []


def test_mass_count_counts_and_refuses_bad_weights():
    assert mc.mass_count([0.5, 0.3, 0.2], 0.75) == 2 and mc.mass_count([0.5, 0.3, 0.2], 1.0) == 3
    assert mc.mass_count([1.0, 0.0, 0.0]) == 1
    for p, mass, name in (([], 0.9, "p"), ([0.0, 0.0], 0.9, "p"), ([0.5, -0.1], 0.9, "p"),
                          ([0.5, np.nan], 0.9, "p"), ([0.5, 0.5], 1.5, "mass"), ([0.5, 0.5], 0.0, "mass")):
        with pytest.raises(ParameterError, match=name):
            mc.mass_count(p, mass)
