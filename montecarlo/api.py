"""High-level entry point for sweeps: one (P, N, alpha, T) storage point -> small dict of floats."""
from __future__ import annotations

import numpy as np

from hopfield.patterns import random_patterns
from hopfield.validation import ParameterError, check_choice, check_integer, check_real

from .measure import combine_chains, detect_burn_in, summarize_series
from .rng import seed_sequence
from .sampler import DYNAMICS, INITS, SCHEDULES, TIES, ChainBatch, check_exact_range

__all__ = ["storage_point", "temperature_scan", "storage_K", "storage_patterns", "check_run_controls",
           "check_storage_size"]


def storage_K(P, N, alpha) -> int:
    """K = max(1, round(alpha N^(P-1))): at least one (the condensed) pattern, also for alpha = 0."""
    return max(1, int(round(alpha * float(N) ** (P - 1))))


PATTERN_MEMORY = 2 ** 33
"""Largest pattern set of one disorder sample, K N bytes (int8)."""


def check_storage_size(P, N, alpha) -> int:
    """K = storage_K(P, N, alpha) after the size checks made before any pattern is drawn: pattern memory
    K N <= PATTERN_MEMORY, and for P >= 3 the exact int64 range of the dense kernel."""
    K = storage_K(P, N, alpha)
    if K * N > PATTERN_MEMORY:
        raise ParameterError("K * N", K * N, "<= 2^33 (pattern memory: K N bytes per sample)")
    check_exact_range(P, N, K)
    return K


def storage_patterns(P, N, alpha, *, seed=0, point=0, sample=0, dilution=0.0):
    """Patterns of disorder sample ``sample`` of a point: drawn from SeedSequence((seed, point, 3, sample))."""
    K = storage_K(P, N, alpha)
    gen = np.random.default_rng(seed_sequence(seed, point, 3, sample))
    return random_patterns(N, K, gen, dilution=dilution)


def check_run_controls(sweeps, burn_in, replicas, samples, dynamics, schedule, init, ties, inits):
    """Validate the run controls shared by every high-level sampler; returns the integers."""
    sweeps = check_integer("sweeps", sweeps, low=2)
    if burn_in is not None:
        burn_in = check_integer("burn_in", burn_in, low=0, high=sweeps - 2)
    replicas = check_integer("replicas", replicas, low=1)
    samples = check_integer("samples", samples, low=1)
    check_choice("dynamics", dynamics, tuple(DYNAMICS))
    check_choice("schedule", schedule, tuple(SCHEDULES))
    check_choice("init", init, inits)
    check_choice("ties", ties, tuple(TIES))
    return sweeps, burn_in, replicas, samples


