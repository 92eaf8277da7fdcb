"""Monte Carlo grid points for the sweeps: one pure task per grid point (N, axes...).

Runs the family's sampler and keeps the observables listed in :data:`MC_INFO` (the family also
returns ``m_rs``, the replica-symmetric prediction at the same point: the retrieval branch where
it exists, else the global minimum), so that files carry their own theory-versus-simulation
comparison.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mc_point", "MC_INFO"]

MC_INFO = {
    "m": "Mattis overlap with the condensed pattern xi^1 (mean over chains and samples)",
    "m_err": "error of m (blocking within chains, spread across disorder samples)",
    "m_err_thermal": "thermal part of the error of m (blocking within chains)",
    "m_err_disorder": "disorder part of the error of m (spread across samples; NaN with one sample)",
    "abs_m": "mean |m|",
    "E": "energy per neuron E/N",
    "E_err": "error of E",
    "loss_sq": "learning: loss candidate <(1 - m)^2> (learning.md Section 2.4)",
    "loss_sq_err": "error of loss_sq",
    "loss_dist": "learning: loss candidate <||xi^1 - sigma||^2> / (4N) = (1 - m) / 2 (learning.md Section 2.4)",
    "loss_dist_err": "error of loss_dist",
    "q": "two-replica overlap q_ab",
    "q_err": "error of q",
    "acceptance": "fraction of accepted flips",
    "tau_m": "integrated autocorrelation time of m (sweeps)",
    "tau_E": "integrated autocorrelation time of E (sweeps)",
    "burn_in": "discarded sweeps (given, or detected by MSER when the config says \"auto\")",
    "K": "number of stored patterns",
    "too_short": "1 if the run is shorter than 100 tau_int (montecarlo.measure.MIN_TAUS)",
    "m_rs": "replica-symmetric m at this point: retrieval branch where it exists, else the global minimum",
}


def mc_point(sweep: dict, index: tuple, point: int, seed: int):
    """Simulate grid point ``index`` (over ``sweep["dims"]``) of an MC sweep; return (values, attrs)."""
    from .models import FAMILIES
    family = FAMILIES[sweep["model"]]
    params = {k: sweep[k] for k in family.params}
    params.update({d: sweep[d][i] for d, i in zip(sweep["dims"], index)})
    raw = family.simulate(sweep, params, point, seed)
    info = family.mc_observables() if family.mc_observables else MC_INFO
    values = {}
    for k in info:
        if k in raw:
            v = raw[k]
            values[k] = np.int64(v) if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) \
                else np.float64(v)
    attrs = {k: {"long_name": info[k]} for k in values}
    return values, attrs
