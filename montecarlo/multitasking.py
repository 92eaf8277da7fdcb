"""Monte Carlo of multitasking (diluted-pattern) networks at one grid point: all K Mattis overlaps.

Protocol (/work/shared/physics/multitasking.md Section 8): random-sequential heat bath (or Metropolis, or
T = 0 dynamics with random ties) of :class:`montecarlo.ChainBatch` with K patterns in {-1, 0, +1}
(P(0) = d), self-term removed, 1/N couplings; the K overlaps are kept incrementally (O(K) per flip)
and read after every sweep. Per chain, each m_mu is averaged over the measured sweeps (after
``burn_in``); the amplitudes of a chain are the sorted |<m_mu>| (descending; the theory is defined
up to sign flips and permutations of the patterns). Errors: thermal (blocking of the m_mu series of
the pattern that holds rank k) and disorder (spread of the per-sample means over samples); the
reported error is the disorder error when samples >= 2 (it contains the thermal noise), else the
thermal one (montecarlo.measure.combine_chains).

Learning version (Sections 2.2, 6, 8; ``M`` with ``r`` or ``rho``): the archetypes are the storage
patterns of the same keys, each with M examples eta^{mu,a} = chi xi^mu (P(chi = +1) = (1+r)/2, blanks stay
blank; stream SeedSequence((seed, point, 5, sample))), and :class:`montecarlo.learning.LearningBatch` runs
the same dynamics on the supervised couplings 1/(N r^2 (1+rho)) sum_mu xibar_i xibar_j or the unsupervised
ones 1/(N M r^2 (1+rho)) sum_{mu,a} eta_i eta_j (self-terms removed), with the example overlaps kept
incrementally (supervised: the K example-mean overlaps; unsupervised: the K M per-example ones). The
amplitudes are those of the archetype overlaps m_mu, which the low-storage theory of Section 6.2
predicts (the same for both settings).

Note: sorting is biased where amplitudes are (nearly) tied, e.g. in the symmetric (parallel) state:
m_1 is pushed up and m_K down by about the chain-to-chain noise; compare the mean amplitude there.
"""
from __future__ import annotations

import numpy as np

from hopfield.learning import resolve_quality
from hopfield.multitasking import diluted_examples, hierarchical_configuration
from hopfield.patterns import random_patterns
from hopfield.validation import ParameterError, check_choice, check_integer, check_real

from .api import check_run_controls
from .gpu import available
from .learning import SETTINGS, LearningBatch
from .measure import combine_chains, summarize_series
from .rng import seed_sequence
from .sampler import BACKENDS, DYNAMICS, INITS, ChainBatch

MT_INITS = INITS + ("hierarchical",)
EXAMPLE_TAG = 5   # stream family of the examples of the learning version (rng.stream_states lists the others)

__all__ = ["multitasking_patterns", "multitasking_examples", "multitasking_point"]


def multitasking_patterns(N, K, d, *, seed=0, point=0, sample=0) -> np.ndarray:
    """Diluted patterns (N, K) int8 of disorder sample ``sample``: from SeedSequence((seed, point, 3, sample))."""
    gen = np.random.default_rng(seed_sequence(seed, point, 3, sample))
    return random_patterns(N, K, gen, dilution=d)


def multitasking_examples(patterns, M, r, *, seed=0, point=0, sample=0) -> np.ndarray:
    """M examples of each diluted archetype (N, K, M) int8 of disorder sample ``sample``
    (:func:`hopfield.multitasking.diluted_examples` from SeedSequence((seed, point, 5, sample)))."""
    return diluted_examples(patterns, M, r, rng=np.random.default_rng(seed_sequence(seed, point, EXAMPLE_TAG, sample)))


