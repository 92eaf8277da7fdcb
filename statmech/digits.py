"""Structured data: dense Hebbian networks trained on the binarised 8x8 digits (learning.md section 7).

Protocol (the "likely supervised protocol" of learning.md 7, a guess, applied to both settings):

- Data: scikit-learn's bundled digits binarised by :func:`hopfield.datasets.load_digits_binary`
  (pixel +1 iff value/16 > 0.5), N = 64 neurons, K = 10 classes playing the archetypes.
- Reference archetypes xi^mu: sign of the mean of **all** images of class mu, ties +1
  (:func:`hopfield.datasets.class_archetypes`, the package convention; ``reference="all"``). This uses the
  held-out test images too (each is ~1/180 of its class mean); ``reference="non_test"`` builds them from the
  images that are not test images instead (no leakage).
- Training set: M images per class drawn without replacement; supervised couplings are built on the class
  means etabar^mu, unsupervised ones on every example (Hamiltonians of :mod:`hopfield.learning`, distinct
  indices, R^{P/2} normalisation with R computed from the estimated quality r_hat).
- Test set: ``tests`` images drawn without replacement among those not used for training (all classes
  mixed, uniformly). Input noise: each pixel flipped independently with probability ``noise``.
- Dynamics: :class:`montecarlo.learning.LearningBatch` (exact distinct-index kernels; heat bath at T > 0,
  T = 0 dynamics at T = 0 with random tie breaking, random-site schedule), one chain per test image started
  from the noisy image (``init`` array), ``sweeps`` sweeps.
- Classification: the final state goes to the class whose archetype has the largest (signed) overlap
  (first class on exact ties). The same rule applied to the noisy input (no dynamics) gives
  ``accuracy_input``: the network helps only where ``accuracy`` > ``accuracy_input``.

Random numbers: one numpy generator from SeedSequence((seed, point, 11)) draws, in this order, the training
rows (class by class), the test rows and an (tests, N) array of uniforms U; pixel j of test image t is
flipped iff U[t, j] < noise. The draws do not depend on (setting, P, T, noise), so the rows of
:func:`digits_table` with the same M share training set, test images and noise uniforms (common random
numbers: the flips at noise 0.1 are a subset of those at 0.2), and the chain streams of LearningBatch are
keyed by the same (seed, point). Results are bit-reproducible for a given (seed, point).

What the random-pattern theory predicts (``random_pattern_prediction``): the low-load replica-symmetric
overlap of a network trained on *random* (uncorrelated, Rademacher) archetypes with the same M and the
estimated quality r_hat, i.e. rho_hat = (1 - r_hat^2)/(M r_hat^2), exact binomial law of the example mean
(learning.md 3.1, A4):

- T = 0: m = P(B > M/2) - P(B < M/2), B ~ Bin(M, (1 + r_hat)/2) (the retrieved state is sign(etabar));
  independent of P and, at low load, of the setting (the unsupervised generalising branch obeys the same
  equations, learning.md 3.5 / item 12). :func:`statmech.learning.binomial_T0_overlap`.
- T > 0: m of the retrieval branch of the low-load RS equations with the binomial average
  (:func:`statmech.learning.solve_grid`, ``load="low"``; NaN where the branch does not exist).

It ignores the finite load. ``random_pattern_prediction_snr`` adds the one-step signal-to-noise cross-talk
of the K - 1 = 9 other random archetypes at N = 64 (learning.md 5, distinct indices c1 = (P-1)!):

    m_snr = E_B erf( u / sqrt(2 V) ),  u = (2B - M)/(r_hat M),
    V = c1 (K-1) g / N^{P-1},  g = (1+rho)^P (supervised),  [r^{2P} + (1 - r^{2P})/M] / r^{2P} (unsupervised)

(T = 0, one step from the archetype; at P = 2, K/N = 0.156 is above the AGS capacity 0.138 so random
patterns would not even be stable there; at P = 4 the cross-talk is negligible). Real digits depart from
both through the strong correlations of the archetypes (overlaps 0.28..0.81, mean 0.55; see
:func:`archetype_overlaps`), which are not in the random theory.

Measured (seed 0, 200 test images): at P = 2 and P = 4 the T = 0 dynamics of both settings sends every input,
the archetypes themselves included, to one "mean digit" mixture state (a strict local minimum of the exact
energy, overlaps 0.47..0.81 with all ten archetypes), so ``accuracy`` is at or below chance (0.05..0.16)
while the nearest-archetype rule on the inputs gives 0.76..0.82 at noise 0 and the random theory predicts
m ~ 1. Larger P separates the classes again (noise 0, M = 20: P = 8 0.41 / 0.48, P = 12 0.65 / 0.73,
supervised / unsupervised), but the network never beats ``accuracy_input`` at noise > 0. Supervised runs need
N M^(P-1) < 2^62 (exact integer power sums of :class:`montecarlo.learning.LearningBatch`): P = 12 allows
M <= 40; unsupervised P >= 6 runs use the generic (slower) kernel.
"""
from __future__ import annotations

