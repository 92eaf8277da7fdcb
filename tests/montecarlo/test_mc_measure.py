"""Blocking errors, tau_int and burn-in detection on series with known statistics."""
import numpy as np
import pytest

from hopfield import ParameterError
from montecarlo import blocking_error, detect_burn_in, summarize_series, tau_int


def ar1(phi, n, seed):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1 - phi ** 2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_tau_and_blocking_on_ar1(phi):
    n = 1 << 16
    x = ar1(phi, n, seed=int(10 * phi))
    tau_true = (1 + phi) / (2 * (1 - phi))
    tau, W = tau_int(x)
    assert tau == pytest.approx(tau_true, rel=0.15)
    mean, err, plateau = blocking_error(x)
    err_true = np.sqrt(2 * tau_true / (1 - phi ** 2) / n)
    assert plateau
    assert err == pytest.approx(err_true, rel=0.25)
    s = summarize_series(x)
    assert s["n"] == n and s["mean"] == pytest.approx(mean)


def test_blocking_flags_short_runs():
    x = ar1(0.995, 400, seed=1)  # tau ~ 200 >> run / 16
    mean, err, plateau = blocking_error(x)
    assert not plateau
    assert tau_int(x)[0] > 10


def test_burn_in_detection():
    rng = np.random.default_rng(3)
    t = np.arange(4000)
    x = 3.0 * np.exp(-t / 60.0) + 0.1 * rng.standard_normal(t.size)
    b = detect_burn_in(x)
    assert 150 <= b <= 800
    assert detect_burn_in(0.1 * rng.standard_normal(4000)) <= 400


def test_constant_series():
    assert tau_int(np.ones(100)) == (0.5, 0)
    mean, err, _ = blocking_error(np.ones(100))
    assert mean == 1.0 and err == 0.0


def test_bad_series():
    with pytest.raises(ParameterError):
        tau_int(np.ones((3, 3)))
    with pytest.raises(ParameterError):
        blocking_error([1.0, np.nan])


def test_overlap_helpers_match_batch():
    from hopfield import random_patterns
    from montecarlo import ChainBatch, mattis_overlaps, replica_overlap
    xi = random_patterns(50, 4, 1)
    b = ChainBatch(xi, 2, [0.8], replicas=2, seed=1, init="random")
    ser = b.run(3)
    assert np.allclose(mattis_overlaps(b.spins, xi), b.overlaps())
    assert replica_overlap(b.spins[0], b.spins[1]) == ser["q"][0, 0, -1]
    assert mattis_overlaps(b.spins[1], xi)[0] == ser["m"][1, 0, -1]
    with pytest.raises(ParameterError):
        replica_overlap(b.spins[0], b.spins[1][:10])


def _ar1_batch(tau, n, count, seed):
    """``count`` stationary AR(1) series x_t = phi x_{t-1} + e_t with integrated autocorrelation time tau."""
    from scipy.signal import lfilter
    phi = (2 * tau - 1) / (2 * tau + 1)           # tau_int = (1 + phi) / (2 (1 - phi))
    e = np.random.default_rng(seed).standard_normal((count, n))
    e[:, 0] /= np.sqrt(1 - phi ** 2)
    return lfilter([1.0], [1.0, -phi], e, axis=1), np.sqrt(2 * tau / (1 - phi ** 2) / n)


def test_error_bars_unbiased_at_400_tau_and_short_runs_flagged():
    """At n = 400 tau the reported error has median within 5% of the exact sqrt(2 tau Var(x) / n)
    (blocking alone: about 0.93 there, 0.84 at 160 tau); at n = 40 tau, where every estimate is biased
    low by 15-30%, the series is flagged too_short."""
    tau = 10.0
    X, true = _ar1_batch(tau, int(400 * tau), 300, seed=11)
    s = [summarize_series(x) for x in X]
    assert 0.95 <= np.median([v["err"] / true for v in s]) <= 1.05
    assert all(v["err"] >= v["err_blocking"] and v["err"] >= v["err_tau"] for v in s)
    assert np.mean([v["too_short"] for v in s]) <= 0.02
    X, true = _ar1_batch(tau, int(40 * tau), 300, seed=12)
    assert np.mean([summarize_series(x)["too_short"] for x in X]) >= 0.85
