"""T = 0 retrieval at exponential load: the O(N K) streaming stability counts against the numpy LSEDAM
reference, lse_retrieval against direct evaluation, refusals before allocation."""
import math

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