def _measure(batch, ser, sweeps, burn_in, replicas):
    """Observables of the chains at the batch's first temperature from ``batch.run``'s series: burn-in
    (given, or MSER on the chain-averaged E and m, at most half the run), means with thermal and
    disorder errors (:func:`~montecarlo.measure.combine_chains`), tau_int per observable, flags.
    Returns (dict, burn_in)."""
    E, m, acc, q = ser["E"][:, 0, :], ser["m"][:, 0, :], ser["acc"][:, 0, :], ser["q"][:, 0, :]
    if burn_in is None:
        # MSER on the chain-averaged series: the transient is common to all chains, the noise is not
        b = max(detect_burn_in(E.mean(axis=0)), detect_burn_in(m.mean(axis=0)))
        burn_in = int(min(b, sweeps // 2))
    sl = slice(burn_in, None)
    grp = np.arange(batch.G) // replicas
    sm = [summarize_series(m[g, sl]) for g in range(batch.G)]
    sa = [summarize_series(np.abs(m[g, sl])) for g in range(batch.G)]
    se = [summarize_series(E[g, sl]) for g in range(batch.G)]
    sq = [summarize_series(q[p, sl]) for p in range(batch.pairs.shape[0])]
    out = {}
    for key, summ, g in (("m", sm, grp), ("abs_m", sa, grp), ("E", se, grp),
                         ("q", sq, batch.pairs[:, 0] // replicas)):
        if summ:
            mean, err, eth, edis = combine_chains(summ, g)
        else:
            mean = err = eth = edis = float("nan")
        out[key], out[key + "_err"] = mean, err
        out[key + "_err_thermal"], out[key + "_err_disorder"] = eth, edis
    out["acceptance"] = float(acc[:, sl].mean())
    for key, summ in (("m", sm), ("E", se), ("abs_m", sa), ("q", sq)):
        out["tau_" + key] = float(np.mean([s["tau"] for s in summ])) if summ else float("nan")
    out["too_short"] = any(s["too_short"] for s in sm + sa + se + sq)
    out["plateau"] = bool(all(s["plateau"] for s in sm + sa + se + sq))
    return out, burn_in


def storage_point(P, N, alpha, T, *, sweeps, burn_in=None, replicas=2, samples=1, dynamics="heat_bath",
                  schedule="random", init="pattern", seed=0, point=0, dilution=0.0, tempering=False,
                  ties="random", ladder=None, backend="numba") -> dict:
    """Monte Carlo of the dense/pairwise Hebbian network at one storage point.

    Energy: distinct-index P-body Hebbian H (storage.md), K = max(1, round(alpha N^(P-1))) patterns
    (K >= 1 also at alpha = 0: the low-storage Curie-Weiss limit), entries +-1, or {-1, 0, 1} with
    P(0) = ``dilution``. ``samples`` disorder samples, each with patterns from the stream
    (seed, point, sample); ``replicas`` chains per sample share the patterns (for q).

    ``sweeps`` is the total number of sweeps run (N proposals each); the first ``burn_in`` are
    discarded. ``burn_in=None``: detected by MSER on the chain-averaged E and m series (at most
    sweeps / 2) and reported. ``T = 0`` switches to the T = 0 dynamics (flip iff DeltaE < 0, ``ties`` rule).
    ``tempering=True``: each (sample, replica) runs a ladder of temperatures (``ladder``, ascending,
    first = T; default 8 geometric values from T to max(2 T, 1.5 (1 + sqrt(alpha)))) with parallel
    tempering swaps; only the chain at T is measured.

    Returns plain floats: m, m_err (overlap with xi^1: mean over replicas and samples; the error is
    the disorder spread when samples >= 2, else the thermal error of :func:`~montecarlo.measure.summarize_series`), abs_m, abs_m_err, E,
    E_err (energy per neuron), q, q_err (two-replica overlap; NaN if replicas == 1), acceptance,
    tau_m (integrated autocorrelation time of m in sweeps, mean over chains), burn_in, K, N,
    too_short (post-burn-in length < MIN_TAUS = 100 tau_int of m, |m|, E or q in some chain), and extras (thermal and
    disorder errors separately, tau_E, tau_abs_m, tau_q, swap_rates with tempering, the settings used,
    ties and the kernel label).
    Deterministic for a given (seed, point), whatever the number of threads. ``backend="gpu"`` runs
    the chains with montecarlo.gpu (same streams and rules; refused where it cannot run).
    """
    P = check_integer("P", P, low=2, high=12)
    N = check_integer("N", N, low=P)
    alpha = check_real("alpha", alpha, low=0.0)
    T = check_real("T", T, low=0.0)
    sweeps, burn_in, replicas, samples = check_run_controls(sweeps, burn_in, replicas, samples, dynamics,
                                                            schedule, init, ties, INITS)
    seed = check_integer("seed", seed, low=0)
    point = check_integer("point", point, low=0)
    dilution = check_real("dilution", dilution, low=0.0, high=1.0, high_open=True)
    if T > 0.0 and DYNAMICS[dynamics] == DYNAMICS["zero"]:
        raise ParameterError("dynamics", dynamics, "'heat_bath' or 'metropolis' at T > 0 (T = 0 selects 'zero')")
    K = check_storage_size(P, N, alpha)
    if T == 0.0:
        dynamics = "zero"
        if tempering:
            raise ParameterError("tempering", tempering, "False at T = 0")
    if tempering:
        if ladder is None:
            hi = max(2.0 * T, 1.5 * (1.0 + np.sqrt(alpha)))
            temps = np.geomspace(T, hi, 8)
        else:
            temps = np.asarray(ladder, dtype=float)
            if temps.ndim != 1 or temps.size < 2 or temps[0] != T or np.any(np.diff(temps) <= 0):
                raise ParameterError("ladder", ladder,
                                     "an ascending 1-D sequence of >= 2 temperatures starting at T")
    else:
        temps = np.array([T if T > 0 else 0.0])
    pats = np.stack([storage_patterns(P, N, alpha, seed=seed, point=point, sample=d, dilution=dilution)
                     for d in range(samples)])
    batch = ChainBatch(pats, P, temps, replicas=replicas, dynamics=dynamics, schedule=schedule, ties=ties,
                       init=init, tempering=tempering, seed=seed, point=point, backend=backend)
    ser = batch.run(sweeps)
    out, burn_in = _measure(batch, ser, sweeps, burn_in, replicas)
    out.update({"K": K, "N": N, "P": P, "alpha": alpha, "T": T, "burn_in": burn_in, "sweeps": sweeps,
                "replicas": replicas, "samples": samples, "dynamics": dynamics, "schedule": schedule,
                "init": init, "ties": ties, "seed": seed, "point": point, "dilution": dilution,
                "kernel": "distinct_index_exact", "tempering": bool(tempering), "backend": batch.backend})
    if tempering:
        out["swap_rates"] = batch.swap_rates()
        out["ladder"] = temps
    return out


def temperature_scan(P, N, alpha, temperatures, *, sweeps, burn_in=None, replicas=2, samples=1,
                     dynamics="heat_bath", schedule="random", init="pattern", seed=0, point=0, dilution=0.0,
                     backend="numba") -> list:
    """Heating or annealing protocol (montecarlo.md Section 7): the same chains carried along a
    temperature list, ``sweeps`` sweeps at each T (the first ``burn_in`` of them discarded; None:
    MSER), starting from ``init`` at ``temperatures[0]``.

    An ascending list from the pattern is the heating protocol: the retrieval state is followed up to
    where it stops being metastable on the run's time scale, instead of being lost at each T by a
    fresh start (or found where a fresh start from the pattern would sit in a state that a slow
    heating leaves). A descending list anneals. Returns one dict per temperature, with the observables
    of :func:`storage_point` (errors, tau_int, flags) and the settings; the patterns are those of
    :func:`storage_point` at the same (seed, point), the streams go on from one T to the next.
    """
    P = check_integer("P", P, low=2, high=12)
    N = check_integer("N", N, low=P)
    alpha = check_real("alpha", alpha, low=0.0)
    temps = np.asarray(temperatures, dtype=object)
    if temps.ndim != 1 or temps.size < 1:
        raise ParameterError("temperatures", temperatures, "a non-empty 1-D sequence of temperatures T > 0")
    temps = [check_real("T", t, low=0.0, low_open=True) for t in temps]
    sweeps, burn_in, replicas, samples = check_run_controls(sweeps, burn_in, replicas, samples, dynamics,
                                                            schedule, init, "random", INITS)
    if DYNAMICS[dynamics] == DYNAMICS["zero"]:
        raise ParameterError("dynamics", dynamics, "'heat_bath' or 'metropolis' (a scan runs at T > 0)")
    seed = check_integer("seed", seed, low=0)
    point = check_integer("point", point, low=0)
    dilution = check_real("dilution", dilution, low=0.0, high=1.0, high_open=True)
    K = check_storage_size(P, N, alpha)
    pats = np.stack([storage_patterns(P, N, alpha, seed=seed, point=point, sample=d, dilution=dilution)
                     for d in range(samples)])
    batch = ChainBatch(pats, P, [temps[0]], replicas=replicas, dynamics=dynamics, schedule=schedule, init=init,
                       seed=seed, point=point, backend=backend)
    rows = []
    for T in temps:
        batch.set_temperature(T)
        out, b = _measure(batch, batch.run(sweeps), sweeps, burn_in, replicas)
        out.update({"K": K, "N": N, "P": P, "alpha": alpha, "T": T, "burn_in": b, "sweeps": sweeps,
                    "replicas": replicas, "samples": samples, "dynamics": dynamics, "schedule": schedule,
                    "init": init, "seed": seed, "point": point, "dilution": dilution,
                    "protocol": "heating" if temps[-1] >= temps[0] else "annealing",
                    "kernel": "distinct_index_exact", "backend": batch.backend})
        rows.append(out)
    return rows
