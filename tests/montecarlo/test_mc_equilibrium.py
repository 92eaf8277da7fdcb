"""MC averages against exact Boltzmann averages (enumeration, K = 1 closed forms); tempering."""
import numpy as np
import pytest

from hopfield import random_patterns
from montecarlo import ChainBatch, summarize_series
from mc_oracles import curie_weiss_exact, enumerate_averages

Z_MAX = 4.0


def mc_averages(xi, P, temps, dynamics, *, replicas=12, sweeps=2500, burn=200, tempering=False, seed=0,
                init="random"):
    b = ChainBatch(xi, P, temps, replicas=replicas, dynamics=dynamics, init=init, tempering=tempering, seed=seed)
    b.run(burn, measure=False)
    ser = b.run(sweeps)
    out = []
    for k in range(len(temps)):
        res = {}
        for name, series in (("E", ser["E"][:, k]), ("abs_m", np.abs(ser["m"][:, k])), ("m2", ser["m"][:, k] ** 2)):
            summ = [summarize_series(series[g]) for g in range(series.shape[0])]
            mean = np.mean([s["mean"] for s in summ])
            err = np.sqrt(np.sum([s["err"] ** 2 for s in summ])) / len(summ)
            res[name] = (mean, err)
        out.append(res)
    return out, b


def assert_agree(mc, exact, label):
    for name in ("E", "abs_m", "m2"):
        mean, err = mc[name]
        z = (mean - exact[name]) / err
        assert abs(z) < Z_MAX, f"{label} {name}: MC {mean:.5f} +- {err:.5f} vs exact {exact[name]:.5f} (z = {z:.2f})"


CASES = [  # (P, N, K, dilution, T)
    (2, 12, 3, 0.0, 0.7),
    (2, 12, 3, 0.3, 0.6),
    (3, 11, 2, 0.0, 0.8),
    (4, 10, 2, 0.0, 0.9),
    (4, 10, 2, 0.3, 0.5),
]


@pytest.mark.parametrize("dynamics", ["heat_bath", "metropolis"])
@pytest.mark.parametrize("P,N,K,d,T", CASES)
def test_enumeration(P, N, K, d, T, dynamics):
    xi = random_patterns(N, K, np.random.default_rng(100 + P + N + K), dilution=d)
    exact = enumerate_averages(xi, P, T)
    (mc,), _ = mc_averages(xi, P, [T], dynamics, seed=P + K)
    assert_agree(mc, exact, f"P={P} N={N} K={K} d={d} T={T} {dynamics}")


@pytest.mark.parametrize("P,N,T", [(2, 200, 1.05), (3, 60, 0.8), (4, 40, 0.85)])
def test_curie_weiss_exact_finite_N(P, N, T):
    xi = np.ones((N, 1), dtype=np.int8)
    exact = curie_weiss_exact(N, P, T)
    (mc,), _ = mc_averages(xi, P, [T], "heat_bath", replicas=8, sweeps=3000, seed=7, init="pattern")
    assert_agree(mc, exact, f"K=1 P={P} N={N} T={T}")


def test_tempering_preserves_equilibrium():
    P, N, K = 4, 10, 2
    xi = random_patterns(N, K, np.random.default_rng(11))
    ladder = [0.45, 0.6, 0.8, 1.1]
    res, b = mc_averages(xi, P, ladder, "metropolis", replicas=6, sweeps=2500, tempering=True, seed=5)
    rates = b.swap_rates()
    assert rates.shape == (3,) and np.all((rates >= 0) & (rates <= 1)) and np.all(rates > 0.05)
    assert b.swap_att.sum() > 0
    # every slot keeps a chain, all chains distinct
    assert sorted(b.perm.ravel()) == list(range(b.C))
    assert np.allclose(b.cbeta[b.perm], 1.0 / np.array(ladder)[None, :])
    for k, T in enumerate(ladder):
        assert_agree(res[k], enumerate_averages(xi, P, T), f"PT slot T={T}")
    assert b.check_overlaps()
