"""Monte Carlo kernel benchmarks (numba CPU backend); see benchmarks/run.py for the record format."""
from __future__ import annotations

import pathlib
import sys

import numpy as np
from numba import njit, prange

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from run import best_time  # noqa: E402

from hopfield.patterns import random_patterns  # noqa: E402
from montecarlo.kernels import private_copy  # noqa: E402
from montecarlo.sampler import ChainBatch  # noqa: E402

N_BIG, K_BIG, T_BIG = 10000, 1000, 1.5
SWEEPS_PER_CALL = 4   # sweep times are per sweep from run(4) calls: a call has a fixed cost of
                      # ~0.1-0.2 ms (Python setup, parallel-region entry) that a study pays once per
                      # point, not once per sweep; the note of each record gives run(1) as well


def _batch(P=2, N=N_BIG, K=K_BIG, T=T_BIG, replicas=1, init="random"):
    xi = random_patterns(N, K, np.random.default_rng(7))
    b = ChainBatch(xi, P, [T], replicas=replicas, init=init, seed=1)
    b.run(1, measure=False)  # compile / warm up
    return b, xi


def _sweep(b):
    """A callable running SWEEPS_PER_CALL sweeps of batch ``b`` (divide its time by SWEEPS_PER_CALL)."""
    return lambda: b.run(SWEEPS_PER_CALL, measure=False)


def _rounds(fns, quick, repeat=3, rounds=None):
    """Times of the callables ``fns`` measured in turn over ``rounds`` rounds (default 9, 21 without
    ``quick``), each the best of ``repeat`` calls: an array (rounds, len(fns))."""
    rounds = rounds or (9 if quick else 21)
    return np.array([[best_time(f, repeat=repeat) for f in fns] for _ in range(rounds)])


def _paired(ours, base, quick, repeat=3):
    """Times of two callables measured alternately over 9 rounds (21 without ``quick``), each the best of
    ``repeat`` calls.
    Returns (ours, base, ratio, spread): the median times, the median of the per-round ratios
    ours/base and their interquartile range (q25, q75), which the records print: the rounds' spread.
    This machine is shared and switches between fast and slow states (about 2x, and not by the same
    factor for every kind of code); a round measures both sides within a few ms, so its ratio is
    taken in one state, and the median over rounds is robust to a state change mid-benchmark, which a
    ratio of separate minima is not."""
    t = _rounds([ours, base], quick, repeat)
    r = t[:, 0] / t[:, 1]
    return (float(np.median(t[:, 0])), float(np.median(t[:, 1])), float(np.median(r)),
            tuple(np.percentile(r, [25, 75])))


def _iqr(spread, fmt=".2f"):
    return f"rounds' IQR [{min(spread):{fmt}}, {max(spread):{fmt}}]"


def mc_sweep_vs_gemv(quick: bool) -> dict:
    b, xi = _batch()
    A = xi.astype(np.float32)
    v = np.random.default_rng(0).standard_normal(K_BIG).astype(np.float32)
    ours, base, ratio, spread = _paired(_sweep(b), lambda: A @ v, quick)
    ours /= SWEEPS_PER_CALL
    ratio /= SWEEPS_PER_CALL
    spread = [x / SWEEPS_PER_CALL for x in spread]
    _, _, one, _ = _paired(lambda: b.run(1, measure=False), _sweep(b), True, repeat=2)
    one *= SWEEPS_PER_CALL
    acc = b.acc_total[0] / (b.sweeps * b.N)
    return {"name": "mc_sweep_vs_gemv", "ratio": ratio, "ours_s": ours, "baseline_s": base,
            "note": f"one P=2 sweep N={N_BIG} K={K_BIG} T={T_BIG} (acceptance {acc:.2f}; per sweep of "
                    f"run({SWEEPS_PER_CALL}), a run(1) call takes {one:.2f}x that) / float32 GEMV (N,K); "
                    f"{_iqr(spread)}; lower is better, target <= 1.5 (stretch 1.2)"}


def _numpy_loop(xi, spins, S, beta, nflips, rng):
    N, K = xi.shape
    for _ in range(nflips):
        i = rng.integers(N)
        row = xi[i]
        s = spins[i]
        dE = (2.0 / N) * (s * np.dot(row, S) - K)
        if rng.random() * (1.0 + np.exp(beta * dE)) < 1.0:
            spins[i] = -s
            S -= 2 * s * row


def mc_vs_numpy_loop(quick: bool) -> dict:
    b, xi = _batch()
    spins = b.spins[0].astype(np.int64)
    S = b.S[0].astype(np.int64)
    xi64 = xi.astype(np.int64)
    rng = np.random.default_rng(0)
    nflips = 200 if quick else 500
    ours, t, ratio, spread = _paired(_sweep(b), lambda: _numpy_loop(xi64, spins, S, 1.0 / T_BIG, nflips, rng),
                                     quick, repeat=2)
    ours /= SWEEPS_PER_CALL
    base = t * N_BIG / nflips
    ratio = N_BIG / nflips * SWEEPS_PER_CALL / ratio
    spread = [N_BIG / nflips * SWEEPS_PER_CALL / x for x in spread]
    return {"name": "mc_vs_numpy_loop", "ratio": ratio, "ours_s": ours, "baseline_s": base,
            "note": f"per-flip numpy loop ({nflips} flips scaled to one sweep) / numba sweep (per sweep of "
                    f"run({SWEEPS_PER_CALL})); {_iqr(spread, '.1f')}; higher is better, target >= 100"}