import math

import numpy as np

from hopfield.datasets import class_archetypes, load_digits_binary
from hopfield.learning import _check_P, estimate_quality
from hopfield.validation import ParameterError, check_choice, check_integer, check_real

__all__ = ["digits_point", "digits_table", "archetype_overlaps", "random_pattern_prediction",
           "format_table", "SETTINGS", "REFERENCES", "TABLE_DEFAULTS"]

SETTINGS = ("supervised", "unsupervised")
REFERENCES = ("all", "non_test")
_TAG = 11  # SeedSequence key of the digits draws (montecarlo.rng tags 0..3 are used by the samplers)
_N_CLASSES = 10

TABLE_DEFAULTS = dict(settings=SETTINGS, P=(2, 4), M=(5, 20, 100), noise=(0.1, 0.2, 0.3), T=(0.0, 0.2))

_DATA = None


def _digits():
    """(data (1797, 64) int8, labels (1797,) int64, archetypes (64, 10) int8), cached."""
    global _DATA
    if _DATA is None:
        X, y = load_digits_binary()
        xi, _ = class_archetypes(X, y)
        _DATA = (X, y, xi)
    return _DATA


def archetype_overlaps(reference=None) -> dict:
    """Overlaps between the digit archetypes (sign of the class means of all images): the structure that the
    random-pattern theory lacks. Returns ``matrix`` (10, 10) xi^mu . xi^nu / N, ``mean_offdiag``,
    ``max_offdiag`` and the pair realising it, ``ink_fraction`` (fraction of +1 pixels per archetype) and
    ``clean_accuracy``: nearest-archetype accuracy of the clean images (no network), the ceiling of the
    classification rule used by :func:`digits_point` at noise 0. ``reference``: optional (64, 10) archetypes."""
    X, y, xi = _digits()
    if reference is not None:
        ref = np.asarray(reference)
        if ref.shape != xi.shape or not np.isin(ref, (-1, 1)).all():
            raise ParameterError("reference", f"array of shape {ref.shape}", f"{xi.shape} archetypes with entries +-1")
        xi = ref
    O = xi.T.astype(np.int64) @ xi.astype(np.int64) / xi.shape[0]
    off = O[~np.eye(O.shape[0], dtype=bool)]
    Oo = O - 10 * np.eye(O.shape[0])
    a, b = np.unravel_index(np.argmax(Oo), O.shape)
    pred = np.argmax(X.astype(np.int64) @ xi.astype(np.int64), axis=1)
    return {"matrix": O, "mean_offdiag": float(off.mean()), "max_offdiag": float(off.max()),
            "max_pair": (int(a), int(b)), "ink_fraction": (xi == 1).mean(axis=0),
            "clean_accuracy": float((pred == y).mean())}


def random_pattern_prediction(setting, P, M, r, T, *, K=_N_CLASSES, N=64) -> dict:
    """Random-pattern reference at (setting, P, M, quality r, T): see the module docstring.

    Returns ``m_low_load`` (T = 0: binomial closed form; T > 0: low-load RS retrieval branch, binomial
    average, NaN if it does not exist), ``m_snr`` (T = 0 one-step SNR with the cross-talk of K - 1 random
    archetypes at this N; NaN at T > 0) and ``crosstalk_variance`` V (in units of the squared signal)."""
    from statmech.learning import binomial_T0_overlap, solve_grid
    check_choice("setting", setting, SETTINGS)
    P = _check_P(P)
    M = check_integer("M", M, low=1)
    r = check_real("r", r, low=0.0, high=1.0, low_open=True)
    T = check_real("T", T, low=0.0)
    rho = (1.0 - r * r) / (M * r * r)
    if T == 0.0:
        m_low = float(binomial_T0_overlap(rho, M)["m"][0])
    elif r >= 1.0:
        m_low = float("nan")  # the binomial solver needs r < 1 (rho > 0)
    else:
        g = solve_grid(setting, P, alpha=[0.0], rho=[rho], T=[T], M=M, load="low", average="binomial")
        m_low = float(g["m_retrieval"][0, 0, 0])
    if setting == "supervised":
        gfac = (1.0 + rho) ** P
    else:
        r2P = r ** (2 * P)
        gfac = (r2P + (1.0 - r2P) / M) / r2P
    V = math.factorial(P - 1) * (K - 1) * gfac / float(N) ** (P - 1)
    if T == 0.0:
        from scipy.special import erf
        from scipy.stats import binom
        k = np.arange(M + 1)
        u = (2 * k - M) / (r * M)
        w = binom.pmf(k, M, 0.5 * (1 + r))
        m_snr = float(w @ erf(u / math.sqrt(2 * V))) if V > 0 else m_low
    else:
        m_snr = float("nan")
    return {"m_low_load": m_low, "m_snr": m_snr, "crosstalk_variance": float(V), "rho": rho}


