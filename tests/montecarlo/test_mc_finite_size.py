"""Monte Carlo against replica theory with the finite-size trend: m(N) at several N, fitted as
m_inf + a/N (statmech.compare.extrapolate), must agree with the RS value within 3 standard errors.
Slow (full sizes); the reduced single-size checks are in test_mc_retrieval.py."""
import numpy as np
import pytest

from montecarlo import storage_point
from statmech.compare import extrapolate
from statmech.storage import solve_grid


def _trend(P, alpha, T, Ns, sweeps, samples, seed):
    ms, errs = [], []
    for k, N in enumerate(Ns):
        r = storage_point(P, N, alpha, T, sweeps=sweeps, burn_in=sweeps // 4, replicas=2, samples=samples,
                          seed=seed, point=k)
        ms.append(r["m"])
        errs.append(r["m_err"])
    m_rs = solve_grid(P, np.array([alpha]), np.array([T]))["m_retrieval"][0, 0]
    m_inf, err = extrapolate(Ns, ms, errs)
    return m_rs, m_inf, err, ms, errs


@pytest.mark.slow
@pytest.mark.parametrize("P,alpha,T,Ns,sweeps", [
    (2, 0.05, 0.4, [1000, 2000, 4000], 1000),
    (4, 0.005, 0.6, [80, 110, 140], 1000),
    (4, 0.01, 0.5, [80, 110, 140], 1000),
])
def test_mc_extrapolates_to_rs(P, alpha, T, Ns, sweeps):
    m_rs, m_inf, err, ms, errs = _trend(P, alpha, T, Ns, sweeps, samples=6, seed=21)
    print(f"P={P} alpha={alpha} T={T}: RS {m_rs:.5f}; MC", [f"{m:.5f}({e:.5f})" for m, e in zip(ms, errs)],
          f"-> {m_inf:.5f}({err:.5f})")
    assert abs(m_inf - m_rs) < 3 * err
