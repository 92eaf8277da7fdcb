"""Run a study: expand sweeps into pure tasks, run them on local processes, write the store.

A task is a plain dict; :func:`run_task` turns it into ``(sweep, index, values, attrs)``. Theory
tasks solve a block of ``chunk`` values of the sweep's first axis (vectorised over the block and
the other axes, with warm starts inside the block); the block size is fixed by the config, never
by the number of workers, so the numbers do not depend on how many workers ran. The family of the
sweep (:mod:`statmech.models`) supplies the solver, the line tracer and the sampler. Monte Carlo tasks run one grid point; their
random streams are keyed by (study seed, flat point index, chain). One process (the caller) writes
the file, atomically, as results arrive; rerunning on an existing file skips finished points.
"""
from __future__ import annotations

import concurrent.futures as cf
import glob
import math
import multiprocessing
import os
import sys
import time

import numpy as np

from . import __version__
from .config import ConfigError, to_toml
from .store import StoreError, SweepResult, now_iso, read_study, write_study

__all__ = ["run_study", "plan_tasks", "run_task", "StudyMismatch"]

COORD_ATTRS = {
    "alpha": {"long_name": "load alpha = K / N^(P-1)", "units": "1"},
    "T": {"long_name": "temperature T = 1/beta (package convention)", "units": "1"},
    "N": {"long_name": "number of neurons", "units": "1"},
    "rho": {"long_name": "dataset entropy rho = (1 - r^2) / (M r^2)", "units": "1"},
    "r": {"long_name": "example quality r", "units": "1"},
    "M": {"long_name": "examples per archetype", "units": "1"},
}


class StudyMismatch(ConfigError):
    """The output file holds a sweep made with a different config."""


def _new_result(sweep: dict) -> SweepResult:
    from .models import FAMILIES
    family = FAMILIES[sweep["model"]]
    coords = {d: np.asarray(sweep[d], dtype=np.int64 if d == "N" else np.float64) for d in sweep["dims"]}
    res = SweepResult(sweep["name"], coords)
    res.attrs = {"model": sweep["model"], "method": sweep["method"], "convention": family.convention,
                 "sweep_config": to_toml(sweep)}
    res.attrs.update({k: sweep[k] for k, p in family.params.items() if not isinstance(sweep[k], list)})
    for c in res.coords:
        res.var_attrs[c] = dict(COORD_ATTRS.get(c, {"long_name": c}))
    return res


def plan_tasks(config: dict, results: dict) -> list:
    """Every task whose points are not yet done in ``results``."""
    seed = config["study"]["seed"]
    tasks = []
    for sweep in config["sweeps"]:
        res = results[sweep["name"]]
        if sweep["method"] == "theory":
            n_first = res.shape[0]
            for start in range(0, n_first, sweep["chunk"]):
                idx = list(range(start, min(start + sweep["chunk"], n_first)))
                if not res.done[idx].all():
                    tasks.append({"kind": "theory", "sweep": sweep, "first_index": idx})
            wanted = set(sweep["boundaries"])
            if wanted and not wanted <= set(res.boundaries):
                tasks.append({"kind": "boundaries", "sweep": sweep})
        else:
            for flat, index in enumerate(np.ndindex(res.shape)):
                if not res.done[index]:
                    tasks.append({"kind": "mc", "sweep": sweep, "index": index, "point": flat, "seed": seed})
    return tasks


def run_task(task: dict):
    """Run one task (in any process): returns ``(sweep name, kind, index, values, attrs)``."""
    from .models import FAMILIES
    sweep = task["sweep"]
    family = FAMILIES[sweep["model"]]
    if task["kind"] == "theory":
        dims, idx = sweep["dims"], task["first_index"]
        values = {a: np.atleast_1d(np.asarray(sweep[a], dtype=float)) for a in family.axes}
        values[dims[0]] = values[dims[0]][idx]
        out = family.solve(sweep, values)
        shape = tuple(len(idx) if d == dims[0] else len(sweep[d]) for d in dims)
        out = {k: np.asarray(v).reshape(shape) for k, v in out.items()}
        info = family.observables()
        attrs = {k: ({"long_name": info[k]} if k in info else {}) for k in out}
        return sweep["name"], "theory", (idx,), out, attrs
    if task["kind"] == "boundaries":
        return sweep["name"], "boundaries", None, family.trace(sweep, sweep["boundaries"]), {}
    if task["kind"] == "mc":
        from .mc import mc_point
        values, attrs = mc_point(sweep, task["index"], task["point"], task["seed"])
        return sweep["name"], "mc", task["index"], values, attrs
    raise ValueError(f"unknown task kind {task['kind']!r}")


