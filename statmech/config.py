"""Study configuration: TOML in, a validated and fully resolved plain dict out.

A study is a list of sweeps; a sweep is a grid of parameter points of one model, solved by one
method (``theory``: replica-symmetric solver; ``mc``: Monte Carlo). Grids are given either as a
list of values or as ``{start, stop, num}`` (inclusive, linearly spaced)::

    [study]
    name = "ags"
    seed = 1

    [[sweeps]]
    name = "ags"
    model = "hebbian"
    method = "theory"
    P = 2
    alpha = { start = 0.0, stop = 0.16, num = 41 }
    T = { start = 0.02, stop = 1.5, num = 38 }

Every key is checked before any work starts; a bad key raises :class:`ConfigError` (a
:class:`~hopfield.validation.ParameterError`) naming the key, its value and the allowed range.
The resolved config (defaults filled in, grids expanded) is what the HDF5 file records.
"""
from __future__ import annotations

import copy
import importlib.resources
import re
import tomllib

import numpy as np
import tomli_w

from hopfield.validation import ParameterError, check_choice, check_integer, check_real

__all__ = ["ConfigError", "load_config", "parse_config", "default_config_text", "to_toml", "sweep_by_name"]

METHODS = ("theory", "mc", "1rsb")
DYNAMICS = ("heat_bath", "metropolis", "zero_T")
SCHEDULES = ("random", "sequential")
INITS = ("pattern", "random")
BACKENDS = ("numba", "gpu", "cupy", "cuda")   # montecarlo.sampler.BACKENDS

#: Method keys allowed in a sweep table besides the family's parameters, with their defaults
#: (theory sweeps trace every line of their family unless ``boundaries`` says otherwise).
THEORY_DEFAULTS = {"boundaries": [], "boundary_points": 61, "chunk": 8}
MC_DEFAULTS = {"sweeps": 200, "burn_in": "auto", "replicas": 2, "samples": 1, "dynamics": "heat_bath",
               "schedule": "random", "init": "pattern", "tempering": False,
               "theory": "", "backend": "numba"}


class ConfigError(ParameterError):
    """A configuration key has a bad value (or the TOML text is malformed)."""


def _wrap(fn, *args, **kwargs):
    """Call a validator and re-raise its ParameterError as ConfigError (same message)."""
    try:
        return fn(*args, **kwargs)
    except ParameterError as err:
        raise ConfigError(err.name, err.value, err.allowed) from None


def _grid(key: str, spec, low=None, low_open=False, integer=False, high=None) -> list:
    """Expand a grid spec (list of values, a single value, or {start, stop, num}) to a list."""
    if isinstance(spec, dict):
        unknown = set(spec) - {"start", "stop", "num"}
        if unknown or not {"start", "stop", "num"} <= set(spec):
            raise ConfigError(key, spec, "a list of values or a table {start, stop, num}")
        start = _wrap(check_real, f"{key}.start", spec["start"], low, high, low_open)
        stop = _wrap(check_real, f"{key}.stop", spec["stop"], low, high, low_open)
        num = _wrap(check_integer, f"{key}.num", spec["num"], 1)
        values = np.linspace(start, stop, num).tolist()
    elif isinstance(spec, list):
        values = spec
    else:
        values = [spec]
    if len(values) == 0:
        raise ConfigError(key, spec, "a grid with at least one point")
    checker = check_integer if integer else check_real
    out = []
    for v in values:
        if integer:
            out.append(_wrap(checker, key, v, 1 if low is None else int(low), high))
        else:
            out.append(_wrap(checker, key, v, low, high, low_open))
    if len(set(out)) != len(out):
        raise ConfigError(key, spec, "distinct grid values")
    return out


def _param(name: str, key: str, p, raw: dict):
    """Resolve one family parameter: a scalar, or (axis parameters) a grid given as a list/table."""
    if key not in raw:
        if p.default is None:
            what = "a grid (list or {start, stop, num}) or a value" if p.axis else f"a {p.kind} value"
            raise ConfigError(f"{name}.{key}", None, what)
        return copy.deepcopy(p.default)
    value = raw[key]
    if p.axis and isinstance(value, (list, dict)):
        return _grid(f"{name}.{key}", value, low=p.low, low_open=p.low_open, integer=p.kind == "int", high=p.high)
    if p.kind == "choice":
        return _wrap(check_choice, f"{name}.{key}", value, p.choices)
    if p.kind == "int":
        return _wrap(check_integer, f"{name}.{key}", value, p.low, p.high)
    return _wrap(check_real, f"{name}.{key}", value, p.low, p.high, p.low_open)


