"""Sweep scaling: the same 64-point Monte Carlo study on 1 and on 2 local workers.

One chain per point (replicas = samples = 1), so a task is single-threaded and the ratio measures
the sweep runner's parallelism, not numba's threads inside a task. One worker runs in this process;
two workers are a spawned process pool, whose start-up (interpreter, imports, loading the JIT cache:
about 1.2 s on 2 cores) is a fixed cost inside the 2-worker time. The study is sized at about 30 s
serial (0.45 s a point, still short for a research study), so that the ratio measures the runner
more than that start-up; the record also gives the start-up, measured as what 2 workers add to the
same study at almost no work per point."""
import statistics
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


def _time(config, workers, scheduler="local"):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_study(config, f"{d}/s.h5", workers=workers, scheduler=scheduler, progress=False)
        return time.perf_counter() - t0


def sweep_scaling(quick: bool) -> dict:
    config = parse_config(STUDY.format(N=1500, N2=2000, sweeps=8000))
    tiny = parse_config(STUDY.format(N=100, N2=120, sweeps=30))
    _time(tiny, 1)                                    # warm the JIT cache (and this process)
    startup = _time(tiny, 2) - _time(tiny, 1)        # what a 2-worker pool adds to a study of ~0 work
    rounds = [(_time(config, 1), _time(config, 2)) for _ in range(1 if quick else 3)]   # side by side
    one, two = (statistics.median(t) for t in zip(*rounds))
    ratio = statistics.median(a / b for a, b in rounds)
    return {"name": "sweep_scaling", "ratio": ratio, "ours_s": two, "baseline_s": one,
            "note": f"64-point MC study of {one:.0f} s serial, 1 worker / 2 workers (default local scheduler; "
                    f"the 2-worker time includes the pool's start-up, {startup:.1f} s on a study of almost "
                    "no work); target >= 1.7 on 2 cores"}


BENCHMARKS = [sweep_scaling]