def _check_inputs(setting, P, M, noise, T, sweeps, tests, seed, point, reference):
    check_choice("setting", setting, SETTINGS)
    P = _check_P(P)
    M = check_integer("M", M, low=1)
    noise = check_real("noise", noise, low=0.0, high=0.5)
    T = check_real("T", T, low=0.0)
    sweeps = check_integer("sweeps", sweeps, low=1)
    tests = check_integer("tests", tests, low=1)
    seed = check_integer("seed", seed, low=0)
    point = check_integer("point", point, low=0)
    check_choice("reference", reference, REFERENCES)
    return P, M, noise, T, sweeps, tests, seed, point


def _draw(M, tests, seed, point, reference):
    """Training examples (64, 10, M), test rows, test labels, uniforms (tests, 64), archetypes (64, 10)."""
    X, y, xi_all = _digits()
    classes = np.unique(y)
    counts = np.bincount(y)
    if M >= counts.min():
        raise ParameterError("M", M, f"< {int(counts.min())} (images of the smallest class; some must stay "
                                     "out of training)")
    gen = np.random.default_rng(np.random.SeedSequence([seed, point, _TAG]))
    N = X.shape[1]
    eta = np.empty((N, classes.size, M), dtype=np.int8)
    used = np.zeros(y.size, dtype=bool)
    for k, c in enumerate(classes):
        rows = np.sort(gen.choice(np.flatnonzero(y == c), size=M, replace=False))
        eta[:, k, :] = X[rows].T
        used[rows] = True
    pool = np.flatnonzero(~used)
    if tests > pool.size:
        raise ParameterError("tests", tests, f"<= {pool.size} (images not used for training at M = {M})")
    test_rows = np.sort(gen.choice(pool, size=tests, replace=False))
    U = gen.random(size=(tests, N))
    if reference == "all":
        xi = xi_all
    else:
        keep = np.ones(y.size, dtype=bool)
        keep[test_rows] = False
        xi, _ = class_archetypes(X[keep], y[keep])
    return np.ascontiguousarray(eta), test_rows, y[test_rows], U, xi


def _mean_err(x):
    x = np.asarray(x, dtype=np.float64)
    err = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")
    return float(x.mean()), err