def multitasking_point(K, N, d, T, *, sweeps, burn_in=None, replicas=1, samples=1, dynamics="heat_bath",
                       schedule="random", init="pattern", ties="random", seed=0, point=0, backend="numba",
                       M=None, r=None, rho=None, setting="supervised") -> dict:
    """Simulate one (K, N, d, T) point; return plain floats.

    Learning version when ``M`` is given, with exactly one of ``r`` (example quality) and ``rho`` (dataset
    entropy (1 - r^2) / (M r^2)), in ``setting`` "supervised" or "unsupervised" (module docstring); the
    energy E is then that of the learning Hamiltonian, and n, n_err the example-mean overlap
    n_mu = (r / (R N)) sum_i etabar_i^mu sigma_i of the leading pattern (-> m / (1 + rho) sign-aligned in
    low storage). ``init="pattern"`` starts from the archetype xi^1.

    ``sweeps`` sweeps in all (N proposals each), the first ``burn_in`` discarded (None: half of them,
    the Section 8 protocol). ``init``: "pattern" (xi^1 on its support, random on its blanks),
    "hierarchical" (sigma_i = xi_i^mu of the first pattern non-blank at i, random where all are blank:
    :func:`hopfield.multitasking.hierarchical_configuration`, family A of multitasking.md Section 4.1)
    or "random". T = 0 runs the T = 0 dynamics with ``ties`` for DeltaE = 0 ("zero" at T > 0 is refused).
    ``backend``: "numba" (CPU) or "gpu" (:class:`montecarlo.ChainBatch` on montecarlo.gpu; refused with the
    reason where it cannot run).

    Returns: K, N, burn_in; m1..mK (sorted amplitudes, mean over chains), mk_err, mk_err_thermal,
    mk_err_disorder; m, m_err (= m1: the largest amplitude); m_mean, m_mean_err (mean of the K
    amplitudes, unbiased by sorting in tied states); E, E_err (energy per neuron); loss, loss_err (the
    sum-squared-error loss ||xi^mu - sigma||^2 / (2N) of Section 6.3 to the nearer of +-xi^mu, (n_mu / N + 1) / 2
    - |m_mu|, mean over the K patterns) and loss_chance (its value at m = 0, (2 - d) / 2 for N -> infinity);
    acceptance, tau_m
    (integrated autocorrelation time of the overlap of the leading pattern, sweeps), too_short
    (measured length < MIN_TAUS = 100 tau_int of the leading overlap or E in some chain). Reproducible for a given (seed, point) whatever the thread count.
    """
    K = check_integer("K", K, low=1, high=64)
    N = check_integer("N", N, low=2)
    d = check_real("d", d, low=0.0, high=1.0, high_open=True)
    T = check_real("T", T, low=0.0)
    sweeps, burn_in, replicas, samples = check_run_controls(sweeps, burn_in, replicas, samples, dynamics,
                                                            schedule, init, ties, MT_INITS)
    check_choice("backend", backend, tuple(BACKENDS))
    if BACKENDS[backend] == "gpu" and not available()[0]:
        raise ParameterError("backend", backend, f"'numba' on this machine ({available()[1]})")
    learning = M is not None or r is not None or rho is not None
    if learning:
        if M is None:
            raise ParameterError("M", M, "an integer >= 1 (examples per archetype) with r or rho")
        r, rho, _ = resolve_quality(M, r, rho)
        setting = check_choice("setting", setting, SETTINGS)
    if burn_in is None:
        burn_in = sweeps // 2
    if T > 0.0 and DYNAMICS[dynamics] == DYNAMICS["zero"]:
        raise ParameterError("dynamics", dynamics, "'heat_bath' or 'metropolis' at T > 0 (T = 0 selects 'zero')")
    if T == 0.0:
        dynamics, temps = "zero", [0.0]
    else:
        temps = [T]
    pats = np.stack([multitasking_patterns(N, K, d, seed=seed, point=point, sample=s) for s in range(samples)])
    start = init
    if init == "hierarchical":      # per sample, shared by its replicas (streams keyed (seed, point, 2, sample))
        start = np.repeat(np.stack([hierarchical_configuration(p, rng=seed_sequence(seed, point, 2, s))
                                    for s, p in enumerate(pats)]), replicas, axis=0)
    if learning:
        exs = np.stack([multitasking_examples(p, M, r, seed=seed, point=point, sample=s) for s, p in enumerate(pats)])
        batch = LearningBatch(setting, exs, pats, 2, temps[0], r=r, replicas=replicas, dynamics=dynamics,
                              schedule=schedule, ties=ties, init={"pattern": "archetype"}.get(start, start)
                              if isinstance(start, str) else start, seed=seed, point=point, backend=backend)
    else:
        batch = ChainBatch(pats, 2, temps, replicas=replicas, dynamics=dynamics, schedule=schedule, ties=ties,
                           init=start, seed=seed, point=point, backend=backend)
    if burn_in:
        batch.run(burn_in, measure=False)
    n = sweeps - burn_in
    C = batch.C
    ser = np.empty((n, C, K))
    nser = np.empty((n, C, K)) if learning else None
    E = np.empty((n, C)) if learning else None
    acc0 = batch.acc_total.copy()
    for t in range(n):
        batch.run(1, measure=False)
        if learning:
            ser[t] = batch.archetype_overlaps()
            nser[t] = batch.example_mean_overlaps()
            E[t] = batch.energies() / N
        else:
            ser[t] = batch.overlaps()
    ncol = np.count_nonzero(pats, axis=1)[batch.pidx].astype(np.float64)   # (C, K) non-blank counts
    if not learning:
        E = -0.5 * (ser ** 2).sum(axis=2) + (ncol.sum(axis=1) / (2.0 * N * N))[None, :]   # H/N (self-term removed)
    grp = batch.pidx                                                     # disorder sample of each chain
    per = [[summarize_series(ser[:, c, k]) for k in range(K)] for c in range(C)]
    means = np.array([[s["mean"] for s in row] for row in per])          # (C, K) signed time averages
    order = np.argsort(-np.abs(means), axis=1, kind="stable")
    out = {"K": K, "N": N, "d": d, "T": T, "burn_in": int(burn_in), "sweeps": sweeps, "replicas": replicas,
           "samples": samples, "dynamics": dynamics, "init": init, "seed": seed, "point": point}
    if learning:
        out.update(M=int(M), r=float(r), rho=float(rho), setting=setting)
        # example-mean overlap of the leading pattern, signed like its archetype overlap
        lead_n = [summarize_series(nser[:, c, order[c, 0]] * np.sign(means[c, order[c, 0]] or 1.0)) for c in range(C)]
        out["n"], out["n_err"], _, _ = combine_chains(lead_n, grp)
    for rank in range(K):
        summ = [{"mean": abs(means[c, order[c, rank]]), "err": per[c][order[c, rank]]["err"]} for c in range(C)]
        mean, err, eth, edis = combine_chains(summ, grp)
        key = f"m{rank + 1}"
        out[key], out[key + "_err"], out[key + "_err_thermal"], out[key + "_err_disorder"] = mean, err, eth, edis
    avg = [{"mean": float(np.abs(means[c]).mean()),
            "err": float(np.sqrt(sum(per[c][k]["err"] ** 2 for k in range(K)))) / K} for c in range(C)]
    out["m_mean"], out["m_mean_err"], _, _ = combine_chains(avg, grp)
    out["m"], out["m_err"] = out["m1"], out["m1_err"]
    se = [summarize_series(E[:, c]) for c in range(C)]
    out["E"], out["E_err"], _, _ = combine_chains(se, grp)
    # sum-squared-error loss (multitasking.md Section 6.3), mean over the K patterns, of the nearer of +-xi^mu
    # (H is even in each pattern): min L_mu = ||+-xi^mu - sigma||^2 / (2N) = (n_mu / N + 1) / 2 - |m_mu|, chance
    # value (n_mu / N + 1) / 2 -> (2 - d) / 2
    chance = (ncol / N + 1.0) / 2.0                                      # (C, K)
    loss = (chance[None, :, :] - np.abs(ser)).mean(axis=2)               # (n, C)
    out["loss"], out["loss_err"], _, _ = combine_chains([summarize_series(loss[:, c]) for c in range(C)], grp)
    out["loss_chance"] = float(chance.mean())
    lead = [per[c][order[c, 0]] for c in range(C)]
    out["tau_m"] = float(np.mean([s["tau"] for s in lead]))
    out["too_short"] = any(s["too_short"] for s in lead + se)
    out["acceptance"] = float((batch.acc_total - acc0).sum() / (C * n * N))
    return out
