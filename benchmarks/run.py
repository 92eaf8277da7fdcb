"""Performance harness: ``python benchmarks/run.py [--quick] [--json OUT.json] [-k NAME]``.

Every benchmark module ``benchmarks/bench_*.py`` exposes ``BENCHMARKS``, a list of functions
``f(quick: bool) -> dict`` returning one record::

    {"name": str, "ratio": float, "ours_s": float, "baseline_s": float, "note": str}

Each ratio is measured side by side in one run (ours against a baseline of the same size), so
that it means something on a shared machine where absolute times wander. ``note`` says which
way the ratio goes and what the target is.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def best_time(fn, repeat: int = 5, number: int = 1) -> float:
    """Minimum over ``repeat`` runs of the mean time of ``number`` calls of ``fn()`` (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def discover():
    sys.path.insert(0, str(HERE))
    benches = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        benches.extend(getattr(mod, "BENCHMARKS", []))
    return benches


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller repeat counts")
    ap.add_argument("--json", metavar="OUT.json", help="write the records to this file")
    ap.add_argument("-k", metavar="NAME", help="run only benchmarks whose name contains NAME")
    args = ap.parse_args(argv)
    records = []
    for bench in discover():
        if args.k and args.k not in bench.__name__:
            continue
        rec = bench(args.quick)
        records.append(rec)
        print(f"{rec['name']:<24} ratio {rec['ratio']:9.2f}   ours {rec['ours_s']:.4g} s   "
              f"baseline {rec['baseline_s']:.4g} s   {rec['note']}", flush=True)
    if args.json:   # NaN (a skipped record) as null: strict JSON
        clean = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in records]
        pathlib.Path(args.json).write_text(json.dumps(clean, indent=2, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
