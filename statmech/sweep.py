"""Run a study: expand sweeps into pure tasks, run them on local processes, write the store.

A task is a plain dict; :func:`run_task` turns it into ``(sweep, index, values, attrs)``. Theory
tasks solve a block of ``chunk`` values of the sweep's first axis (vectorised over the block and
the other axes, with warm starts inside the block); the block size is fixed by the config, never
by the number of workers, so the numbers do not depend on how many workers ran. The family of the
sweep (:mod:`statmech.models`) supplies the solver, the line tracer and the sampler. Monte Carlo tasks run one grid point; their
random streams are keyed by (study seed, flat point index, chain). One process (the caller) writes
the file, atomically, as results arrive; rerunning on an existing file skips finished points, and
the file's sweeps that are not in the config are kept (a study file accumulates sweeps).
"""
from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import math
import os
import pickle
import shutil
import sys
import time
import tomllib

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
    "d": {"long_name": "dilution d = P(xi = 0)", "units": "1"},
    "P": {"long_name": "interaction order P", "units": "1"},
    "noise": {"long_name": "probability of flipping each input pixel", "units": "1"},
}


class StudyMismatch(ConfigError):
    """The output file holds a sweep made with a different config."""


def _new_result(sweep: dict) -> SweepResult:
    from .models import FAMILIES
    family = FAMILIES[sweep["model"]]
    coords = {d: np.asarray(sweep[d], dtype=np.int64 if d in ("N", "P", "M") else np.float64) for d in sweep["dims"]}
    res = SweepResult(sweep["name"], coords)
    res.attrs = {"model": sweep["model"], "method": sweep["method"], "convention": family.convention,
                 "sweep_config": to_toml(sweep)}
    res.attrs.update({k: sweep[k] for k, p in family.params.items() if not isinstance(sweep[k], list)})
    phases = family.phases() if family.phases else None
    if phases is None:
        from .storage import PHASES as phases
    res.attrs["phase_names"] = ", ".join(f"{k}: {v}" for k, v in sorted(phases.items()))
    for c in res.coords:
        res.var_attrs[c] = dict(COORD_ATTRS.get(c, {"long_name": c}))
    return res


def plan_tasks(config: dict, results: dict) -> list:
    """Every task whose points are not yet done in ``results``."""
    seed = config["study"]["seed"]
    tasks = []
    for sweep in config["sweeps"]:
        res = results[sweep["name"]]
        if sweep["method"] in ("theory", "1rsb"):
            n_first = res.shape[0]
            for start in range(0, n_first, sweep["chunk"]):
                idx = list(range(start, min(start + sweep["chunk"], n_first)))
                if not res.done[idx].all():
                    tasks.append({"kind": "theory", "sweep": sweep, "first_index": idx})
            wanted = set(sweep["boundaries"])
            if wanted and not (wanted <= set(res.boundaries) or (wanted == {"all"} and res.boundaries)):
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
        rsb = sweep["method"] == "1rsb"
        out = (family.solve_1rsb if rsb else family.solve)(sweep, values)
        shape = tuple(len(idx) if d == dims[0] else len(sweep[d]) for d in dims)
        out = {k: np.asarray(v).reshape(shape) for k, v in out.items()}
        info = (family.observables_1rsb if rsb else family.observables)()
        attrs = {k: ({"long_name": info[k]} if k in info else {}) for k in out}
        return sweep["name"], "theory", (idx,), out, attrs
    if task["kind"] == "boundaries":
        curves = dict(family.trace(sweep, sweep["boundaries"]))
        # every requested line is recorded, empty where it does not cross the plane, so that a
        # resumed study does not trace it again
        plane = next((pl for pl in family.planes if set(pl) <= set(sweep["dims"])), family.planes[0])
        for bname in sweep["boundaries"]:
            if bname != "all" and bname not in curves:
                curves[bname] = {a: np.zeros(0) for a in plane}
        return sweep["name"], "boundaries", None, curves, {}
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


def _identity(res: SweepResult, seed: int) -> str:
    """What a sweep's numbers depend on: its resolved config and, for Monte Carlo, the study seed."""
    text = res.attrs.get("sweep_config", "")
    if res.attrs.get("method") == "mc":
        text += f"\nseed = {seed}"
    return hashlib.sha256(text.encode()).hexdigest()


