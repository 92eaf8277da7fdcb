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


# ---------------------------------------------------------------- Hebbian storage (P-body) ----

HEBBIAN_CONVENTION = ("H = -(1/(2 N^(P-1))) sum_mu sum_{distinct i_1..i_P} xi_i1..xi_iP sigma_i1..sigma_iP "
                      "(= -(N/2) sum_mu m_mu^P up to repeated indices), K = alpha N^(P-1), T = 1/beta")


def _hebbian_solve(sweep, values):
    from .storage import solve_grid
    return solve_grid(sweep["P"], values["alpha"], values["T"])


def _hebbian_trace(sweep, names):
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
        schedule=sweep["schedule"], init=sweep["init"], seed=seed, point=index, tempering=sweep["tempering"])
    theory = solve_grid(sweep["P"], np.array([point["alpha"]]), np.array([point["T"]]))
    exists = bool(theory["exists_retrieval"][0, 0])
    raw["m_rs"] = float(theory["m_retrieval"][0, 0] if exists else theory["m"][0, 0])
    return raw


def _hebbian_solve_1rsb(sweep, values):
    from .rsb import solve_grid_1rsb
    return solve_grid_1rsb(sweep["P"], values["alpha"], values["T"])


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
    from .learning import solve_grid
    return solve_grid(sweep["setting"], sweep["P"], alpha=values["alpha"], rho=values["rho"], T=values["T"],
                      **_learning_kwargs(sweep))


def _learning_trace(sweep, names):
    from .learning import boundaries
    dims = sweep["dims"]
    plane = ("rho", "T") if {"rho", "T"} <= set(dims) else ("alpha", "T")
    other = "alpha" if plane[0] == "rho" else "rho"
    fixed = {} if (other == "alpha" and sweep["load"] == "low") else {other: float(np.atleast_1d(sweep[other])[0])}
    first = np.asarray(sweep[plane[0]], dtype=float)
    curves = boundaries(sweep["setting"], sweep["P"], plane=plane, fixed=fixed, points=sweep["boundary_points"],
                        span=(float(first.min()), float(first.max())), **_learning_kwargs(sweep))
    return {k: {a: np.asarray(v[a]) for a in plane} for k, v in curves.items() if k in names}


def _learning_simulate(sweep, point, index, seed):
    from montecarlo.learning import learning_point
    from .learning import solve_grid
    load = {"alpha": point["alpha"]} if sweep["load"] == "high" else {"K": sweep["K"]}
    raw = learning_point(
        sweep["setting"], sweep["P"], point["N"], point["T"], M=sweep["M"], rho=point["rho"], sweeps=sweep["sweeps"],
        burn_in=None if sweep["burn_in"] == "auto" else sweep["burn_in"], replicas=sweep["replicas"],
        samples=sweep["samples"], dynamics={"zero_T": "zero"}.get(sweep["dynamics"], sweep["dynamics"]),
        schedule=sweep["schedule"], init={"pattern": "archetype"}.get(sweep["init"], sweep["init"]),
        seed=seed, point=index, **load)
    theory = solve_grid(sweep["setting"], sweep["P"], alpha=np.array([point["alpha"]]), rho=np.array([point["rho"]]),
                        T=np.array([point["T"]]), **_learning_kwargs(sweep))
    exists = bool(theory["exists_retrieval"].ravel()[0])
    raw["m_rs"] = float((theory["m_retrieval"] if exists else theory["m"]).ravel()[0])
    return raw


def _learning_observables():
    from .learning import OBSERVABLE_INFO
    return OBSERVABLE_INFO


def _learning_validate(sweep):
    from hopfield.validation import ParameterError
    if sweep["P"] % 2:
        raise ParameterError(f"{sweep['name']}.P", sweep["P"], "an even P >= 2 (learning.md conventions)")
    if sweep["average"] == "binomial" and sweep["M"] < 1:
        raise ParameterError(f"{sweep['name']}.M", sweep["M"], "M >= 1")
    if sweep["load"] == "high" and sweep["P"] == 2 and sweep["setting"] == "unsupervised":
        pass


