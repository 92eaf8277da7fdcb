"""What is in a study file, what is missing, and how it was made."""
from __future__ import annotations

import numpy as np

from .store import read_study

__all__ = ["describe", "format_text"]


def describe(path) -> dict:
    """A JSON-ready summary of a study file."""
    root, sweeps = read_study(path)
    out = {"file": str(path), "study": root.get("study"), "package_version": root.get("package_version"),
           "created": root.get("created"), "seed": root.get("seed"), "config": root.get("config", ""),
           "sweeps": []}
    for name, res in sweeps.items():
        done = int(np.count_nonzero(res.done))
        missing = [dict(zip(res.dims, (res.coords[d][i].item() for d, i in zip(res.dims, idx))))
                   for idx in zip(*np.nonzero(~res.done))]
        out["sweeps"].append({
            "name": name, "model": res.attrs.get("model"), "method": res.attrs.get("method"),
            "P": res.attrs.get("P"), "dims": {d: len(v) for d, v in res.coords.items()},
            "ranges": {d: [float(np.min(v)), float(np.max(v))] for d, v in res.coords.items()},
            "points_done": done, "points_total": int(res.done.size),
            "missing": missing[:20], "n_missing": len(missing),
            "not_converged": _not_converged(res),
            "unresolved": _unresolved(res),
            "observables": sorted(res.data),
            "boundaries": {b: int(len(next(iter(c.values()), []))) for b, c in res.boundaries.items()},
        })
    return out


def _not_converged(res) -> int:
    count = 0
    for key, arr in res.data.items():
        if key.startswith("converged_") and "exists_" + key[len("converged_"):] in res.data:
            exists = res.data["exists_" + key[len("converged_"):]].astype(bool)
            count += int(np.count_nonzero(res.done & exists & ~arr.astype(bool)))
    return count


def _unresolved(res) -> int:
    """Computed points whose phase is the "unresolved" code (the solver found no thermodynamic
    state: storage.UNRESOLVED = -1, multitasking 7; read from the sweep's phase_names)."""
    codes = [int(k) for k, v in (item.split(": ", 1) for item in res.attrs.get("phase_names", "").split(", ")
                                 if ": " in item) if v == "unresolved"]
    if not codes or "phase" not in res.data:
        return 0
    return int(np.count_nonzero(res.done & np.isin(res.data["phase"], codes)))


def format_text(summary: dict) -> str:
    lines = [f"study {summary['study']!r} in {summary['file']}",
             f"  made by statmech {summary['package_version']} on {summary['created']}, seed {summary['seed']}"]
    for s in summary["sweeps"]:
        dims = " x ".join(f"{d}[{n}] {lo:g}..{hi:g}" for (d, n), (lo, hi) in zip(s["dims"].items(), s["ranges"].values()))
        state = "complete" if s["n_missing"] == 0 else f"{s['n_missing']} missing"
        order = f" P={s['P']}" if s["P"] is not None else ""
        lines.append(f"  sweep {s['name']}: {s['model']}{order} ({s['method']}), {dims}: "
                     f"{s['points_done']}/{s['points_total']} points, {state}")
        if s["not_converged"]:
            lines.append(f"    {s['not_converged']} existing branch solutions did not converge (flagged in converged_*)")
        if s.get("unresolved"):
            lines.append(f"    {s['unresolved']} points unresolved: the solver found no thermodynamic state "
                         "(phase = unresolved, m/q/f NaN)")
        if s["boundaries"]:
            lines.append("    boundaries: " + ", ".join(f"{b} ({n} points)" for b, n in s["boundaries"].items()))
        for m in s["missing"][:5]:
            lines.append("    missing: " + ", ".join(f"{k}={v:g}" for k, v in m.items()))
        lines.append("    observables: " + ", ".join(s["observables"]))
    lines.append("  config: `statmech info --config FILE` prints it")
    return "\n".join(lines)
