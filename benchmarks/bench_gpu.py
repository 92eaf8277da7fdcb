"""GPU backend throughput (montecarlo.gpu); see benchmarks/run.py for the record format.

gpu_throughput: one sweep of 1024 chains, N = 10000, K = 1000 (P = 2, heat bath, T = 1.5) on the GPU,
in spin-pattern-replica updates per second (N K chains / time; target >= 1e12 on one H100), and the ratio
to the CPU backend running the same chains on this machine (CPU time per chain-sweep measured on 4 chains
per numba thread and scaled; the note gives the thread count). The GPU time is per sweep of run(3) calls
with measure=False: it includes the launch and the copy of the chains' state back to the host once per
call. Without a GPU the record says so (ratio NaN) instead of guessing.
"""
from __future__ import annotations

import math
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from run import best_time  # noqa: E402

from hopfield.patterns import random_patterns  # noqa: E402
from montecarlo.gpu import available  # noqa: E402
from montecarlo.sampler import ChainBatch  # noqa: E402

N, K, CHAINS, T = 10000, 1000, 1024, 1.5


def gpu_throughput(quick: bool) -> dict:
    ok, why = available()
    if not ok or "simulator" in why:
        return {"name": "gpu_throughput", "ratio": math.nan, "ours_s": math.nan, "baseline_s": math.nan,
                "note": f"skipped: {why}"}
    xi = random_patterns(N, K, np.random.default_rng(7))
    g = ChainBatch(xi, 2, [T], replicas=CHAINS, init="random", seed=1, backend="gpu")
    g.run(1, measure=False)  # compile, warm up
    ours = best_time(lambda: g.run(3, measure=False), repeat=3 if quick else 5) / 3
    import numba
    threads = numba.get_num_threads()
    c = ChainBatch(xi, 2, [T], replicas=4 * threads, init="random", seed=1)
    c.run(1, measure=False)
    cpu = best_time(lambda: c.run(1, measure=False), repeat=3) * CHAINS / (4 * threads)
    rate = N * K * CHAINS / ours
    return {"name": "gpu_throughput", "ratio": cpu / ours, "ours_s": ours, "baseline_s": cpu,
            "note": f"{rate:.3g} spin-pattern-replica updates/s ({why}); ratio = CPU backend ({threads} numba "
                    f"threads) / GPU for {CHAINS} chains N={N} K={K}; target >= 1e12 updates/s (stretch 2e12)"}


BENCHMARKS = [gpu_throughput]
