"""MC finite-size extrapolation of the typical-pattern threshold alpha_1 (binary LSE DAM, lambda = 1) to
the REM value lambda - ln cosh lambda = 0.5662 (modern.md 3.2, validation target 8)."""
import numpy as np
import pytest

from hopfield.validation import ParameterError
from statmech.modern import binary_alpha_1
from statmech.modern_capacity import mc_alpha_1, success_fractions

A1 = binary_alpha_1(1.0)


def _windows(Ns):
    return {N: np.linspace(A1 - 1.0 / N, A1 + 1.0 / N, 11) for N in Ns}


def test_reduced_extrapolation_to_alpha_1():
    Ns = [12, 14, 16, 18]
    r = mc_alpha_1(Ns, _windows(Ns), 1.0, samples=100, seed=0)
    print([(row["N"], row["alpha_1"], row["alpha_1_err"]) for row in r["sizes"]], r["extrapolations"])
    assert r["alpha_1_theory"] == pytest.approx(0.5662, abs=5e-5)
    assert r["scale"] == "rem"
    assert abs(r["alpha_1_inf"] - A1) < 3 * r["alpha_1_inf_err"]
    assert r["alpha_1_inf_err"] < 0.005
    for row in r["sizes"]:
        assert abs(row["alpha_1"] - A1) < 0.03


def test_rem_gap_is_the_noise_variance_rate():
    """kappa = -(1/N) ln(Var Z / (E Z)^2) at K = e^{alpha_1 N}, from the exact binomial moments of
    Z = sum_mu e^{lambda N m_mu} (one pattern: E e^{lambda N m} = cosh^N lambda, E e^{2 lambda N m} = cosh^N 2 lambda)."""
    from math import comb, exp, log

    from statmech.modern_capacity import rem_gap
    for lam in (0.7, 1.0, 1.5):
        N = 40
        p = [comb(N, k) / 2 ** N for k in range(N + 1)]
        m1 = sum(pk * exp(lam * (N - 2 * k)) for k, pk in enumerate(p))
        m2 = sum(pk * exp(2 * lam * (N - 2 * k)) for k, pk in enumerate(p))
        K = exp(binary_alpha_1(lam) * N)
        rel_var = (m2 - m1 ** 2) / (K * m1 ** 2)
        assert -log(rel_var) / N == pytest.approx(rem_gap(lam), abs=2e-3)


def test_fractions_fall_across_alpha_1():
    f = success_fractions(12, [0.3, A1, 0.8], 1.0, samples=60, seed=1)
    assert f[0] >= 0.85 and f[2] == 0.0 and f[0] > f[1] > f[2]


def test_bad_input():
    with pytest.raises(ParameterError):
        mc_alpha_1([8, 10], [0.4, 0.5, 0.6])
    with pytest.raises(ParameterError):
        success_fractions(10, [0.5, 0.6], 1.0)
    with pytest.raises(ParameterError):
        success_fractions(10, [0.4, 0.5, 0.6], 1.0, criterion="energy")


@pytest.mark.slow
def test_full_extrapolation_to_alpha_1():
    Ns = [10, 12, 14, 16, 18, 20, 22]
    r = mc_alpha_1(Ns, _windows(Ns), 1.0, samples=300, seed=0)
    print([(row["N"], row["alpha_1"], row["alpha_1_err"]) for row in r["sizes"]], r["extrapolations"])
    # Measured (seed 0, before the windows were rounded): alpha_1(N) = 0.5765, 0.5745, 0.5717, 0.5697, 0.5686,
    # 0.5680, 0.5671 (errors 0.0013 .. 0.0004) for N = 10 .. 22, falling towards 0.5662 from above. The REM
    # form alpha_1 + b e^{-kappa N}/N gives 0.5658 +- 0.0004 (chi2 1.9 / 5); a straight line in 1/N
    # undershoots (0.5590 +- 0.0010), as it must when the correction decays faster than 1/N.
    a = np.array([row["alpha_1"] for row in r["sizes"]])
    assert a[-1] < a[0] - 0.005
    rem = r["extrapolations"]["rem"]
    assert abs(rem["alpha_1_inf"] - A1) < 3 * rem["alpha_1_inf_err"] and rem["alpha_1_inf_err"] < 0.001
    assert rem["chi2"] < 3 * rem["dof"]
