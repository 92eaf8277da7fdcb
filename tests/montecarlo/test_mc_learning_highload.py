"""Monte Carlo of learning networks against the RS theory at high load, K = alpha N^(P-1) (learning.md
3.2-3.5; statmech.learning.solve_grid with the exact binomial average at the simulated M).

Retrieval side: m, n, q at several N, fitted as m_inf + a/N (statmech.compare.extrapolate, as in
test_mc_finite_size.py), must agree with the RS retrieval branch within 3 standard errors (errors: spread
over disorder samples). Other side of the retrieval boundary (no RS retrieval solution): the retrieval
state started from the archetype is lost. Reduced sizes by default, the full sizes under ``slow``.
"""
import numpy as np
import pytest

from montecarlo.learning import learning_point
from statmech.compare import extrapolate
from statmech.learning import solve_grid


def rs(setting, P, alpha, rho, T, M):
    o = solve_grid(setting, P, alpha=[alpha], rho=[rho], T=[T], M=M, average="binomial")
    exists = bool(o["exists_retrieval"].ravel()[0])
    return exists, {k: float(o[f"{k}_retrieval"].ravel()[0]) for k in ("m", "n", "q")}


def trend(setting, P, alpha, rho, T, M, Ns, sweeps, samples, seed=5):
    per = {k: ([], []) for k in ("m", "n", "q")}
    for k, N in enumerate(Ns):
        out = learning_point(setting, P, N, T, M=M, rho=rho, alpha=alpha, sweeps=sweeps, burn_in=sweeps // 4,
                             replicas=2, samples=samples, seed=seed, point=k)
        for key in per:
            per[key][0].append(out[key])
            per[key][1].append(out[key + "_err"])
    return {key: (vals, errs, *extrapolate(Ns, vals, errs)) for key, (vals, errs) in per.items()}


def check_retrieval(setting, P, alpha, rho, T, M, Ns, sweeps, samples, keys=("m", "n", "q")):
    exists, th = rs(setting, P, alpha, rho, T, M)
    assert exists
    res = trend(setting, P, alpha, rho, T, M, Ns, sweeps, samples)
    for key in keys:
        vals, errs, inf, err = res[key]
        print(f"{setting} P={P} alpha={alpha} rho={rho} T={T} {key}: RS {th[key]:.5f}; MC",
              " ".join(f"N={N}:{v:.5f}({e:.5f})" for N, v, e in zip(Ns, vals, errs)),
              f"-> {inf:.5f}({err:.5f}) z={(inf - th[key]) / err:+.2f}")
        assert abs(inf - th[key]) < 3 * err, (key, inf, err, th[key])
    return res, th


def test_p2_supervised_high_load_reduced():
    """P = 2 (AGS type with the reaction term), alpha = 0.05, rho = 0.05, M = 20: retrieval at T = 0.25
    (RS m = 0.97744), lost at T = 0.55 above the RS retrieval spinodal (T_sp ~ 0.44)."""
    check_retrieval("supervised", 2, 0.05, 0.05, 0.25, 20, [500, 1000, 2000], 300, 6, keys=("m", "n"))
    exists, _ = rs("supervised", 2, 0.05, 0.05, 0.55, 20)
    assert not exists
    out = learning_point("supervised", 2, 1000, 0.55, M=20, rho=0.05, alpha=0.05, sweeps=200, burn_in=100,
                         replicas=1, samples=2, seed=5)
    assert out["m"] < 0.3


RETRIEVAL_CASES = [
    # setting, P, alpha, rho, T, M, Ns, sweeps, samples
    ("supervised", 2, 0.05, 0.05, 0.25, 20, [1000, 2000, 4000], 400, 12),
    ("supervised", 2, 0.05, 0.1, 0.15, 20, [2000, 3000, 4000], 400, 12),
    ("unsupervised", 2, 0.05, 0.05, 0.25, 20, [1000, 2000, 4000], 300, 8),
    ("supervised", 4, 0.002, 0.1, 0.4, 10, [80, 120, 160], 300, 8),
]


@pytest.mark.slow
@pytest.mark.parametrize("setting,P,alpha,rho,T,M,Ns,sweeps,samples", RETRIEVAL_CASES)
def test_high_load_retrieval_extrapolates_to_rs(setting, P, alpha, rho, T, M, Ns, sweeps, samples):
    check_retrieval(setting, P, alpha, rho, T, M, Ns, sweeps, samples)


@pytest.mark.slow
def test_p4_supervised_above_the_retrieval_line_is_paramagnetic():
    """P = 4, alpha = 0.002, rho = 0.1: no RS retrieval at T = 0.9 (paramagnet); from the archetype the
    overlap decays to the O(N^(-1/2)) paramagnetic level: N <m^2> stays O(1) as N grows."""
    exists, _ = rs("supervised", 4, 0.002, 0.1, 0.9, 10)
    assert not exists
    for k, N in enumerate([80, 120, 160]):
        out = learning_point("supervised", 4, N, 0.9, M=10, rho=0.1, alpha=0.002, sweeps=300, burn_in=100,
                             replicas=2, samples=4, seed=6, point=k)
        print(N, out["m"], out["abs_m"], out["q"])
        assert out["abs_m"] < 3.0 / np.sqrt(N) and abs(out["q"]) < 3.0 / np.sqrt(N)


@pytest.mark.slow
def test_p2_supervised_above_the_retrieval_line_with_tempering():
    """P = 2, alpha = 0.05, rho = 0.05, T = 0.55 (spin-glass side of the retrieval line). Started from the
    archetype without tempering the chains keep m ~ 0.1 (slow glassy relaxation); with parallel tempering
    (10 temperatures up to 1.6, across T_g = 1 + sqrt(alpha)) the overlap is at the non-condensed level:
    N <|m|>^2 (4.7, 7.9, 14.0 at N = 250, 500, 1000) of the order of the AGS amplification
    p = q / (1 - beta (1 - q))^2 = 14.9 of the RS spin-glass state, far below the m^2 ~ 0.8 of retrieval."""
    o = solve_grid("supervised", 2, alpha=[0.05], rho=[0.05], T=[0.55], M=20, average="binomial")
    assert not o["exists_retrieval"].ravel()[0]
    p_sg = float(o["p_spin_glass"].ravel()[0])
    Ns = [250, 500, 1000]
    m2 = []
    for k, N in enumerate(Ns):
        out = learning_point("supervised", 2, N, 0.55, M=20, rho=0.05, alpha=0.05, sweeps=1000, burn_in=250,
                             replicas=2, samples=4, seed=5, point=k, tempering=True,
                             ladder=np.geomspace(0.55, 1.6, 10))
        assert np.all(out["swap_rates"] > 0.02)
        m2.append(out["abs_m"] ** 2)
        print(N, out["m"], out["abs_m"], N * out["abs_m"] ** 2, p_sg, out["swap_rates"])
    assert all(x < 0.05 for x in m2)
    assert Ns[-1] * m2[-1] < 3 * p_sg