def digits_point(setting, P, M, noise, T, *, sweeps=20, tests=200, seed=0, point=0, reference="all",
                 predict=True, backend="numba") -> dict:
    """Classify ``tests`` noisy held-out digits with a dense Hebbian network trained on M images per class.

    Parameters
    ----------
    setting : "supervised" (couplings on the class means) or "unsupervised" (on every example)
    P : even interaction order >= 2
    M : training images per class (1 <= M < 174, the smallest class)
    noise : probability of flipping each input pixel, 0 <= noise <= 0.5
    T : temperature >= 0 (T = 0: zero-temperature dynamics, random tie breaking)
    sweeps : Monte Carlo sweeps per test image (random-site schedule)
    tests : held-out test images (<= the images not used for training)
    seed, point : the draws (module docstring); bit-reproducible
    reference : "all" (archetypes from all images, package convention) or "non_test"
    predict : compute the random-pattern predictions (False: NaN, skips the RS solver)
    backend : "numba" (CPU) or "gpu" (aliases "cupy", "cuda"; montecarlo.gpu_learning), as LearningBatch

    Returns plain floats (and a few ints / strings): accuracy, accuracy_err (binomial
    sqrt(a (1 - a)/tests)), accuracy_input (nearest archetype of the noisy input, no network) and its error,
    m_archetype, m_archetype_err (overlap of the final state with the archetype of its true class: mean and
    standard error over tests), m_input, m_input_err (same for the noisy input; closed form for a clean image
    of overlap m0: (1 - 2 noise) m0), m_input_theory = (1 - 2 noise) * mean clean overlap of the test images,
    m_clean (mean clean overlap of the test images), m_max (mean of the largest overlap of the final state
    with any archetype), r_hat (estimate_quality of the training examples), rho_hat = (1 - r_hat^2) /
    (M r_hat^2), random_pattern_prediction (low-load RS, module docstring), random_pattern_prediction_snr
    (T = 0 one-step SNR with the cross-talk of 9 random archetypes at N = 64), crosstalk_variance,
    acceptance (flips per proposal), and the settings.
    """
    from montecarlo.learning import LearningBatch
    P, M, noise, T, sweeps, tests, seed, point = _check_inputs(setting, P, M, noise, T, sweeps, tests, seed,
                                                               point, reference)
    from montecarlo import gpu as _gpu
    from montecarlo.sampler import BACKENDS
    check_choice("backend", backend, tuple(BACKENDS))
    if BACKENDS[backend] == "gpu" and not _gpu.available()[0]:
        raise ParameterError("backend", backend, f"'numba' on this machine ({_gpu.available()[1]})")
    eta, test_rows, labels, U, xi = _draw(M, tests, seed, point, reference)
    X = _digits()[0]
    clean = X[test_rows]
    noisy = np.where(U < noise, -clean, clean).astype(np.int8)
    r_hat = estimate_quality(eta, xi)
    if not r_hat > 0:
        raise ParameterError("r_hat", r_hat, "> 0 (training examples positively correlated with the archetypes)")
    r_used = min(r_hat, 1.0)
    rho_hat = (1.0 - r_used ** 2) / (M * r_used ** 2)
    N = X.shape[1]
    xi64 = xi.astype(np.int64)
    batch = LearningBatch(setting, eta, xi, P, T, r=r_used, replicas=tests,
                          dynamics="zero" if T == 0.0 else "heat_bath", init=noisy.copy(), seed=seed, point=point,
                          backend=backend)
    batch.run(sweeps, measure=False)
    final = batch.spins.astype(np.int64)
    ov_final = final @ xi64 / N                       # (tests, 10)
    ov_input = noisy.astype(np.int64) @ xi64 / N
    ov_clean = clean.astype(np.int64) @ xi64 / N
    idx = np.arange(tests)
    acc = float((np.argmax(ov_final, axis=1) == labels).mean())
    acc_in = float((np.argmax(ov_input, axis=1) == labels).mean())
    m_arch, m_arch_err = _mean_err(ov_final[idx, labels])
    m_in, m_in_err = _mean_err(ov_input[idx, labels])
    m_clean = float(ov_clean[idx, labels].mean())
    if predict:
        pred = random_pattern_prediction(setting, P, M, r_used, T)
    else:
        pred = {"m_low_load": float("nan"), "m_snr": float("nan"), "crosstalk_variance": float("nan")}
    return {
        "setting": setting, "P": P, "M": M, "noise": noise, "T": T, "N": N, "K": int(xi.shape[1]),
        "sweeps": sweeps, "tests": tests, "seed": seed, "point": point, "reference": reference,
        "accuracy": acc, "accuracy_err": math.sqrt(acc * (1 - acc) / tests),
        "accuracy_input": acc_in, "accuracy_input_err": math.sqrt(acc_in * (1 - acc_in) / tests),
        "m_archetype": m_arch, "m_archetype_err": m_arch_err,
        "m_input": m_in, "m_input_err": m_in_err, "m_input_theory": (1.0 - 2.0 * noise) * m_clean,
        "m_clean": m_clean, "m_max": float(ov_final.max(axis=1).mean()),
        "r_hat": float(r_hat), "rho_hat": float(rho_hat),
        "random_pattern_prediction": pred["m_low_load"], "random_pattern_prediction_snr": pred["m_snr"],
        "crosstalk_variance": pred["crosstalk_variance"],
        "acceptance": float(batch.acceptance().mean()),
    }


def digits_table(*, settings=TABLE_DEFAULTS["settings"], P=TABLE_DEFAULTS["P"], M=TABLE_DEFAULTS["M"],
                 noise=TABLE_DEFAULTS["noise"], T=TABLE_DEFAULTS["T"], sweeps=10, tests=100, seed=0, point=0,
                 reference="all", predict=True) -> list:
    """Table (list of dicts of :func:`digits_point`) over settings x P x M x noise x T, in that nesting order.

    Every row uses the same (seed, point): rows with the same M share training set, test images and noise
    uniforms (common random numbers, module docstring). Defaults: 72 rows, 100 test images, 10 sweeps (the
    T = 0 dynamics of these small nets stop in a few sweeps).
    """
    def seq(name, v):
        v = list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]
        if not v:
            raise ParameterError(name, v, "a non-empty list")
        return v
    rows = []
    for s in seq("settings", settings):
        for p in seq("P", P):
            for m in seq("M", M):
                for nz in seq("noise", noise):
                    for t in seq("T", T):
                        rows.append(digits_point(s, p, m, nz, t, sweeps=sweeps, tests=tests, seed=seed, point=point,
                                                 reference=reference, predict=predict))
    return rows


def format_table(rows, keys=("setting", "P", "M", "noise", "T", "accuracy", "accuracy_err", "accuracy_input",
                             "m_input", "m_archetype", "m_max", "r_hat", "rho_hat", "random_pattern_prediction",
                             "random_pattern_prediction_snr")) -> str:
    """Plain-text rendering of a :func:`digits_table` (one line per row)."""
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    lines = ["\t".join(keys)]
    lines += ["\t".join(fmt(r[k]) for k in keys) for r in rows]
    return "\n".join(lines)
