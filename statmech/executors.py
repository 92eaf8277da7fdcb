"""Where the tasks of a study run: in this process, a local process pool, or a dask cluster.

Every backend calls ``on_result(outcome)`` in the calling process as tasks finish (in any order),
so the caller stays the single writer. Tasks are pure: a task lost with a dead worker is simply
run again, and the numbers do not depend on where or in which order tasks ran.

Schedulers (``statmech run --scheduler``):
- ``local`` (default): the built-in process pool (``concurrent.futures``, spawn), which restarts
  itself and resubmits the unfinished tasks when a worker dies. (Measured on 2 cores, the 64-point
  study of benchmarks/bench_sweep.py, 26.5 s serial: 14.5 s on this pool, 19.5 s on a dask
  LocalCluster: dask's worker start-up and task overheads cost more than they bring on one machine.)
- ``dask``: a dask LocalCluster with ``workers`` single-threaded worker processes (extra ``cluster``);
- ``slurm`` / ``pbs``: dask-jobqueue from the config's ``[cluster]`` table; workers get a
  ``--lifetime`` shorter than the walltime, so they retire and hand their tasks on before the
  batch system kills them;
- anything else: the address of a running dask scheduler (``tcp://host:8786``).
"""
from __future__ import annotations

import concurrent.futures as cf
import functools
import logging
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool

from hopfield.validation import ParameterError

__all__ = ["run_tasks", "SCHEDULERS", "WorkersFailed"]

SCHEDULERS = ("local", "processes", "dask", "slurm", "pbs")
MAX_POOL_RESTARTS = 3


class WorkersFailed(RuntimeError):
    """The worker processes kept dying: the run stops (what finished is kept)."""


def _set_threads(threads: int) -> None:
    try:
        import numba
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    except Exception:  # no threading layer: keep numba's default
        pass


def _call(fn, threads, task):
    _set_threads(threads)
    return fn(task)


def have_dask() -> bool:
    try:
        import distributed  # noqa: F401
        return True
    except ImportError:
        return False


def run_tasks(tasks, fn, on_result, *, workers=1, scheduler="local", cluster=None) -> str:
    """Run ``fn(task)`` for every task; returns the backend used ("serial", "processes", "dask")."""
    if workers == 1 and scheduler in ("local", "processes"):
        for task in tasks:
            on_result(fn(task))
        return "serial"
    threads = max(1, (os.cpu_count() or 1) // workers)
    if scheduler in ("local", "processes"):
        _process_pool(tasks, fn, on_result, workers, threads)
        return "processes"
    _dask(tasks, fn, on_result, workers, threads, scheduler, cluster)
    return "dask"


def _process_pool(tasks, fn, on_result, workers, threads):
    pending = dict(enumerate(tasks))
    restarts = 0
    ctx = multiprocessing.get_context("spawn")
    while pending:
        pool = cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_set_threads, initargs=(threads,))
        try:
            futures = {pool.submit(fn, task): key for key, task in pending.items()}
            for fut in cf.as_completed(futures):
                outcome = fut.result()
                del pending[futures[fut]]
                on_result(outcome)
        except BrokenProcessPool:
            restarts += 1
            if restarts > MAX_POOL_RESTARTS:
                raise WorkersFailed(f"worker processes died {restarts} times; {len(pending)} tasks unfinished "
                                    "(finished points are kept: rerun to resume)") from None
        finally:
            # not waiting for the workers to exit (0.6 s: interpreter and LLVM teardown); they are
            # joined in the background, and at interpreter exit at the latest
            pool.shutdown(wait=False, cancel_futures=True)


def _dask(tasks, fn, on_result, workers, threads, scheduler, cluster_cfg):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ParameterError("--scheduler", scheduler,
                             "'local' unless dask is installed (pip install 'statmech-hopfield[cluster]')") from None
    cluster = None
    if scheduler == "dask":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    elif scheduler in ("slurm", "pbs"):
        cluster = _jobqueue(scheduler, cluster_cfg)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler)
        except OSError as err:        # unreachable address: distributed gives up after its connect timeout
            raise ParameterError("--scheduler", scheduler, f"the address of a running dask scheduler ({err})") from None
    try:
        futures = client.map(functools.partial(_call, fn, threads), tasks, pure=False)
        for fut in as_completed(futures):
            on_result(fut.result())
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _jobqueue(kind, cfg):
    if not cfg:
        raise ParameterError("cluster", None, f"a [cluster] table in the config for --scheduler {kind}")
    try:
        import dask_jobqueue
    except ImportError:
        raise ParameterError("--scheduler", kind, "'local' or 'processes' unless dask-jobqueue is installed") from None
    cls = dask_jobqueue.SLURMCluster if kind == "slurm" else dask_jobqueue.PBSCluster
    cluster = cls(**jobqueue_kwargs(cfg))
    cluster.scale(jobs=cfg["jobs"])
    return cluster


def jobqueue_kwargs(cfg) -> dict:
    """dask-jobqueue cluster arguments from a resolved [cluster] table (``queue`` and ``account``
    only where set: else the batch system's default queue and account)."""
    extra = ["--lifetime", cfg["lifetime"], "--lifetime-stagger", "2m", "--lifetime-restart"]
    kwargs = dict(cores=cfg["cores"], processes=cfg["cores"], memory=cfg["memory"], walltime=cfg["walltime"],
                  worker_extra_args=extra)
    for key in ("queue", "account"):
        if cfg.get(key):
            kwargs[key] = cfg[key]
    return kwargs
