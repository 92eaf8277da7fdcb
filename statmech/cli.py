"""Command line: ``statmech run | plot | info | compare``.

Every command is a thin wrapper around a plain Python call (:func:`statmech.sweep.run_study`,
:func:`statmech.plot.plot_study`, :func:`statmech.info.describe`, :func:`statmech.compare.compare`).
Bad input exits with code 2 and one line naming the key, its value and the allowed range; a run
that fails for an outside reason (worker processes that keep dying, a full disk) or is interrupted
exits with one line too, keeping what finished (in the file and in its journal).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from hopfield.validation import ParameterError

from .store import StoreError

DEFAULT_OUT = "statmech-default.h5"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="statmech", description="Phase diagrams of Hebbian and Hopfield networks: "
                                 "replica theory and Monte Carlo, written to HDF5.")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run (or resume) a study")
    run.add_argument("config", nargs="?", help="study config (TOML); default: the embedded default study")
    run.add_argument("--out", help="output HDF5 file (default: <study name>.h5; statmech-default.h5 for the default study)")
    run.add_argument("--workers", type=int, default=1, help="parallel workers (default 1: in this process)")
    run.add_argument("--scheduler", default="local",
                     help="where the points go: local (a process pool, default), dask (a dask LocalCluster), "
                          "slurm, pbs (dask-jobqueue from the config's [cluster] table), or a dask scheduler address")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an existing --out file (also one that is not a study file) and its journal, instead "
                          "of resuming it and keeping its other sweeps")
    run.add_argument("--no-plot", action="store_true", help="do not draw the picture after the run")
    bar = run.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show a progress bar")
    bar.add_argument("--quiet", dest="progress", action="store_false", help="never show a progress bar")
    plot = sub.add_parser("plot", help="draw the phase diagrams of a study file")
    plot.add_argument("file")
    plot.add_argument("--out", help="picture file (.png or .pdf; default: FILE with .png)")
    info = sub.add_parser("info", help="what is in a study file, what is missing, how it was made")
    info.add_argument("file")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.add_argument("--config", action="store_true", help="print the resolved config (TOML) the file was made with")
    cmp_ = sub.add_parser("compare", help="Monte Carlo against replica theory, point by point, with a 1/N extrapolation")
    cmp_.add_argument("file")
    cmp_.add_argument("--json", action="store_true", help="machine-readable output")
    return ap


def _run(args) -> int:
    from .config import load_config
    from .sweep import run_study
    config = load_config(args.config)
    out = args.out or (DEFAULT_OUT if args.config is None else f"{config['study']['name']}.h5")
    if args.workers < 1:
        raise ParameterError("--workers", args.workers, "--workers >= 1")
    t0 = time.perf_counter()
    run_study(config, out, workers=args.workers, progress=args.progress, overwrite=args.overwrite,
              scheduler=args.scheduler)
    elapsed = time.perf_counter() - t0
    print(f"wrote {os.path.abspath(out)} ({elapsed:.1f} s)")
    if not args.no_plot:
        from .plot import plot_study
        picture = plot_study(out)
        print(f"wrote {os.path.abspath(picture)}")
    return 0


def _plot(args) -> int:
    from .plot import plot_study
    picture = plot_study(args.file, args.out)
    print(f"wrote {os.path.abspath(picture)}")
    return 0


def _info(args) -> int:
    from .info import describe, format_text
    summary = describe(args.file)
    if args.config:
        print(summary["config"], end="")
    elif args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_text(summary))
    return 0


def _compare(args) -> int:
    from .compare import compare, format_table
    rows = compare(args.file)
    print(json.dumps(rows, indent=2, allow_nan=False) if args.json else format_table(rows))
    return 0


def main(argv=None) -> int:
    from .executors import WorkersFailed
    args = _parser().parse_args(argv)
    handler = {"run": _run, "plot": _plot, "info": _info, "compare": _compare}[args.command]
    try:
        return handler(args)
    except (ParameterError, StoreError) as err:
        print(f"statmech: error: {err}", file=sys.stderr)
        return 2
    except (WorkersFailed, OSError) as err:
        print(f"statmech: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("statmech: interrupted; finished points are in the file, rerun to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
