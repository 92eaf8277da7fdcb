"""Sweep scaling: the same 64-point Monte Carlo study on 1 and on 2 local workers.

One chain per point (replicas = samples = 1), so a task is single-threaded and the ratio measures
the sweep runner's parallelism, not numba's threads inside a task."""
import tempfile
import time

from statmech.config import parse_config
from statmech.sweep import run_study

STUDY = """
[study]
name = "scaling"
seed = 5
[[sweeps]]
name = "mc"
method = "mc"
P = 2
alpha = [0.02, 0.04, 0.06, 0.08]
T = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
N = [{N}, {N2}]
sweeps = {sweeps}
burn_in = 20
replicas = 1
samples = 1
"""


def _time(config, workers, scheduler):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_study(config, f"{d}/s.h5", workers=workers, scheduler=scheduler, progress=False)
        return time.perf_counter() - t0


def sweep_scaling(quick: bool) -> dict:
    sweeps = 4000 if quick else 8000   # about 20 s serial: tasks long against the workers' start-up
    config = parse_config(STUDY.format(N=1500, N2=2000, sweeps=sweeps))
    _time(parse_config(STUDY.format(N=100, N2=120, sweeps=30)), 1, "local")     # warm the JIT cache
    one = min(_time(config, 1, "local") for _ in range(1 if quick else 2))
    two = min(_time(config, 2, "local") for _ in range(1 if quick else 2))
    return {"name": "sweep_scaling", "ratio": one / two, "ours_s": two, "baseline_s": one,
            "note": "64-point MC study, 1 worker / 2 workers (default local scheduler, worker start-up included); target >= 1.7 on 2 cores"}


BENCHMARKS = [sweep_scaling]
