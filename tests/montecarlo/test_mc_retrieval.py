"""Monte Carlo against replica-symmetric theory inside the retrieval region.

RS references: the lead's ``statmech.storage.solve_grid`` for P = 2 when importable (else the
independent AGS solver in mc_oracles), and the dense RS equations of storage.md (mc_oracles.rs_dense).
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
