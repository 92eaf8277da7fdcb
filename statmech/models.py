"""Model families known to the sweeps: their parameters, theory, boundaries and Monte Carlo.

A family is one :class:`Family` instance in :data:`FAMILIES`. Adding a family means one entry
here (its parameters, grid axes and three functions) plus its own theory and sampler modules; the
config parser, the sweep runner, the store and the plots need no change.

Parameters marked ``axis`` may be given in a sweep as a grid (a list or ``{start, stop, num}``):
each grid becomes a dimension of the sweep, in the family's ``axes`` order. Given as a single
value, an axis parameter is fixed and recorded in the sweep's config.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

__all__ = ["Param", "Family", "FAMILIES"]


@dataclasses.dataclass(frozen=True)
class Param:
    kind: str                       # "real", "int" or "choice"
    default: object = None          # None: required
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple = ()
    axis: bool = False              # may be a grid (a dimension of the sweep)


@dataclasses.dataclass(frozen=True)
class Family:
    name: str
    params: dict                    # name -> Param
    axes: tuple                     # canonical order of the axis parameters
    boundaries: tuple               # names of the lines this family can trace
    solve: Callable                 # (sweep, values: {axis: 1-D array}) -> {key: array over all axes}
    trace: Callable                 # (sweep, names) -> {name: {axis: array, axis: array}}
    simulate: Callable              # (sweep, point: {param: scalar}, point_index, seed) -> (values, attrs)
    observables: Callable           # () -> {key: meaning}
    planes: tuple = (("alpha", "T"),)   # the planes (pairs of axes) where lines can be traced
    convention: str = ""
    validate: Callable | None = None     # (sweep) -> None, raises ParameterError on bad combinations
    phases: Callable | None = None       # () -> {code: name} of the "phase" observable (None: storage.PHASES)
    sizes: bool = True                   # Monte Carlo sweeps have a leading N axis
    mc_observables: Callable | None = None   # () -> {key: meaning} kept from ``simulate`` (None: statmech.mc.MC_INFO)
    mc_main: str = "m"                   # the observable the plots show for Monte Carlo sweeps
    solve_1rsb: Callable | None = None   # like ``solve``, one step of replica-symmetry breaking
    observables_1rsb: Callable | None = None
    boundaries_1rsb: tuple = ()          # the lines a method = "1rsb" sweep can trace


# ---------------------------------------------------------------- Hebbian storage (P-body) ----

HEBBIAN_CONVENTION = ("H = -(1/(2 N^(P-1))) sum_mu sum_{distinct i_1..i_P} xi_i1..xi_iP sigma_i1..sigma_iP "
                      "(= -(N/2) sum_mu m_mu^P up to repeated indices), K = alpha N^(P-1), T = 1/beta")


def _hebbian_solve(sweep, values):
    from .storage import solve_grid
    return solve_grid(sweep["P"], values["alpha"], values["T"])


def _hebbian_trace(sweep, names):
    if sweep.get("method") == "1rsb":
        return _hebbian_trace_1rsb(sweep, names)
    from .storage import boundaries
    alpha = np.atleast_1d(np.asarray(sweep["alpha"], dtype=float))
    a = np.linspace(alpha.min(), alpha.max(), sweep["boundary_points"])
    curves = boundaries(sweep["P"], a, points=sweep["boundary_points"]) if set(names) - {"almeida_thouless"} else {}
    if "almeida_thouless" in names:
        from .rsb import at_line
        curves["almeida_thouless"] = at_line(sweep["P"], a)
    return {k: {"alpha": np.asarray(v[0]), "T": np.asarray(v[1])} for k, v in curves.items() if k in names}


def _hebbian_simulate(sweep, point, index, seed):
    import montecarlo
    from .storage import solve_grid
    raw = montecarlo.storage_point(
        sweep["P"], point["N"], point["alpha"], point["T"], sweeps=sweep["sweeps"],
        burn_in=None if sweep["burn_in"] == "auto" else sweep["burn_in"],
        replicas=sweep["replicas"], samples=sweep["samples"],
        dynamics={"zero_T": "zero"}.get(sweep["dynamics"], sweep["dynamics"]),
        schedule=sweep["schedule"], init=sweep["init"], seed=seed, point=index, tempering=sweep["tempering"],
        backend=sweep.get("backend", "numba"))
    theory = solve_grid(sweep["P"], np.array([point["alpha"]]), np.array([point["T"]]))
    exists = bool(theory["exists_retrieval"][0, 0])
    raw["m_rs"] = float(theory["m_retrieval"][0, 0] if exists else theory["m"][0, 0])
    return raw


def _hebbian_validate(sweep):
    """Monte Carlo: the largest grid point must pass the sampler's size checks (pattern memory, exact
    integer range; montecarlo.api.check_storage_size), here, before any point runs."""
    if sweep["method"] != "mc":
        return
    from hopfield.validation import ParameterError
    from montecarlo.api import check_storage_size
    N, alpha = max(sweep["N"]), float(np.max(sweep["alpha"]))
    try:
        check_storage_size(sweep["P"], N, alpha)
    except ParameterError as err:
        raise ParameterError(f"{sweep['name']}.N", sweep["N"],
                             f"sizes with {err.name} {err.allowed} (K = max(1, round(alpha N^(P-1))) at N = {N}, "
                             f"alpha = {alpha:g}, P = {sweep['P']})") from None


def _hebbian_solve_1rsb(sweep, values):
    from .rsb import solve_grid_1rsb
    return solve_grid_1rsb(sweep["P"], values["alpha"], values["T"])


def _hebbian_trace_1rsb(sweep, names):
    """1RSB lines (statmech.rsb.boundaries_1rsb) of a method = "1rsb" sweep; names outside
    rsb.BOUNDARIES_1RSB are ignored (the RS lines come from a linked RS sweep)."""
    from .rsb import BOUNDARIES_1RSB, boundaries_1rsb
    alpha = np.atleast_1d(np.asarray(sweep["alpha"], dtype=float))
    wanted = BOUNDARIES_1RSB if list(names) == ["all"] else tuple(n for n in names if n in BOUNDARIES_1RSB)
    a = np.linspace(alpha.min(), alpha.max(), sweep["boundary_points"])
    curves = boundaries_1rsb(sweep["P"], a, points=min(sweep["boundary_points"], 9), names=wanted)
    return {k: {"alpha": np.asarray(v[0]), "T": np.asarray(v[1])} for k, v in curves.items()}


def _hebbian_observables_1rsb():
    from .rsb import OBSERVABLE_INFO
    return OBSERVABLE_INFO


def _hebbian_observables():
    from .storage import OBSERVABLE_INFO
    return OBSERVABLE_INFO


# ---------------------------------------------------- learning from examples (supervised/unsupervised) ----

LEARNING_CONVENTION = ("H_sup = -(1/(2 R^(P/2) N^(P-1))) sum_mu sum_distinct prod etabar^mu sigma; "
                       "H_uns = -(1/(2 R^(P/2) M N^(P-1))) sum_mu sum_a sum_distinct prod eta^(mu,a) sigma; "
                       "eta = chi xi, P(chi=1) = (1+r)/2, rho = (1-r^2)/(M r^2), R = r^2 (1+rho), "
                       "K = alpha N^(P-1) (high load) or K finite (low load), T = 1/beta")


def _learning_kwargs(sweep):
    return dict(M=sweep["M"], load=sweep["load"], average=sweep["average"])


def _learning_solve(sweep, values):
    from .learning import solve_grid, solve_T0_grid
    if np.all(values["T"] == 0.0):   # the T = 0 diagram (T fixed at 0, validated): statmech.learning.solve_T0
        out = solve_T0_grid(sweep["setting"], sweep["P"], alpha=values["alpha"], rho=values["rho"],
                            **_learning_kwargs(sweep))
        return {k: v[:, :, None] for k, v in out.items()}
    return solve_grid(sweep["setting"], sweep["P"], alpha=values["alpha"], rho=values["rho"], T=values["T"],
                      **_learning_kwargs(sweep))


LEARNING_EXAMPLE_LINES = ("example_spinodal", "example_thermodynamic", "example_instability")


def _learning_trace(sweep, names):
    from .learning import boundaries
    dims = sweep["dims"]
    if {"alpha", "rho"} <= set(dims):    # the T = 0 (alpha, rho) diagram: the span is along rho
        plane, fixed = ("alpha", "rho"), {}
        rho = np.asarray(sweep["rho"], dtype=float)
        span = (float(rho.min()), float(rho.max()))
    else:
        plane = ("rho", "T") if {"rho", "T"} <= set(dims) else ("alpha", "T")
        other = "alpha" if plane[0] == "rho" else "rho"
        fixed = {} if (other == "alpha" and sweep["load"] == "low") else {other: float(np.atleast_1d(sweep[other])[0])}
        first = np.asarray(sweep[plane[0]], dtype=float)
        span = (float(first.min()), float(first.max()))
    curves = boundaries(sweep["setting"], sweep["P"], plane=plane, fixed=fixed, points=sweep["boundary_points"],
                        span=span, **_learning_kwargs(sweep)) if set(names) - set(LEARNING_EXAMPLE_LINES) else {}
    if set(names) & set(LEARNING_EXAMPLE_LINES):
        # example-retrieval (memorisation) lines: unsupervised, low load, (rho, T) plane; empty elsewhere
        empty = {a: np.zeros(0) for a in plane}
        if sweep["setting"] == "unsupervised" and sweep["load"] == "low" and plane == ("rho", "T"):
            from .learning_examples import example_lines
            curves.update(example_lines(sweep["P"], sweep["M"], span=span, points=sweep["boundary_points"],
                                        average=sweep["average"]))
        else:
            curves.update({k: empty for k in LEARNING_EXAMPLE_LINES})
    return {k: {a: np.asarray(v[a]) for a in plane} for k, v in curves.items() if k in names}


def _learning_simulate(sweep, point, index, seed):
    from montecarlo.learning import learning_point
    load = {"alpha": point["alpha"]} if sweep["load"] == "high" else {"K": sweep["K"]}
    raw = learning_point(
        sweep["setting"], sweep["P"], point["N"], point["T"], M=sweep["M"], rho=point["rho"], sweeps=sweep["sweeps"],
        burn_in=None if sweep["burn_in"] == "auto" else sweep["burn_in"], replicas=sweep["replicas"],
        samples=sweep["samples"], dynamics={"zero_T": "zero"}.get(sweep["dynamics"], sweep["dynamics"]),
        schedule=sweep["schedule"], init={"pattern": "archetype"}.get(sweep["init"], sweep["init"]),
        seed=seed, point=index, tempering=sweep.get("tempering", False), backend=sweep.get("backend", "numba"),
        **load)
    theory = _learning_solve(sweep, {"alpha": np.array([point["alpha"]]), "rho": np.array([point["rho"]]),
                                     "T": np.array([point["T"]])})
    exists = bool(theory["exists_retrieval"].ravel()[0])
    raw["m_rs"] = float((theory["m_retrieval"] if exists else theory["m"]).ravel()[0])
    return raw


def _learning_observables():
    from .learning import OBSERVABLE_INFO, T0_INFO
    return {**OBSERVABLE_INFO, **{k: v for k, v in T0_INFO.items() if k not in OBSERVABLE_INFO}}


def _learning_phases():
    from .learning import PHASES_LEARNING
    return PHASES_LEARNING


def _learning_validate(sweep):
    from hopfield.validation import ParameterError
    if sweep["P"] % 2:
        raise ParameterError(f"{sweep['name']}.P", sweep["P"], "an even P >= 2 (learning.md conventions)")
    if sweep["average"] == "binomial" and sweep["M"] < 1:
        raise ParameterError(f"{sweep['name']}.M", sweep["M"], "M >= 1")
    T = np.atleast_1d(np.asarray(sweep["T"], dtype=float))
    if sweep["method"] == "theory" and np.any(T == 0.0):
        if T.size != 1:
            raise ParameterError(f"{sweep['name']}.T", sweep["T"],
                                 "T > 0 on a grid, or the single value T = 0 (the T = 0 diagram)")
        if sweep["load"] != "high" and isinstance(sweep["alpha"], list):
            raise ParameterError(f"{sweep['name']}.load", sweep["load"], "'high' for a T = 0 grid over alpha")


# ------------------------------------------------------------ multitasking (diluted patterns) ----

MULTITASKING_CONVENTION = ("H = -(1/(2N)) sum_{i != j} sum_mu xi_i^mu xi_j^mu sigma_i sigma_j, xi in {-1,0,+1}, "
                           "P(0) = d, K finite (low storage), T = 1/beta; rho > 0: learning from M examples "
                           "eta = chi xi (quality r, rho = (1-r^2)/(M r^2)), couplings 1/(N r^2 (1+rho)) "
                           "(supervised) or 1/(N M r^2 (1+rho)) (unsupervised): identical low-storage equations")


def _multitasking_learning(sweep):
    return bool(np.any(np.atleast_1d(np.asarray(sweep["rho"], dtype=float)) > 0))


def _multitasking_solve(sweep, values):
    from .multitasking import solve_grid, solve_learning_grid
    if not np.any(values["rho"] > 0):      # storage (rho = 0): the storage solver
        out = solve_grid(sweep["K"], values["d"], values["T"])
    else:
        out = solve_learning_grid(sweep["K"], values["d"], values["rho"], values["T"], M=sweep["M"],
                                  average=sweep["average"], setting=sweep["setting"])
    return {k: v for k, v in out.items() if k not in ("d", "rho", "T")}


def _multitasking_trace(sweep, names):
    from .multitasking import boundaries, learning_boundaries
    dims = [a for a in sweep["dims"] if a != "N"]

    def first(a):
        return float(np.atleast_1d(sweep[a])[0])
    if {"d", "T"} <= set(dims) or not {"rho"} & set(dims):
        rho = first("rho")
        if rho == 0.0:
            curves = boundaries(sweep["K"], points=sweep["boundary_points"])
        else:
            curves = learning_boundaries(sweep["K"], plane=("d", "T"), fixed={"rho": rho}, M=sweep["M"],
                                         average=sweep["average"], points=sweep["boundary_points"])
        plane = ("d", "T")
    elif {"rho", "T"} <= set(dims):
        rho = np.asarray(sweep["rho"], dtype=float)
        plane = ("rho", "T")
        curves = learning_boundaries(sweep["K"], plane=plane, fixed={"d": first("d")}, M=sweep["M"],
                                     average=sweep["average"], points=sweep["boundary_points"],
                                     span=(float(rho.min()), float(rho.max())))
    else:
        rho = np.asarray(sweep["rho"], dtype=float)
        plane = ("d", "rho")
        curves = learning_boundaries(sweep["K"], plane=plane, fixed={"T": first("T"), "rho_max": float(rho.max())},
                                     M=sweep["M"], average=sweep["average"], points=sweep["boundary_points"])
    return {k: {a: np.asarray(v[a]) for a in plane} for k, v in curves.items()}


def _multitasking_simulate(sweep, point, index, seed):
    from montecarlo.multitasking import multitasking_point
    from .multitasking import solve_learning_point, solve_point
    rho = float(point.get("rho", 0.0))
    # rho > 0: the learning version from M examples per archetype (rho = 0 is the storage network itself)
    learn = {"M": sweep["M"], "rho": rho, "setting": sweep["setting"]} if rho > 0 else {}
    raw = multitasking_point(
        sweep["K"], point["N"], point["d"], point["T"], sweeps=sweep["sweeps"],
        burn_in=None if sweep["burn_in"] == "auto" else sweep["burn_in"], replicas=sweep["replicas"],
        samples=sweep["samples"], dynamics={"zero_T": "zero"}.get(sweep["dynamics"], sweep["dynamics"]),
        schedule=sweep["schedule"], init=sweep["init"], seed=seed, point=index,
        backend=sweep.get("backend", "numba"), **learn)
    # theory at T = 0 is the T -> 0+ limit (spec 10.7): solved at T = 1e-3; learning: the exact binomial law of
    # the M examples actually drawn (spec 6.2), whatever ``average`` the theory grid uses
    T = max(point["T"], 1e-3)
    if learn:
        from hopfield.validation import ParameterError
        from .multitasking import _check_binomial_atoms
        try:
            _check_binomial_atoms(sweep["K"], rho, sweep["M"])
            law = "binomial"
        except ParameterError:   # too many joint atoms (2L+1)^K for the exact law: the Gaussian law of c (6.2)
            law = "gaussian"
        raw["rs_exact_law"] = float(law == "binomial")
        states = solve_learning_point(sweep["K"], point["d"], T, M=sweep["M"], rho=rho, law=law)["states"]
        stable = [s for s in states if s["stable"]]
        m = stable[0]["m"] if stable else np.full(sweep["K"], np.nan)
    else:
        theory = solve_point(sweep["K"], point["d"], T)
        m, stable = theory["m"], theory["stable_states"]
    for k in range(sweep["K"]):
        raw[f"m{k + 1}_rs"] = float(m[k])
    raw["m_rs"] = raw["m1_rs"]
    raw["m_mean_rs"] = float(np.mean(m))
    raw["n_stable_rs"] = len(stable)
    raw.pop("setting", None)
    return raw


def _multitasking_observables():
    from .multitasking import OBSERVABLE_INFO
    return OBSERVABLE_INFO


def _multitasking_mc_observables():
    from .multitasking import K_MAX
    info = {"m": "largest sorted amplitude m1 (what statmech compare checks against m_rs)",
            "m_err": "error of m (disorder spread over samples when samples >= 2, else thermal blocking)",
            "m_rs": "theory m1 of the thermodynamic state at this point",
            "m_mean": "mean of the K amplitudes (unbiased by sorting where amplitudes are tied)",
            "m_mean_err": "error of m_mean", "m_mean_rs": "theory mean amplitude",
            "n_stable_rs": "number of stable theory states at this point (> 1: MC may sit in another one)",
            "n": "learning version (rho > 0): example-mean overlap n_mu = (r / (R N)) etabar^mu . sigma of the "
                 "leading pattern, signed like its m_mu", "n_err": "error of n",
            "rs_exact_law": "learning version: 1 if the theory columns use the exact binomial law of the M "
                            "examples, 0 if the Gaussian one (too many atoms for the exact law)",
            "E": "energy per neuron E/N (self-term removed)", "E_err": "error of E",
            "loss": "sum-squared-error loss ||+-xi^mu - sigma||^2 / (2N) to the nearer of +-xi^mu, mean over the K "
                    "patterns (multitasking.md Section 6.3)",
            "loss_err": "error of loss", "loss_chance": "the loss at m = 0, (n_mu / N + 1) / 2 averaged",
            "acceptance": "fraction of accepted flips", "tau_m": "integrated autocorrelation time of the leading overlap",
            "burn_in": "discarded sweeps", "K": "number of patterns", "too_short": "1 if the run is shorter than 100 tau_int (montecarlo.measure.MIN_TAUS)"}
    for k in range(1, K_MAX + 1):
        info[f"m{k}"] = f"{k}-th largest |<m_mu>| (time average per chain, sorted, mean over chains and samples)"
        info[f"m{k}_err"] = f"error of m{k} (disorder spread when samples >= 2, else thermal)"
        info[f"m{k}_err_thermal"] = f"thermal (blocking) error of m{k}"
        info[f"m{k}_err_disorder"] = f"disorder error of m{k} (NaN with one sample)"
        info[f"m{k}_rs"] = f"theory m{k} (sorted |m|) of the thermodynamic state"
    return info


def _multitasking_phases():
    from .multitasking import PHASES
    return PHASES


def _multitasking_validate(sweep):
    from hopfield.validation import ParameterError
    if sweep["method"] == "1rsb":
        raise ParameterError(f"{sweep['name']}.method", sweep["method"], "'theory' or 'mc' for model 'multitasking'")
    if sweep["method"] == "theory" and np.any(np.atleast_1d(np.asarray(sweep["T"], dtype=float)) <= 0):
        raise ParameterError(f"{sweep['name']}.T", sweep["T"], "T > 0 for method 'theory' (T = 0 only for 'mc')")
    if sweep["method"] == "theory" and sweep["boundaries"] and sweep["boundaries"] != ["all"]:
        raise ParameterError(f"{sweep['name']}.boundaries", sweep["boundaries"], '["all"] or []')
    if sweep["method"] == "theory" and _multitasking_learning(sweep):
        from .multitasking import _check_learning
        try:
            for r in np.atleast_1d(np.asarray(sweep["rho"], dtype=float)):
                _check_learning(float(r), sweep["M"], sweep["average"], sweep["setting"])
                if sweep["average"] == "binomial":
                    from .multitasking import _binomial_backend
                    _binomial_backend(sweep["K"], np.array([0.5]), np.array([0.5]), float(r), sweep["M"])
        except ParameterError as err:
            raise ParameterError(f"{sweep['name']}.{err.name}", err.value, err.allowed) from None


# ------------------------------------------------------------------ digits (structured data) ----

DIGITS_CONVENTION = ("learning Hamiltonians of learning.md on scikit-learn's 8x8 digits binarised at value >= 9 "
                     "(N = 64, K = 10 classes); archetype of a class = sign of its mean image (ties +1)")

DIGITS_INFO = {
    "accuracy": "fraction of noisy held-out images whose final state is nearest to its own class archetype",
    "accuracy_err": "binomial error of accuracy",
    "accuracy_input": "the same for the noisy input itself (no network): the baseline",
    "accuracy_input_err": "binomial error of accuracy_input",
    "m_archetype": "overlap of the final state with the archetype of its class",
    "m_archetype_err": "standard error of m_archetype",
    "m_input": "overlap of the noisy input with the archetype of its class",
    "m_input_theory": "(1 - 2 noise) x the clean images' overlap (closed form)",
    "m_max": "largest overlap of the final state with any archetype",
    "r_hat": "estimated example quality r of the training images",
    "rho_hat": "implied dataset entropy (1 - r_hat^2) / (M r_hat^2)",
    "random_pattern_prediction": "low-load RS overlap for random patterns at the same (P, M, r_hat, T)",
    "acceptance": "flips per proposal",
}


def _digits_simulate(sweep, point, index, seed):
    from .digits import digits_point
    return digits_point(sweep["setting"], point["P"], point["M"], point["noise"], point["T"], sweeps=sweep["sweeps"],
                        tests=sweep["tests"], seed=seed, point=index, backend=sweep.get("backend", "numba"))


def _digits_validate(sweep):
    import importlib.util
    from hopfield.validation import ParameterError
    if importlib.util.find_spec("sklearn") is None:      # the images come from scikit-learn
        raise ParameterError(f"{sweep['name']}.model", sweep["model"], "a model whose data are installed: 'digits' "
                             "needs scikit-learn (pip install 'statmech-hopfield[data]')")
    if sweep["method"] != "mc":
        raise ParameterError(f"{sweep['name']}.method", sweep["method"], "'mc' for model 'digits' (a simulation study)")
    for P in np.atleast_1d(sweep["P"]):
        if P % 2:
            raise ParameterError(f"{sweep['name']}.P", int(P), "even values P >= 2")


def _unavailable(*args, **kwargs):
    raise ValueError("not available for this family")


# ------------------------------------------- modern Hopfield networks / dense associative memories ----

def _modern(attr):
    """An attribute of statmech.modern_sweep (the hooks of the families "modern" and "modern_continuous")."""
    from . import modern_sweep
    return getattr(modern_sweep, attr)


def _modern_continuous_info():
    from .modern_continuous import OBSERVABLE_INFO
    return OBSERVABLE_INFO


def _modern_continuous_phases():
    from .modern_continuous import PHASES
    return PHASES


FAMILIES = {
    "hebbian": Family(
        name="hebbian",
        params={"P": Param("int", 2, low=2),
                "alpha": Param("real", None, low=0.0, axis=True),
                "T": Param("real", None, low=0.0, low_open=True, axis=True)},
        axes=("alpha", "T"),
        boundaries=("spin_glass", "retrieval_spinodal", "retrieval_thermodynamic", "almeida_thouless"),
        solve=_hebbian_solve, trace=_hebbian_trace, simulate=_hebbian_simulate,
        observables=_hebbian_observables, convention=HEBBIAN_CONVENTION, validate=_hebbian_validate,
        boundaries_1rsb=("retrieval_spinodal_1rsb", "spin_glass_1rsb"),   # statmech.rsb.BOUNDARIES_1RSB
        solve_1rsb=_hebbian_solve_1rsb, observables_1rsb=_hebbian_observables_1rsb),

    "learning": Family(
        name="learning",
        params={"setting": Param("choice", "supervised", choices=("supervised", "unsupervised")),
                "P": Param("int", 4, low=2),
                "M": Param("int", None, low=1),
                "load": Param("choice", "high", choices=("high", "low")),
                "average": Param("choice", "gaussian", choices=("gaussian", "binomial")),
                "K": Param("int", 1, low=1),
                "alpha": Param("real", 0.0, low=0.0, axis=True),
                "rho": Param("real", None, low=0.0, axis=True),
                "T": Param("real", None, low=0.0, axis=True)},   # T = 0: the T = 0 diagram / T = 0 dynamics
        axes=("alpha", "rho", "T"),
        boundaries=("spin_glass", "retrieval_spinodal", "retrieval_thermodynamic") + LEARNING_EXAMPLE_LINES,
        solve=_learning_solve, trace=_learning_trace, simulate=_learning_simulate,
        observables=_learning_observables, planes=(("rho", "T"), ("alpha", "T"), ("alpha", "rho")),
        convention=LEARNING_CONVENTION, validate=_learning_validate, phases=_learning_phases),
    "multitasking": Family(
        name="multitasking",
        params={"K": Param("int", 3, low=1, high=10),
                "setting": Param("choice", "supervised", choices=("supervised", "unsupervised")),
                "average": Param("choice", "gaussian", choices=("gaussian", "binomial")),
                "M": Param("int", 20, low=1),
                "d": Param("real", None, low=0.0, high=0.999, axis=True),
                "rho": Param("real", 0.0, low=0.0, axis=True),
                "T": Param("real", None, low=0.0, axis=True)},
        axes=("d", "rho", "T"),
        boundaries=("all",),
        solve=_multitasking_solve, trace=_multitasking_trace, simulate=_multitasking_simulate,
        observables=_multitasking_observables, planes=(("d", "T"), ("rho", "T"), ("d", "rho")),
        convention=MULTITASKING_CONVENTION, validate=_multitasking_validate, phases=_multitasking_phases,
        mc_observables=_multitasking_mc_observables),
    "digits": Family(
        name="digits",
        params={"setting": Param("choice", "supervised", choices=("supervised", "unsupervised")),
                "tests": Param("int", 200, low=1),
                "P": Param("int", None, low=2, axis=True),
                "M": Param("int", None, low=1, high=173, axis=True),
                "noise": Param("real", None, low=0.0, high=0.5, axis=True),
                "T": Param("real", 0.0, low=0.0, axis=True)},
        axes=("P", "M", "noise", "T"),
        boundaries=(),
        solve=_unavailable, trace=_unavailable, simulate=_digits_simulate,
        observables=lambda: {}, planes=(), convention=DIGITS_CONVENTION, validate=_digits_validate,
        sizes=False, mc_observables=lambda: DIGITS_INFO, mc_main="accuracy"),
    "modern": Family(
        name="modern",
        params={"ensemble": Param("choice", "binary", choices=("binary", "gaussian", "spherical")),
                "corruption": Param("real", 0.0, low=0.0, high=0.49),
                "threshold": Param("real", 0.9, low=-1.0, high=1.0),
                "max_memory_mb": Param("int", 1024, low=1),
                # spherical MC beyond memory: the labelled cone / bulk approximations (montecarlo.md 8)
                "approximation": Param("choice", "full", choices=("full", "cone", "bulk")),
                "phi_keep": Param("real", 0.4, low=-1.0, high=1.0, low_open=True),
                "lambda": Param("real", None, low=0.0, low_open=True, axis=True),
                "alpha": Param("real", None, low=0.0, low_open=True, axis=True),
                "T": Param("real", 0.0, low=0.0, axis=True)},      # bath temperature (0: T = 0 theory)
        axes=("lambda", "alpha", "T"),
        boundaries=("alpha_1", "condensation", "spinodal", "petrova_alpha_c"),
        solve=_modern("solve"), trace=_modern("trace"), simulate=_modern("simulate"),
        observables=lambda: _modern("MODERN_INFO"), planes=(("lambda", "alpha"), ("alpha", "T")),
        convention=_modern("MODERN_CONVENTION"), validate=_modern("validate"),
        phases=lambda: _modern("MODERN_PHASES"), mc_observables=lambda: _modern("MODERN_MC_INFO"),
        mc_main="success"),
    "modern_lsr": Family(
        name="modern_lsr",
        params={"eps": Param("real", 1e-10, low=0.0, high=0.5, low_open=True),
                "threshold": Param("real", 0.9, low=-1.0, high=1.0),
                "max_memory_mb": Param("int", 1024, low=1),
                "b": Param("real", None, low=0.0, low_open=True, axis=True),
                "alpha": Param("real", None, low=0.0, low_open=True, axis=True),
                "T": Param("real", None, low=0.0, axis=True)},
        axes=("b", "alpha", "T"),
        boundaries=("petrova_alpha_c", "alpha_th"),
        solve=_modern("solve_lsr"), trace=_modern("trace_lsr"), simulate=_modern("simulate_lsr"),
        observables=lambda: _modern("LSR_INFO"), planes=(("alpha", "T"), ("b", "alpha")),
        convention=_modern("LSR_CONVENTION"), validate=_modern("validate_lsr"),
        phases=lambda: _modern("LSR_PHASES"), mc_observables=lambda: _modern("LSR_MC_INFO"),
        mc_main="success"),
    "modern_continuous": Family(
        name="modern_continuous",
        params={"K": Param("int", 16, low=2),
                "clusters": Param("int", 4, low=1),
                "eps": Param("real", 1e-10, low=0.0, low_open=True),
                "max_steps": Param("int", 20000, low=1),
                "lambda": Param("real", None, low=0.0, low_open=True, axis=True),
                "separation": Param("real", None, low=0.0, high=1.0, low_open=True, axis=True)},
        axes=("lambda", "separation"),
        boundaries=("contraction", "well_separated"),
        solve=_modern("solve_continuous"), trace=_modern("trace_continuous"), simulate=_unavailable,
        observables=_modern_continuous_info, planes=(("lambda", "separation"),),
        convention=_modern("CONTINUOUS_CONVENTION"), validate=_modern("validate_continuous"),
        phases=_modern_continuous_phases),
}
