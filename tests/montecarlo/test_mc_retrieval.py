"""Monte Carlo against replica-symmetric theory inside the retrieval region.

RS references: ``statmech.storage.solve_grid`` for P = 2 (checked against the independent AGS solver
in mc_oracles), and the dense RS equations of storage.md (mc_oracles.rs_dense).
The tolerance is 4 standard errors (disorder spread over samples, blocking within chains) plus a
finite-size allowance: RS is the N -> infinity limit and finite networks retrieve slightly worse
(measured deficits: P = 2, N = 2000: ~0.007 at T = 0.4; P = 4, N = 60-100: ~0.004).
"""
import numpy as np
import pytest

from montecarlo import storage_point
from mc_oracles import rs_dense, rs_m_pairwise, rs_pairwise


def _check(r, m_rs, fs, label):
    diff = r["m"] - m_rs
    tol = 4 * r["m_err"] + fs
    assert abs(diff) < tol, f"{label}: MC m = {r['m']:.5f} +- {r['m_err']:.5f} vs RS {m_rs:.5f} (tol {tol:.4f})"
    assert r["abs_m"] >= r["m"] - 1e-12 and 0 <= r["acceptance"] < 0.5


def test_rs_reference_solvers_agree():
    # the independent AGS solver agrees with the lead's (when present) to high precision
    for alpha, T in ((0.05, 0.1), (0.05, 0.4)):
        m, src = rs_m_pairwise(alpha, T)
        assert m == pytest.approx(rs_pairwise(alpha, T)[0], abs=1e-8), src
    # dense RS -> low-storage Curie-Weiss m = tanh(beta 2 m^3) at alpha = 0
    m = rs_dense(4, 0.0, 0.5)[0]
    assert m == pytest.approx(np.tanh(2 * 2 * m ** 3), abs=1e-12)


@pytest.mark.parametrize("T", [0.1, 0.4])
def test_ags_retrieval_N2000(T):
    alpha, N = 0.05, 2000
    r = storage_point(2, N, alpha, T, sweeps=400, replicas=2, samples=3, seed=11, point=int(10 * T))
    m_rs, _ = rs_m_pairwise(alpha, T)
    _check(r, m_rs, 0.015, f"AGS N={N} alpha={alpha} T={T}")
    assert r["q"] > 0.85


@pytest.mark.slow
@pytest.mark.parametrize("T", [0.1, 0.4])
def test_ags_retrieval_N4000_slow(T):
    alpha, N = 0.05, 4000
    r = storage_point(2, N, alpha, T, sweeps=1500, replicas=2, samples=6, seed=12, point=int(10 * T))
    m_rs, _ = rs_m_pairwise(alpha, T)
    _check(r, m_rs, 0.008, f"AGS N={N} alpha={alpha} T={T}")


@pytest.mark.parametrize("alpha,T", [(0.01, 0.5), (0.005, 0.6)])
def test_dense_p4_retrieval_N60(alpha, T):
    N = 60
    r = storage_point(4, N, alpha, T, sweeps=400, replicas=2, samples=4, seed=13)
    _check(r, rs_dense(4, alpha, T)[0], 0.01, f"dense P=4 N={N} alpha={alpha} T={T}")


@pytest.mark.slow
@pytest.mark.parametrize("alpha,T", [(0.01, 0.5), (0.005, 0.6)])
def test_dense_p4_retrieval_N100_slow(alpha, T):
    N = 100
    r = storage_point(4, N, alpha, T, sweeps=1000, replicas=2, samples=6, seed=14)
    _check(r, rs_dense(4, alpha, T)[0], 0.006, f"dense P=4 N={N} alpha={alpha} T={T}")


def test_heating_scan_follows_the_metastable_dense_branch():
    """Heating protocol (montecarlo.md Section 7) on the dense P = 4 network at low load (K = 1): the
    retrieval branch m = tanh(2 beta m^3) is metastable between T_c = 0.7259 and the spinodal 0.99157.
    Chains heated from the pattern stay on it: at T = 0.8 and 0.9 the MC m, extrapolated linearly in
    1/N from N = 2000 and 8000, agrees with the root within 3 standard errors. Fresh random starts at
    0.9, and chains annealed from T = 1.2, stay paramagnetic (m = 0 is locally stable for P >= 3): the
    protocol decides which branch a finite run sees."""
    from scipy.optimize import brentq
    from montecarlo import temperature_scan
    Ts = [0.8, 0.9]
    scans = {N: temperature_scan(4, N, 0.0, Ts, sweeps=700, burn_in=100, replicas=4, seed=1, point=N)
             for N in (2000, 8000)}
    for k, T in enumerate(Ts):
        m_th = brentq(lambda m: m - np.tanh(2 * m ** 3 / T), 0.85, 1.0)
        a, b = scans[2000][k], scans[8000][k]
        assert a["T"] == b["T"] == T and b["protocol"] == "heating" and not b["too_short"]
        m_inf = (8000 * b["m"] - 2000 * a["m"]) / 6000
        err = np.hypot(8000 * b["m_err"], 2000 * a["m_err"]) / 6000
        assert abs(m_inf - m_th) < 3 * err, (T, m_inf, m_th, err)
    annealed = temperature_scan(4, 2000, 0.0, [1.2, 0.9, 0.8], sweeps=200, burn_in=50, init="random", seed=1)
    assert annealed[-1]["protocol"] == "annealing"
    assert all(r["abs_m"] < 0.1 for r in annealed)
    fresh = storage_point(4, 2000, 0.0, 0.9, sweeps=200, burn_in=50, init="random", seed=1)
    assert fresh["abs_m"] < 0.1
    again = temperature_scan(4, 2000, 0.0, Ts, sweeps=700, burn_in=100, replicas=4, seed=1, point=2000)
    assert [r["m"] for r in again] == [r["m"] for r in scans[2000]]           # reproducible