def _sweep(raw: dict, index: int) -> dict:
    from .models import FAMILIES
    where = f"sweeps[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(where, raw, "a table")
    name = raw.get("name", f"sweep{index}")
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"{where}.name", name, "an identifier (letters, digits, underscore)")
    model = _wrap(check_choice, f"{name}.model", raw.get("model", "hebbian"), tuple(FAMILIES))
    family = FAMILIES[model]
    method = _wrap(check_choice, f"{name}.method", raw.get("method", "theory"), METHODS)
    if method == "1rsb" and family.solve_1rsb is None:
        raise ConfigError(f"{name}.method", method, f"'theory' or 'mc' for model {model!r} (no 1RSB solver)")
    sweep = {"name": name, "model": model, "method": method}
    for key, p in family.params.items():
        sweep[key] = _param(name, key, p, raw)
    dims = [a for a in family.axes if isinstance(sweep[a], list)]
    if not dims:
        raise ConfigError(f"{name}.{family.axes[0]}", raw.get(family.axes[0]),
                          "a grid in at least one of " + ", ".join(family.axes))
    if method == "theory":
        defaults = dict(THEORY_DEFAULTS, boundaries=list(family.boundaries))
    elif method == "1rsb":
        defaults = dict(THEORY_DEFAULTS, boundaries=[], theory="")
    else:
        defaults = dict(MC_DEFAULTS, N=None) if family.sizes else dict(MC_DEFAULTS)
    # "dims" is derived from the grids; the resolved config records it, and accepts it back unchanged
    known = {"name", "model", "method", "dims"} | set(family.params) | set(defaults)
    unknown = set(raw) - known
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{name}.{key}", raw[key], f"a known key for model {model!r}, method {method!r}: "
                          + ", ".join(sorted(known)))
    for key, default in defaults.items():
        sweep[key] = copy.deepcopy(raw.get(key, default))
    if method in ("theory", "1rsb"):
        # 1RSB sweeps trace their own lines; the RS lines come from a linked RS sweep (theory = NAME)
        allowed = family.boundaries_1rsb if method == "1rsb" else family.boundaries
        bnds = sweep["boundaries"]
        if not isinstance(bnds, list):
            raise ConfigError(f"{name}.boundaries", bnds, "a list of " + ", ".join(allowed))
        for b in bnds:
            _wrap(check_choice, f"{name}.boundaries", b, allowed)
        if bnds and not any(set(pl) <= set(dims) for pl in family.planes):
            raise ConfigError(f"{name}.boundaries", bnds, "[] unless the sweep has grids in one of the planes "
                              + "; ".join(" and ".join(pl) for pl in family.planes))
        _wrap(check_integer, f"{name}.boundary_points", sweep["boundary_points"], 2)
        _wrap(check_integer, f"{name}.chunk", sweep["chunk"], 1)
    else:
        if family.sizes:
            if sweep["N"] is None:
                raise ConfigError(f"{name}.N", None, "a list of system sizes N >= 2")
            sweep["N"] = _grid(f"{name}.N", sweep["N"], low=2, integer=True)
            dims = ["N"] + dims
        _wrap(check_integer, f"{name}.sweeps", sweep["sweeps"], 2)
        if sweep["burn_in"] != "auto":
            try:
                check_integer(f"{name}.burn_in", sweep["burn_in"], 0, sweep["sweeps"] - 2)
            except ParameterError:
                raise ConfigError(f"{name}.burn_in", sweep["burn_in"],
                                  f'"auto" or an integer 0 <= burn_in <= sweeps - 2 = {sweep["sweeps"] - 2}') from None
        _wrap(check_integer, f"{name}.replicas", sweep["replicas"], 1)
        _wrap(check_integer, f"{name}.samples", sweep["samples"], 1)
        _wrap(check_choice, f"{name}.dynamics", sweep["dynamics"], DYNAMICS)
        if sweep["dynamics"] == "zero_T" and sweep.get("T") is not None \
                and np.any(np.asarray(sweep["T"], dtype=float) > 0):
            raise ConfigError(f"{name}.T", sweep["T"], '0 with dynamics = "zero_T" ("heat_bath" or "metropolis" '
                              "at T > 0)")
        _wrap(check_choice, f"{name}.schedule", sweep["schedule"], SCHEDULES)
        _wrap(check_choice, f"{name}.init", sweep["init"], INITS + (("hierarchical",) if model == "multitasking" else ()))
        _wrap(check_choice, f"{name}.backend", sweep["backend"], tuple(BACKENDS))
        if sweep["backend"] != "numba" and model not in ("hebbian", "modern", "learning", "multitasking", "digits"):
            raise ConfigError(f"{name}.backend", sweep["backend"], f"'numba' for model {model!r} (the GPU backend "
                              "covers models 'hebbian', 'modern', 'learning', 'multitasking', 'digits')")
        if sweep["backend"] != "numba":
            from montecarlo.gpu import available
            ok, why = available()
            if not ok:
                raise ConfigError(f"{name}.backend", sweep["backend"], f"'numba' on this machine ({why})")
        if not isinstance(sweep["tempering"], bool):
            raise ConfigError(f"{name}.tempering", sweep["tempering"], "true or false")
        if not isinstance(sweep["theory"], str):
            raise ConfigError(f"{name}.theory", sweep["theory"], "the name of a theory sweep, or empty")
    if "dims" in raw and raw["dims"] != dims:
        raise ConfigError(f"{name}.dims", raw["dims"], f"{dims} (the grid axes, in this order), or no dims key")
    sweep["dims"] = dims
    if family.validate is not None:
        _wrap(family.validate, sweep)
    return sweep