def _apply(results: dict, outcome) -> None:
    name, kind, index, values, attrs = outcome
    res = results[name]
    if kind == "boundaries":
        res.boundaries.update(values)
        for bname in values:
            res.boundary_attrs[bname] = {"long_name": f"{bname} line", "convention": res.attrs["convention"]}
        return
    res.set_points(index, values, attrs)


def _load_existing(out, config, overwrite: bool) -> dict:
    results = {s["name"]: _new_result(s) for s in config["sweeps"]}
    if overwrite or not os.path.exists(out):
        return results
    try:
        _, existing = read_study(out)
    except StoreError as err:
        raise StudyMismatch("--out", os.fspath(out), f"a study file or a new path ({err})") from None
    for sweep in config["sweeps"]:
        old = existing.get(sweep["name"])
        if old is None:
            continue
        if old.attrs.get("sweep_config") != results[sweep["name"]].attrs["sweep_config"]:
            raise StudyMismatch(f"{sweep['name']}", os.fspath(out),
                                "a file made with the same config for this sweep (use another --out, or --overwrite)")
        results[sweep["name"]] = old
    return results


def _init_worker(threads: int) -> None:
    try:
        import numba
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    except Exception:  # numba missing threads layer: keep its default
        pass


def run_study(config: dict, out, workers: int = 1, progress=None, overwrite: bool = False,
              flush_interval: float = 0.5) -> dict:
    """Run (or resume) a study and write it to ``out``. Returns the in-memory results.

    ``progress``: None (a bar only when stderr is a terminal), True or False.
    """
    if workers < 1:
        raise ConfigError("--workers", workers, "--workers >= 1")
    out = os.fspath(out)
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise ConfigError("--out", out, "a path in an existing, writable folder")
    for stale in glob.glob(glob.escape(out) + ".tmp-*"):   # left by a killed writer
        os.unlink(stale)
    results = _load_existing(out, config, overwrite)
    root = {"package_version": __version__, "created": now_iso(), "config": to_toml(config),
            "seed": config["study"]["seed"], "study": config["study"]["name"]}
    if os.path.exists(out) and not overwrite:
        try:
            root["created"] = read_study(out)[0].get("created", root["created"])
        except StoreError:
            pass
    ordered = [results[s["name"]] for s in config["sweeps"]]
    tasks = plan_tasks(config, results)
    write_study(out, root, ordered)
    if not tasks:
        return results

    from tqdm import tqdm
    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    bar = tqdm(total=len(tasks), disable=disable, unit="task", desc=config["study"]["name"])
    last = time.monotonic()

    def completed(outcome):
        nonlocal last
        _apply(results, outcome)
        bar.update(1)
        if time.monotonic() - last >= flush_interval:
            write_study(out, root, ordered)
            last = time.monotonic()

    try:
        if workers == 1:
            for task in tasks:
                completed(run_task(task))
        else:
            threads = max(1, (os.cpu_count() or 1) // workers)
            ctx = multiprocessing.get_context("spawn")
            with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                        initargs=(threads,)) as pool:
                futures = [pool.submit(run_task, t) for t in tasks]
                for fut in cf.as_completed(futures):
                    completed(fut.result())
    finally:
        write_study(out, root, ordered)
        bar.close()
    return results


def missing_points(result: SweepResult) -> int:
    return int(result.done.size - np.count_nonzero(result.done))


def n_points(result: SweepResult) -> int:
    return int(math.prod(result.shape))
