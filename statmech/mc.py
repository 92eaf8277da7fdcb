"""Monte Carlo grid points for the sweeps: one pure task per (N, alpha, T).

Runs :func:`montecarlo.storage_point` and records, beside the simulated observables, the
replica-symmetric prediction at the same point (``m_rs``: the retrieval branch where it exists,
else the global minimum), so that files carry their own theory-versus-simulation comparison.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mc_point", "MC_INFO"]

MC_INFO = {
    "m": "Mattis overlap with the condensed pattern xi^1 (mean over chains and samples)",
    "m_err": "error of m (blocking within chains, spread across disorder samples)",
    "abs_m": "mean |m|",
    "E": "energy per neuron E/N",
    "E_err": "error of E",
    "q": "two-replica overlap q_ab",
    "q_err": "error of q",
    "acceptance": "fraction of accepted flips",
    "tau_m": "integrated autocorrelation time of m (sweeps)",
    "burn_in": "discarded sweeps",
    "K": "number of stored patterns, round(alpha N^(P-1)) (at least 1)",
    "too_short": "1 if the run is shorter than 50 tau_int",
    "m_rs": "replica-symmetric m at this (alpha, T): retrieval branch where it exists, else the global minimum",
}


def mc_point(sweep: dict, index, point: int, seed: int):
    """Simulate grid point ``index = (iN, ialpha, iT)`` of an MC sweep; return (values, attrs)."""
    import montecarlo
    from .storage import solve_grid
    iN, ia, iT = index
    N, alpha, T = sweep["N"][iN], sweep["alpha"][ia], sweep["T"][iT]
    raw = montecarlo.storage_point(
        sweep["P"], N, alpha, T, sweeps=sweep["sweeps"], burn_in=sweep["burn_in"],
        replicas=sweep["replicas"], samples=sweep["samples"], dynamics={"zero_T": "zero"}.get(sweep["dynamics"], sweep["dynamics"]),
        schedule=sweep["schedule"], init=sweep["init"], seed=seed, point=point,
        dilution=sweep["dilution"], tempering=sweep["tempering"])
    values = {k: raw[k] for k in MC_INFO if k in raw}
    theory = solve_grid(sweep["P"], np.array([alpha]), np.array([T]))
    exists = bool(theory["exists_retrieval"][0, 0])
    values["m_rs"] = float(theory["m_retrieval"][0, 0] if exists else theory["m"][0, 0])
    values = {k: (np.int64(v) if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                  else np.float64(v)) for k, v in values.items()}
    attrs = {k: {"long_name": MC_INFO[k]} for k in values}
    return values, attrs