def _same_sweep_config(stored, current) -> bool:
    """Whether a sweep's recorded config (TOML) is the current one. A family parameter the record lacks counts as
    its default, so a file written before that parameter existed resumes where the current config leaves it at
    its default (the numbers then are the same: a new parameter's default keeps the old behaviour)."""
    if stored is None or stored == current:
        return stored == current
    from .models import FAMILIES
    old, new = tomllib.loads(stored), tomllib.loads(current)
    family = FAMILIES.get(new.get("model"))
    if family is None:
        return False
    for key, param in family.params.items():
        if key not in old and key in new and param.default is not None and new[key] == param.default:
            old[key] = param.default
    return old == new


def _load_existing(out, config, overwrite: bool):
    """What to resume from: ``(the file's root attributes or None, {sweep name: SweepResult})``.

    The config's sweeps come from the file where it has them (refused if made with another config,
    or, for Monte Carlo, another seed); the file's other sweeps come along unchanged, after them."""
    results = {s["name"]: _new_result(s) for s in config["sweeps"]}
    if overwrite or not os.path.exists(out):
        return None, results
    try:
        root, existing = read_study(out)
    except StoreError as err:
        raise StudyMismatch("--out", out, f"a statmech study file or a new path; --overwrite replaces it ({err})") \
            from None
    seed = config["study"]["seed"]
    mc = [name for name, res in existing.items() if res.attrs.get("method") == "mc"]
    if mc and root["seed"] != seed:
        raise StudyMismatch("study.seed", seed, f"{root['seed']}, the seed of the Monte Carlo sweeps in {out} "
                            f"({', '.join(mc)}): use another --out, or --overwrite")
    for sweep in config["sweeps"]:
        old = existing.pop(sweep["name"], None)
        if old is None:
            continue
        if not _same_sweep_config(old.attrs.get("sweep_config"), results[sweep["name"]].attrs["sweep_config"]):
            raise StudyMismatch(f"{sweep['name']}", out,
                                "a file made with the same config for this sweep (use another --out, or --overwrite)")
        results[sweep["name"]] = old
    results.update(existing)
    return root, results


def _root_attrs(config, old_root, results) -> dict:
    """The file's root attributes; its recorded config lists every sweep in the file."""
    names = {s["name"] for s in config["sweeps"]}
    carried = [tomllib.loads(r.attrs["sweep_config"]) for n, r in results.items()
               if n not in names and r.attrs.get("sweep_config")]
    recorded = dict(config, sweeps=config["sweeps"] + carried)
    return {"package_version": __version__, "created": (old_root or {}).get("created", now_iso()),
            "config": to_toml(recorded), "seed": config["study"]["seed"], "study": config["study"]["name"]}


class StudyLocked(ConfigError):
    """Another process is writing the same study file."""


def _lock(out):
    """Hold an exclusive lock on ``OUT.lock`` (released by the OS if this process dies; the file is
    removed by :func:`_unlock`)."""
    path = out + ".lock"
    while True:
        try:
            fh = open(path, "a+")
        except OSError as err:
            raise ConfigError("--out", out, f"a writable path ({err.strerror or err})") from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise StudyLocked("--out", out, "a study file no other statmech process is writing "
                              f"(locked: {path})") from None
        # the previous holder may have removed the file between our open and our flock: then we
        # hold a lock on a file no one else can see, so lock the one now at the path instead
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fh.fileno()), os.stat(path)):
                return fh
        fh.close()


def _unlock(fh) -> None:
    """Remove the lock file while still holding the lock (so it is ours), then release it."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(fh.name)
    fh.close()


class Journal:
    """One file per finished task in ``OUT.journal/`` (temporary file + rename: atomic).

    The study file is rewritten from memory every ``flush_interval`` seconds (see
    :func:`run_study`); the journal holds what finished since, so a killed run loses no finished
    task. Resume replays the journal over the study file; a clean end merges it and removes it.
    """

    def __init__(self, out):
        self.dir = out + ".journal"
        os.makedirs(self.dir, exist_ok=True)
        self.count = len(os.listdir(self.dir))

    def add(self, identity: str, outcome) -> None:
        """Record a finished task's outcome with the identity of its sweep (:func:`_identity`)."""
        path = os.path.join(self.dir, f"{os.getpid()}-{self.count:08d}.pkl")
        self.count += 1
        tmp = path + ".tmp"
        with open(tmp, "wb") as fh:
            pickle.dump((identity, outcome), fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def replay(self):
        """``(identity, outcome)`` of every record (identity None: a record without one)."""
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".pkl"):
                with open(os.path.join(self.dir, name), "rb") as fh:
                    record = pickle.load(fh)
                yield record if len(record) == 2 else (None, record)

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