# ------------------------------------------------------------ multitasking (diluted patterns) ----

MULTITASKING_CONVENTION = ("H = -(1/(2N)) sum_{i != j} sum_mu xi_i^mu xi_j^mu sigma_i sigma_j, xi in {-1,0,+1}, "
                           "P(0) = d, K finite (low storage), T = 1/beta")


def _multitasking_solve(sweep, values):
    from .multitasking import solve_grid
    out = solve_grid(sweep["K"], values["d"], values["T"])
    shape = (len(values["d"]), len(values["T"]))
    return {k: v for k, v in out.items() if np.shape(v) == shape}


def _multitasking_trace(sweep, names):
    from .multitasking import boundaries
    curves = boundaries(sweep["K"], points=sweep["boundary_points"])
    return {k: {"d": np.asarray(v["d"]), "T": np.asarray(v["T"])} for k, v in curves.items()}


def _multitasking_simulate(sweep, point, index, seed):
    raise ValueError("Monte Carlo sweeps of the multitasking family are not wired yet")


def _multitasking_observables():
    from .multitasking import OBSERVABLE_INFO
    return OBSERVABLE_INFO


def _multitasking_phases():
    from .multitasking import PHASES
    return PHASES


def _multitasking_validate(sweep):
    from hopfield.validation import ParameterError
    if sweep["method"] != "theory":
        raise ParameterError(f"{sweep['name']}.method", sweep["method"],
                             "'theory' for model 'multitasking' (its Monte Carlo runs through the Python API)")
    if sweep["boundaries"] and sweep["boundaries"] != ["all"]:
        raise ParameterError(f"{sweep['name']}.boundaries", sweep["boundaries"], '["all"] or []')


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
                        tests=sweep["tests"], seed=seed, point=index)


def _digits_validate(sweep):
    from hopfield.validation import ParameterError
    if sweep["method"] != "mc":
        raise ParameterError(f"{sweep['name']}.method", sweep["method"], "'mc' for model 'digits' (a simulation study)")
    for P in np.atleast_1d(sweep["P"]):
        if P % 2:
            raise ParameterError(f"{sweep['name']}.P", int(P), "even values P >= 2")


def _unavailable(*args, **kwargs):
    raise ValueError("not available for this family")


FAMILIES = {
    "hebbian": Family(
        name="hebbian",
        params={"P": Param("int", 2, low=2),
                "alpha": Param("real", None, low=0.0, axis=True),
                "T": Param("real", None, low=0.0, low_open=True, axis=True)},
        axes=("alpha", "T"),
        boundaries=("spin_glass", "retrieval_spinodal", "retrieval_thermodynamic", "almeida_thouless"),
        solve=_hebbian_solve, trace=_hebbian_trace, simulate=_hebbian_simulate,
        observables=_hebbian_observables, convention=HEBBIAN_CONVENTION,
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
                "T": Param("real", None, low=0.0, low_open=True, axis=True)},
        axes=("alpha", "rho", "T"),
        boundaries=("spin_glass", "retrieval_spinodal", "retrieval_thermodynamic"),
        solve=_learning_solve, trace=_learning_trace, simulate=_learning_simulate,
        observables=_learning_observables, planes=(("rho", "T"), ("alpha", "T")),
        convention=LEARNING_CONVENTION, validate=_learning_validate),
    "multitasking": Family(
        name="multitasking",
        params={"K": Param("int", 3, low=1, high=10),
                "d": Param("real", None, low=0.0, high=0.999, axis=True),
                "T": Param("real", None, low=0.0, low_open=True, axis=True)},
        axes=("d", "T"),
        boundaries=("all",),
        solve=_multitasking_solve, trace=_multitasking_trace, simulate=_multitasking_simulate,
        observables=_multitasking_observables, planes=(("d", "T"),),
        convention=MULTITASKING_CONVENTION, validate=_multitasking_validate, phases=_multitasking_phases),
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
}