def mc_dense_vs_pairwise(quick: bool) -> dict:
    b2, _ = _batch(P=2)
    b4, _ = _batch(P=4)
    t4, t2, ratio, spread = _paired(_sweep(b4), _sweep(b2), quick)
    # the same at low acceptance (retrieval state, T = 0.1, started at xi^1), for information
    c2 = _batch(P=2, T=0.1, init="pattern")[0]
    c4 = _batch(P=4, T=0.1, init="pattern")[0]
    _, _, r42, _ = _paired(_sweep(c4), _sweep(c2), True)
    return {"name": "mc_dense_vs_pairwise", "ratio": ratio, "ours_s": t4 / SWEEPS_PER_CALL,
            "baseline_s": t2 / SWEEPS_PER_CALL,
            "note": f"P=4 sweep / P=2 sweep at N={N_BIG} K={K_BIG} T={T_BIG} (about half the flips accepted); "
                    f"in a retrieval state (T=0.1, acceptance < 1%) the ratio is {r42:.2f}; {_iqr(spread)}; "
                    "lower is better, target <= 2"}


@njit(cache=True)
def _l1_dots(row, S, n):
    """``n`` int8 x int16 dot products (int32 products, vectorised by LLVM) of an L1-resident row and
    overlap vector: throughput-bound vector work, no memory traffic, nothing shared between tasks.
    One S entry changes per product so that nothing is hoisted."""
    acc = np.int32(0)
    for r in range(n):
        for k in range(row.size):
            acc += np.int32(row[k]) * np.int32(S[k])
        S[r % S.size] += 1
    return acc


@njit(parallel=True, cache=True)
def _l1_tasks(ntasks, row, S, n):
    out = np.empty(ntasks, dtype=np.int32)
    for t in prange(ntasks):
        out[t] = _l1_dots(row, private_copy(S), n)
    return out


def mc_batched_8(quick: bool) -> dict:
    """8 chains / 1 chain, with the machine's own 8-task / 1-task ratio for perfectly parallel vector
    work (_l1_tasks) measured in the same rounds.

    This machine's two vCPUs are at times two hyperthreads of one physical core: then the reference
    reads about 8 (vector work does not run faster on two threads than on one; latency-bound scalar
    work still scales, so a scalar reference cannot see it) and a single chain runs about 1.3x faster
    (it has the core to itself). The target is stated on 2 cores, so the ratio is the median over the
    rounds in which the reference shows two cores (reference <= 6, between 4 and 8 in log scale); the
    note gives how many rounds that was and the median over the others. NaN when no round had two cores."""
    N, K = 4000, 500
    b1, _ = _batch(N=N, K=K)
    b2, _ = _batch(N=N, K=K, replicas=2)
    b8, _ = _batch(N=N, K=K, replicas=8)
    row = random_patterns(512, 1, np.random.default_rng(3))[:, 0].copy()
    S = np.random.default_rng(4).integers(-500, 500, 512).astype(np.int16)
    _l1_tasks(8, row, S, 10)
    n = max(1, int(best_time(_sweep(b1)) / best_time(lambda: _l1_dots(row, S, 1000)) * 1000))
    t = _rounds([_sweep(b8), _sweep(b1), lambda: _l1_tasks(8, row, S, n), lambda: _l1_dots(row, S, n), _sweep(b2)],
                quick, rounds=25 if quick else 61)
    r = t[:, 0] / t[:, 1]
    ref = t[:, 2] / t[:, 3]
    two = ref <= 6.0
    ratio = float(np.median(r[two])) if two.any() else float("nan")
    other = (f"; in the other {(~two).sum()} rounds (reference median {np.median(ref[~two]):.2f}) 8 chains / "
             f"1 chain {np.median(r[~two]):.2f}" if (~two).any() else "")
    spread = _iqr(tuple(np.percentile(r[two], [25, 75]))) if two.any() else "no round had two cores"
    r2 = np.median((t[:, 4] / t[:, 1])[two]) if two.any() else float("nan")
    return {"name": "mc_batched_8", "ratio": ratio,
            "ours_s": float(np.median(t[two, 0] if two.any() else t[:, 0])) / SWEEPS_PER_CALL,
            "baseline_s": float(np.median(t[two, 1] if two.any() else t[:, 1])) / SWEEPS_PER_CALL,
            "note": f"8 chains sharing patterns / 1 chain, one sweep N={N} K={K}, median over the {two.sum()} of "
                    f"{len(r)} rounds in which perfectly parallel vector work ran 8 tasks / 1 task in <= 6x "
                    f"(reference median {np.median(ref[two]) if two.any() else float('nan'):.2f}; 4 on two "
                    f"idle cores, 8 on one){other}; {spread}; lower is better, target <= 5 on 2 cores. "
                    f"Alongside, in the same rounds: 2 chains / 1 chain {r2:.2f} (perfect: 1)"}


BENCHMARKS = [mc_sweep_vs_gemv, mc_vs_numpy_loop, mc_dense_vs_pairwise, mc_batched_8]
