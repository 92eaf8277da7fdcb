"""T = 0 critical load from Monte Carlo: the fit machinery on synthetic data, the finite-size trend
of the pairwise Hebbian network towards the replica value alpha_c = 0.1379."""
import numpy as np
import pytest

from hopfield.validation import ParameterError
from statmech.capacity import extrapolate_threshold, fit_threshold, mc_capacity, success_fractions


def test_logistic_fit_recovers_known_threshold():
    rng = np.random.default_rng(0)
    alphas = np.linspace(0.10, 0.20, 11)
    true_ac, width, n = 0.147, 0.008, 400
    frac = rng.binomial(n, 1 / (1 + np.exp((alphas - true_ac) / width))) / n
    ac, err, w = fit_threshold(alphas, frac, n)
    assert abs(ac - true_ac) < 4 * err and err < 0.002
    assert abs(w - width) < 0.003


def test_extrapolation_exact_on_linear_data():
    Ns = np.array([500, 1000, 2000, 4000])
    a_inf, err, slope, chi2 = extrapolate_threshold(Ns, 0.138 + 5.0 / Ns, np.full(4, 1e-3), "1/N")
    assert a_inf == pytest.approx(0.138, abs=1e-12) and slope == pytest.approx(5.0) and chi2 < 1e-20
    a_inf, *_ = extrapolate_threshold(Ns, 0.138 + 0.7 / np.sqrt(Ns), np.full(4, 1e-3), "1/sqrt(N)")
    assert a_inf == pytest.approx(0.138, abs=1e-12)
    with pytest.raises(ParameterError, match="scale"):
        extrapolate_threshold(Ns, Ns * 0.0, Ns * 0 + 1.0, "log")


def test_retrieval_holds_below_and_fails_above_capacity():
    frac, m = success_fractions(2, 400, [0.06, 0.30], samples=12, seed=5)
    assert frac[0] == 1.0 and m[0] > 0.97          # deep in retrieval: every sample stays at xi^1
    assert frac[1] == 0.0 and m[1] < 0.6           # twice alpha_c: every sample leaves it


def test_bad_loads_rejected():
    with pytest.raises(ParameterError, match="alphas"):
        success_fractions(2, 100, [-0.1, 0.1])


@pytest.mark.slow
def test_pairwise_capacity_extrapolates_to_replica_value():
    out = mc_capacity(2, [500, 1000, 2000, 4000], np.linspace(0.11, 0.20, 10), samples=32, seed=1,
                      max_sweeps=200, scale="1/sqrt(N)")
    acs = [r["alpha_c"] for r in out["sizes"]]
    assert all(a > b for a, b in zip(acs, acs[1:]))                    # finite-size trend: decreasing
    assert abs(out["alpha_c_inf"] - 0.1379) < 3 * out["alpha_c_inf_err"] + 0.004


def test_threshold_outside_the_window_is_not_a_number():
    """Fractions that never cross 1/2 put the threshold outside the load window: NaN, not an extrapolated
    logistic; mc_capacity leaves such sizes out and says converged = False."""
    a = [0.02, 0.03, 0.04]
    assert all(np.isnan(fit_threshold(a, [1.0, 1.0, 1.0], 8)))
    assert all(np.isnan(fit_threshold(a, [0.0, 0.0, 0.0], 8)))
    out = mc_capacity(2, [100, 200], a, samples=4, seed=1)       # far below alpha_c: every sample succeeds
    assert out["converged"] is False and "alpha_c_inf" not in out
    assert all(np.isnan(r["alpha_c"]) for r in out["sizes"])


@pytest.mark.parametrize("call, name", [
    (lambda: success_fractions(2, 100, [0.5, 2.0], max_sweeps=0), "max_sweeps"),
    (lambda: success_fractions(2, 100, [np.inf]), "alphas"),
    (lambda: success_fractions(2, 100, [np.nan]), "alphas"),
    (lambda: fit_threshold([0.1, 0.2, 0.3], [1.0, 0.5, 0.0], 0), "samples"),
    (lambda: fit_threshold([0.1, 0.2, 0.3], [1.0, 0.5], 8), "fractions"),
    (lambda: mc_capacity(2, [10 ** 6], [0.1, 0.2, 0.3], scale="1/n"), "scale"),   # before any simulation
    (lambda: mc_capacity(2, [1], [0.1, 0.2, 0.3]), "N"),
])
def test_bad_controls_rejected_before_work(call, name):
    with pytest.raises(ParameterError, match=name):
        call()
