"""Monte Carlo of the unsupervised network started on one example (init="example") against the theory of
example-retrieval states (statmech.learning_examples): it stays on the example where the state is
locally stable, with the predicted overlaps, and leaves (to the archetype state or the paramagnet) where
the theory says the example state does not exist. P = 4, M = 20, low load (K = 1)."""
import numpy as np
import pytest

from montecarlo.learning import LearningBatch, learning_dataset
from statmech import learning as L
from statmech import learning_examples as X


def mc_from_example(N, rho, T, samples, burn=100, blocks=10, every=10, seed=7):
    """Per-sample time averages of (n with example 1, mean n with examples 2..M, m with the archetype)."""
    out = []
    for d in range(samples):
        xi, eta = learning_dataset(N, 1, 20, rho=rho, seed=seed, sample=d)
        b = LearningBatch("unsupervised", eta, xi, 4, T, rho=rho, seed=seed, point=d, init="example")
        b.run(burn, measure=False)
        acc = []
        for _ in range(blocks):
            b.run(every, measure=False)
            ov = b.example_overlaps()[0, 0]
            acc.append((ov[0], ov[1:].mean(), b.archetype_overlaps()[0, 0]))
        out.append(np.mean(acc, axis=0))
    out = np.array(out)
    return out.mean(axis=0), out.std(axis=0, ddof=1) / np.sqrt(samples)


def theory(rho, T):
    g = X.solve_examples(4, rho=[rho], T=[T], M=20)
    a = L.solve_grid("unsupervised", 4, alpha=[0.0], rho=[rho], T=[T], M=20, load="low", average="binomial")
    return {k: v.ravel()[0] for k, v in g.items()}, {k: v.ravel()[0] for k, v in a.items()}


CASES = [(0.1, 0.15), (0.1, 0.3), (0.5, 1.5), (0.5, 3.0)]


def check(rho, T, N, samples, slack):
    ex, ar = theory(rho, T)
    mean, err = mc_from_example(N, rho, T, samples)
    tol = 4 * err + slack
    r = 1 / np.sqrt(1 + 20 * rho)
    if ex["exists_example"]:
        # stays: overlaps of the example state (n ~ 1, n' ~ r^2, m ~ r)
        ref = np.array([ex["n1_example"], ex["n2_example"], ex["m_example"]])
        assert np.all(np.abs(mean - ref) < tol), (rho, T, mean, err, ref)
    elif ar["exists_retrieval"]:
        # leaves for the archetype state: m = m_R, every example overlap ~ r s
        assert abs(mean[2] - ar["m_retrieval"]) < tol[2], (rho, T, mean, ar["m_retrieval"])
        assert abs(mean[1] - r * ar["s_retrieval"]) < tol[1]
        assert mean[0] < 0.7
    else:
        # leaves for the paramagnet
        assert np.all(np.abs(mean) < tol), (rho, T, mean)
    return ex["exists_example"]


def test_mc_started_on_an_example_reduced():
    """N = 2000, 4 disorder samples. rho = 0.1: the example state exists at T = 0.15 (metastable:
    the archetype state has lower f) and not at T = 0.3 (above its spinodal T = 0.206); rho = 0.5:
    it is the equilibrium state at T = 1.5 and absent at T = 3 (spinodal 2.66)."""
    stays = [check(rho, T, 2000, 4, 0.01) for rho, T in CASES]
    assert stays == [True, False, True, False]


@pytest.mark.slow
@pytest.mark.parametrize("rho,T", CASES + [(0.2, 0.5), (0.2, 1.0)])
def test_mc_started_on_an_example_full(rho, T):
    check(rho, T, 8000, 8, 0.004)
