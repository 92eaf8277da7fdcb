"""T = 0 retrieval at exponential load: the O(N K) streaming stability counts against the numpy LSEDAM
reference, lse_retrieval against direct evaluation, refusals before allocation."""
import math
from decimal import Decimal, localcontext

import numpy as np
import pytest

from hopfield.modern import LSEDAM
from hopfield.validation import ParameterError
from montecarlo.modern import (
    exponential_load_K,
    hamming_masks,
    hamming_site_counts,
    lse_patterns,
    lse_retrieval,
    noise_to_target,
    stability_margin,
    target_is_fixed_point,
)


def _patterns_from_masks(N, masks):
    X = np.ones((N, masks.size + 1), np.int8)
    bits = (masks[None, :] >> np.arange(N, dtype=np.uint64)[:, None]) & np.uint64(1)
    X[:, 1:] = 1 - 2 * bits.astype(np.int8)
    return X


@pytest.mark.parametrize("N,K", [(6, 300), (12, 700), (20, 3000)])
def test_streaming_counts_match_reference(N, K):
    for sample in range(3):
        counts = hamming_site_counts(N, K, seed=5, point=N, sample=sample)
        X = _patterns_from_masks(N, hamming_masks(N, K, seed=5, point=N, sample=sample))
        for lam in (0.2, 1.0, 4.0):
            ref = LSEDAM(X, lam)
            assert stability_margin(counts, lam) == pytest.approx(ref.stability_margins(X[:, 0]).min(), abs=1e-12)
            w = ref.weights(X[:, 0])
            assert noise_to_target(counts, lam) == pytest.approx((1 - w[0]) / w[0], rel=1e-10)


def _exact_stable(X, lam, prec=200):
    """xi^1 (column 0) is single-flip stable iff Z >= Z_i at every site, Z = sum_mu e^(lambda S_mu) summed directly
    in 200-digit arithmetic over the exact integer overlaps (sorted terms: equal multisets, equal sums)."""
    N = X.shape[0]
    s = X[:, 0].astype(int)
    with localcontext() as ctx:
        ctx.prec = prec
        tab = {v: (Decimal(lam) * v).exp() for v in range(-N, N + 1)}
        S = X.astype(int).T @ s
        Z = sum(sorted(tab[int(v)] for v in S))
        return all(Z >= sum(sorted(tab[int(v)] for v in S - 2 * s[i] * X[i].astype(int))) for i in range(N))


@pytest.mark.parametrize("lam", [8.0, 10.0, 14.0])
def test_stability_from_counts_exact_at_large_lambda(lam):
    """N = 10, K = 60 (patterns at Hamming distance 1 and 2 are common, so DeltaE_i ~ e^(-2 lambda k)/lambda):
    the criterion margin >= tanh lambda gets 5-13 of these 40 samples wrong; target_is_fixed_point none."""
    N, K = 10, 60
    wrong = 0
    for d in range(40):
        counts = hamming_site_counts(N, K, seed=1, sample=d)
        exact = _exact_stable(_patterns_from_masks(N, hamming_masks(N, K, seed=1, sample=d)), lam)
        assert target_is_fixed_point(counts, lam) == exact
        wrong += (stability_margin(counts, lam) >= math.tanh(lam)) != exact
    assert wrong >= 5


def test_retrieval_stable_fraction_exact_beyond_tanh_one():
    """lambda = 20: tanh lambda rounds to 1; the stable fraction is still the exact one (27/40 here)."""
    N, alpha, lam = 10, 0.4, 20.0
    r = lse_retrieval(N, alpha, lam, samples=40, seed=0)
    K = exponential_load_K(N, alpha)
    exact = [_exact_stable(lse_patterns(N, K, sample=d), lam) for d in range(40)]
    assert r["stable"] == np.mean(exact) == 27 / 40


def test_retrieval_matches_direct_evaluation():
    N, alpha, lam = 12, 0.45, 1.0
    r = lse_retrieval(N, alpha, lam, samples=12, seed=3, point=7, corruption=0.0)
    K = exponential_load_K(N, alpha)
    assert r["K"] == K
    stable, conc = [], []
    for d in range(12):
        ref = LSEDAM(lse_patterns(N, K, seed=3, point=7, sample=d), lam)
        x1 = ref.patterns[:, 0]
        stable.append(ref.is_fixed_point(x1))
        conc.append(ref.weights(x1)[0] > 0.5)
    assert r["stable"] == pytest.approx(np.mean(stable), abs=1e-15)
    assert r["concentrated"] == pytest.approx(np.mean(conc), abs=1e-15)
    # a stable xi^1 is kept by the T = 0 dynamics: success >= stable
    assert r["success"] >= r["stable"] and r["converged"] == 1.0
    assert r["success_err"] == pytest.approx(math.sqrt(r["success"] * (1 - r["success"]) / 12))
    again = lse_retrieval(N, alpha, lam, samples=12, seed=3, point=7)
    assert again == r