def _walltime_minutes(text) -> int:
    parts = str(text).split(":")
    try:
        if len(parts) not in (2, 3) or any(not p.isdigit() for p in parts):
            raise ValueError
        h, m = (int(parts[0]), int(parts[1])) if len(parts) == 3 else (0, int(parts[0]))
        return 60 * h + m
    except ValueError:
        raise ConfigError("cluster.walltime", text, "a time HH:MM:SS or MM:SS") from None


def _cluster(raw) -> dict:
    """The [cluster] table for --scheduler slurm|pbs (dask-jobqueue)."""
    if not isinstance(raw, dict):
        raise ConfigError("cluster", raw, "a table")
    keys = {"queue": "", "cores": 1, "memory": "4GB", "walltime": "01:00:00", "jobs": 1, "account": "",
            "lifetime": None}
    bad = set(raw) - set(keys)
    if bad:
        key = sorted(bad)[0]
        raise ConfigError(f"cluster.{key}", raw[key], "cluster keys: " + ", ".join(keys))
    cfg = {k: raw.get(k, v) for k, v in keys.items()}
    for key in ("queue", "memory", "account"):
        if not isinstance(cfg[key], str):
            raise ConfigError(f"cluster.{key}", cfg[key], "a string")
    _wrap(check_integer, "cluster.cores", cfg["cores"], 1)
    _wrap(check_integer, "cluster.jobs", cfg["jobs"], 1)
    minutes = _walltime_minutes(cfg["walltime"])
    if minutes < 10:
        raise ConfigError("cluster.walltime", cfg["walltime"], "at least 00:10:00")
    if cfg["lifetime"] is None:
        cfg["lifetime"] = f"{minutes - 5}m"   # retire 5 minutes before the batch system kills the job
    cfg = {k: v for k, v in cfg.items() if v != ""}
    return cfg


def parse_config(text: str, source: str = "<config>") -> dict:
    """Parse and validate TOML text; return the resolved study config."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(source, str(err), "valid TOML") from None
    unknown = set(raw) - {"study", "sweeps", "cluster"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(key, raw[key], "top-level tables [study], [[sweeps]] and [cluster] only")
    study = raw.get("study", {})
    if not isinstance(study, dict):
        raise ConfigError("study", study, "a table")
    bad = set(study) - {"name", "seed"}
    if bad:
        key = sorted(bad)[0]
        raise ConfigError(f"study.{key}", study[key], "study keys: name, seed")
    name = study.get("name", "study")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
        raise ConfigError("study.name", name, "a plain file name (letters, digits, '_', '.', '-'; "
                          "not starting with '.' or '-'): it names the default output file")
    resolved = {"study": {"name": name,
                          "seed": _wrap(check_integer, "study.seed", study.get("seed", 0), 0, 2**63 - 1)}}
    sweeps = raw.get("sweeps")
    if not isinstance(sweeps, list) or not sweeps:
        raise ConfigError("sweeps", sweeps, "at least one [[sweeps]] table")
    resolved["sweeps"] = [_sweep(s, i) for i, s in enumerate(sweeps)]
    if "cluster" in raw:
        resolved["cluster"] = _cluster(raw["cluster"])
    names = [s["name"] for s in resolved["sweeps"]]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError("sweeps.name", name, "unique sweep names")
    for s in resolved["sweeps"]:
        if s["method"] in ("mc", "1rsb") and s["theory"]:
            target = sweep_by_name(resolved, s["theory"], missing_ok=True)
            if target is None or target["method"] != "theory":
                raise ConfigError(f"{s['name']}.theory", s["theory"], "the name of a theory sweep in this study")
    return resolved


def load_config(path=None) -> dict:
    """Load a config file (or the embedded default study when ``path`` is None)."""
    if path is None:
        return parse_config(default_config_text(), "default study")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise ConfigError("CONFIG", str(path), f"a readable TOML file ({err.strerror})") from None
    return parse_config(text, str(path))


def default_config_text() -> str:
    """The embedded default study (``statmech/default.toml``)."""
    return importlib.resources.files("statmech").joinpath("default.toml").read_text(encoding="utf-8")


def to_toml(config: dict) -> str:
    """The resolved config as TOML text (what the HDF5 file records)."""
    return tomli_w.dumps(config)


def sweep_by_name(config: dict, name: str, missing_ok: bool = False):
    for s in config["sweeps"]:
        if s["name"] == name:
            return s
    if missing_ok:
        return None
    raise KeyError(name)
