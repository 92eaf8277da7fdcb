"""Monte Carlo against replica theory, point by point, with a finite-size extrapolation.

For every grid point (all axes but N) of a Monte Carlo sweep: the RS value ``m_rs``, the simulated m(N) with error
bars (at a multitasking point whose theory state has tied amplitudes, the mean amplitude ``m_mean`` instead of
the sorted largest one: row key ``observable``), and a weighted least-squares fit m(N) = m_inf + a/N (two or more sizes), giving m_inf with
its error and the z-score (m_inf - m_rs)/err. The 1/N form is the finite-size correction of a
replica-symmetric state, so a sweep without an RS value (the exponential-load modern memory, whose
finite-size form is not 1/N) gets no extrapolation. Values that do not exist are None (JSON null): m_inf
without theory, the z-score where the error is 0 or unknown, m_inf_err where a fit has no error bars.
"""
from __future__ import annotations

import numpy as np

from .store import read_study

__all__ = ["compare", "extrapolate", "format_table"]

ROW_KEYS = {"sweep", "observable", "m_rs", "N", "m", "m_err", "m_inf", "m_inf_err", "z"}


def extrapolate(N, m, err):
    """Weighted fit m = m_inf + a / N; returns (m_inf, m_inf_err). One size: (m, err). Where some
    error is not a positive number, an unweighted fit with m_inf_err = NaN (no error bar to weight with)."""
    N, m, err = (np.asarray(x, dtype=float) for x in (N, m, err))
    if len(N) == 1:
        return float(m[0]), float(err[0])
    X = np.stack([np.ones_like(N), 1.0 / N], axis=1)
    if not np.all(np.isfinite(err) & (err > 0)):
        return float(np.linalg.lstsq(X, m, rcond=None)[0][0]), float("nan")
    w = 1.0 / err ** 2
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    coef = cov @ (X.T @ (w * m))
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


def compare(path) -> list:
    """One row per grid point (all axes but N) of every Monte Carlo sweep in the file."""
    _, sweeps = read_study(path)
    rows = []
    for res in sweeps.values():
        if res.attrs.get("method") != "mc" or "m" not in res.data or "N" not in res.coords:
            continue
        Ns = res.coords["N"]
        others = res.dims[1:]
        for rest in np.ndindex(res.shape[1:]):
            sel = (slice(None),) + rest
            ok = res.done[sel]
            if not ok.any():
                continue
            key = "m_mean" if _tied_amplitudes(res.data, sel, ok) else "m"
            m = res.data[key][sel][ok]
            err = res.data[key + "_err"][sel][ok]
            m_rs = float(np.nanmax(res.data[key + "_rs"][sel][ok])) if key + "_rs" in res.data else float("nan")
            m_inf, m_inf_err = extrapolate(Ns[ok], m, err) if np.isfinite(m_rs) else (float("nan"), float("nan"))
            row = {"sweep": res.name, "observable": key}
            row.update({d: float(res.coords[d][i]) for d, i in zip(others, rest)})
            z = (m_inf - m_rs) / m_inf_err if m_inf_err > 0 else float("nan")
            row.update({"m_rs": m_rs, "N": [int(n) for n in Ns[ok]], "m": m.tolist(), "m_err": err.tolist(),
                        "m_inf": m_inf, "m_inf_err": m_inf_err, "z": z})
            rows.append(_finite_or_none(row))
    return rows


def _tied_amplitudes(data, sel, ok, tol=1e-6):
    """True where the theory state of a multitasking point has its two largest amplitudes tied (the symmetric,
    parallel states): there the largest sorted MC amplitude m = m1 is biased upwards by the sorting (by about the
    chain-to-chain noise), and the mean amplitude m_mean is the observable to compare (m_mean_rs beside it)."""
    if not {"m1_rs", "m2_rs", "m_mean", "m_mean_err", "m_mean_rs"} <= set(data):
        return False
    m1, m2 = data["m1_rs"][sel][ok], data["m2_rs"][sel][ok]
    return bool(np.all(np.isfinite(m1) & (m1 > 0) & (np.abs(m1 - m2) < tol)))


def _finite_or_none(value):
    """NaN and infinities (in nested lists and dicts) as None: valid JSON, and no made-up numbers."""
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def format_table(rows) -> str:
    if not rows:
        return "no Monte Carlo points in this file"
    def num(x, fmt=".4f"):
        return "n/a" if x is None else format(x, fmt)

    lines = []
    for r in rows:
        sizes = "  ".join(f"N={n}: {num(m)}({num(e)})" for n, m, e in zip(r["N"], r["m"], r["m_err"]))
        where = " ".join(f"{k}={v:g}" for k, v in r.items() if k not in ROW_KEYS)
        lines.append(f"{r['sweep']}  {where}  RS {r.get('observable', 'm')}={num(r['m_rs'])}  {sizes}  "
                     f"N->inf: {num(r['m_inf'])}({num(r['m_inf_err'])})  z={num(r['z'], '+.2f')}")
    return "\n".join(lines)