def test_sample_batches_give_the_per_sample_numbers():
    """The drivers run the samples' chains side by side, as many as max_bytes holds: the results do not depend
    on the group size, and a sample's chain is the one lse_run gives with its own seed (one call per 2 sweeps)."""
    from montecarlo.modern import PATTERN_TAG, START_TAG, finite_t_retrieval, lse_point_bytes, lse_run
    from montecarlo.rng import seed_sequence
    N, alpha, lam = 30, 0.12, 1.5
    K = exponential_load_K(N, alpha)
    one = lse_point_bytes(N, K)
    kw = dict(samples=5, corruption=0.2, max_sweeps=5, schedule="random", seed=2, point=4)
    ref = lse_retrieval(N, alpha, lam, max_bytes=one, **kw)            # one sample per call
    assert 0.0 < ref["success"] and 1.0 < ref["sweeps_used"] < 5      # chains stop at different sweeps
    for size in (2, 5):
        assert lse_retrieval(N, alpha, lam, max_bytes=size * one, **kw) == ref
    m_fin, used = [], []      # by hand: per sample, lse_run 2 sweeps at a time (point = sweeps done)
    for d in range(5):
        X = lse_patterns(N, K, seed=2, point=4, sample=d)
        s = X[:, 0].copy()
        s[np.random.default_rng(seed_sequence(2, 4, START_TAG, d)).choice(N, 6, replace=False)] *= -1
        chain_seed = int(seed_sequence(2, 4, PATTERN_TAG + 1, d).generate_state(1)[0])
        done = 0
        while done < 5:
            run = lse_run(X, lam, 0.0, s, sweeps=min(2, 5 - done), dynamics="zero", schedule="random",
                          ties="frozen", seed=chain_seed, point=done)
            s, done = run["spins"][0], done + run["m"].shape[1]
            if run["acceptance"][0, -1] == 0.0:
                break
        m_fin.append(run["m"][0, -1])
        used.append(done)
    assert ref["m"] == np.mean(m_fin) and ref["sweeps_used"] == np.mean(used)
    kw = dict(samples=4, sweeps=12, threshold=0.5, dynamics="metropolis", seed=6, point=1)
    ref = finite_t_retrieval(N, alpha, lam, 0.7, max_bytes=one, **kw)
    assert finite_t_retrieval(N, alpha, lam, 0.7, **kw) == ref
    # the same by hand: one lse_run per sample, its patterns, started at xi^1, with its own chain seed
    m_late, acc = [], []
    for d in range(4):
        X = lse_patterns(N, K, seed=6, point=1, sample=d)
        chain_seed = int(seed_sequence(6, 1, PATTERN_TAG + 1, d).generate_state(1)[0])
        run = lse_run(X, lam, 0.7, X[:, 0], sweeps=12, dynamics="metropolis", seed=chain_seed)
        m_late.append(run["m"][0, -3:].mean())
        acc.append(run["acceptance"][0].mean())
    assert ref["m"] == np.mean(m_late) and ref["acceptance"] == np.mean(acc)
    # spherical ensemble: group size 1 against all at once, and by hand (spherical_run per sample)
    from montecarlo.modern import spherical_patterns, spherical_point_bytes, spherical_run
    N, alpha = 20, 0.1
    K = exponential_load_K(N, alpha, max_bytes=2 ** 27)
    kw = dict(ensemble="spherical", dynamics="metropolis", samples=3, sweeps=8, threshold=0.5, seed=4)
    ref = finite_t_retrieval(N, alpha, lam, 0.5, max_bytes=spherical_point_bytes(N, K), **kw)
    assert finite_t_retrieval(N, alpha, lam, 0.5, **kw) == ref
    m_late = []
    for d in range(3):
        X = spherical_patterns(N, K, seed=4, sample=d)
        chain_seed = int(seed_sequence(4, 0, PATTERN_TAG + 1, d).generate_state(1)[0])
        m_late.append(spherical_run(X, lam, 0.5, X[:, 0], steps=8 * N, seed=chain_seed)["phi"][0, -2:].mean())
    assert ref["m"] == np.mean(m_late)


def test_corrupted_start_is_repaired_at_low_load():
    r = lse_retrieval(30, 0.1, 1.0, samples=20, corruption=0.1, seed=1)
    assert r["success"] == 1.0 and r["m"] == 1.0


def test_refusals_before_allocation():
    with pytest.raises(ParameterError) as err:
        lse_retrieval(40, 0.7, 1.0, samples=2)                     # K = e^28
    assert err.value.name == "alpha"
    with pytest.raises(ParameterError):
        lse_retrieval(16, 0.8, 1.0, samples=2, max_bytes=2 ** 20)  # 11 MiB > 1 MiB
    with pytest.raises(ParameterError):
        hamming_site_counts(63, 10)
    with pytest.raises(ParameterError):
        lse_retrieval(12, 0.3, 1.0, samples=2, corruption=0.5)
    from montecarlo.modern import spherical_patterns
    for call in (lambda: lse_patterns(30, 10 ** 10), lambda: spherical_patterns(30, 10 ** 9),
                 lambda: lse_patterns(30, 1000, max_bytes=29_999)):
        with pytest.raises(ParameterError) as err:                  # N K bytes (int8), 8 N K (float64)
            call()
        assert err.value.name == "K"
    assert lse_patterns(30, 1000, max_bytes=30_000).shape == (30, 1000)
    assert spherical_patterns(30, 1000, max_bytes=240_000).shape == (30, 1000)