FLUSH_INTERVAL = 2.0   # seconds between rewrites of the study file, at least...
FLUSH_SHARE = 0.05     # ...and long enough that rewriting it takes at most this share of the run


def run_study(config: dict, out, workers: int = 1, progress=None, overwrite: bool = False,
              flush_interval: float | None = None, scheduler: str = "local") -> dict:
    """Run (or resume) a study and write it to ``out``. Returns the in-memory results: the config's
    sweeps, then the file's other sweeps (kept unchanged). ``overwrite``: replace ``out`` (a study
    file or not) and its journal instead of resuming.

    ``workers``: parallel workers (1: in this process); ``scheduler``: see
    :mod:`statmech.executors`. ``progress``: None (a bar only when stderr is a terminal), True or
    False. Every finished task goes to the journal at once and into the study file at most
    ``flush_interval`` seconds later; a second process on the same ``out`` is refused. The default
    (None) is ``FLUSH_INTERVAL`` or ``1 / FLUSH_SHARE`` times the last rewrite's duration, whichever
    is longer: a rewrite costs a few ms per variable (h5netcdf), 0.6 s for the default study's 166
    variables, which every 2 s would be a quarter of the run.
    """
    from .executors import SCHEDULERS, run_tasks
    if workers < 1:
        raise ConfigError("--workers", workers, "--workers >= 1")
    if scheduler not in SCHEDULERS and ":" not in scheduler:
        raise ConfigError("--scheduler", scheduler, "local, processes, dask, slurm, pbs or a dask address host:port")
    out = os.fspath(out)
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise ConfigError("--out", out, "a path in an existing, writable folder")
    if os.path.isdir(out):
        raise ConfigError("--out", out, "a file path, not a folder")
    lock = _lock(out)
    try:
        for stale in glob.glob(glob.escape(out) + ".tmp-*"):   # left by a killed writer
            os.unlink(stale)
        if overwrite:
            shutil.rmtree(out + ".journal", ignore_errors=True)
        old_root, results = _load_existing(out, config, overwrite)
        seed = config["study"]["seed"]
        identity = {name: _identity(res, seed) for name, res in results.items()}
        journal = Journal(out)
        stale = 0
        for ident, outcome in journal.replay():
            if identity.get(outcome[0]) == ident:
                _apply(results, outcome)
            else:
                stale += 1
        if stale:
            print(f"statmech: warning: ignored {stale} record(s) in {journal.dir} made with another config "
                  "or seed (removed at the end of this run)", file=sys.stderr)
        root = _root_attrs(config, old_root, results)
        ordered = list(results.values())
        tasks = plan_tasks(config, results)
        try:
            write_study(out, root, ordered)
        except OSError as err:
            raise ConfigError("--out", out, f"a writable path with free space ({err.strerror or err})") from None
        if tasks:
            try:
                _run(tasks, config, out, root, ordered, results, journal, identity, workers, progress,
                     flush_interval, scheduler, run_tasks)
            except BaseException:
                # interrupted or failed: what finished goes into the file as well (the journal
                # keeps it until a run ends cleanly, also if this rewrite fails)
                with contextlib.suppress(Exception):
                    write_study(out, root, ordered)
                raise
        write_study(out, root, ordered)
        journal.clear()
    finally:
        _unlock(lock)
    return results


def _run(tasks, config, out, root, ordered, results, journal, identity, workers, progress, flush_interval,
         scheduler, run_tasks):
    from tqdm import tqdm
    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    bar = tqdm(total=len(tasks), disable=disable, unit="task", desc=config["study"]["name"])
    last = time.monotonic()
    interval = FLUSH_INTERVAL if flush_interval is None else flush_interval

    def completed(outcome):
        nonlocal last, interval
        journal.add(identity[outcome[0]], outcome)
        _apply(results, outcome)
        bar.update(1)
        if time.monotonic() - last >= interval:
            start = time.monotonic()
            write_study(out, root, ordered)
            last = time.monotonic()
            if flush_interval is None:
                interval = max(FLUSH_INTERVAL, (last - start) / FLUSH_SHARE)

    try:
        run_tasks(tasks, run_task, completed, workers=workers, scheduler=scheduler, cluster=config.get("cluster"))
    finally:
        bar.close()


def missing_points(result: SweepResult) -> int:
    return int(result.done.size - np.count_nonzero(result.done))


def n_points(result: SweepResult) -> int:
    return int(math.prod(result.shape))
