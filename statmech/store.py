"""The HDF5 store: one file per study, one group per sweep (netCDF-4 compatible).

Layout (the contract of DESIGN.md)::

    /                      attrs: package_version, created, config (resolved TOML), seed, study
    /<sweep>/              attrs: model, method, P, convention, sweep_config (TOML)
    /<sweep>/<coord>       1-D dimension scales (alpha, T; N for Monte Carlo)
    /<sweep>/<observable>  N-D datasets over the coordinates; attrs long_name / units / flags
    /<sweep>/done          int8 mask over the grid: 1 where the point has been computed
    /<sweep>/boundaries/<name>/{alpha, T}   traced curves (dimension ``point``)

``xarray.open_dataset(path, group=<sweep>, engine="h5netcdf")`` opens every sweep. Points not yet
computed hold NaN and ``done == 0``.

Crash safety: the whole file is written to a temporary file beside the target and moved over it
with ``os.replace`` (atomic on POSIX). A run killed at any instant (SIGKILL included) leaves the
previous complete file or the new complete file, never a torn one.
"""
from __future__ import annotations

import dataclasses
import datetime
import os

import h5netcdf
import h5py
import numpy as np

__all__ = ["SweepResult", "write_study", "read_study", "StoreError", "STUDY_ATTRS"]

#: The root attributes every study file has (DESIGN.md): a file without them is not a study.
STUDY_ATTRS = ("package_version", "created", "config", "seed")


class StoreError(RuntimeError):
    """The study file cannot be read or does not match the requested study."""


@dataclasses.dataclass
class SweepResult:
    """In-memory image of one sweep group."""

    name: str
    coords: dict                    # name -> 1-D array, in dimension order
    data: dict = dataclasses.field(default_factory=dict)        # name -> array over coords
    var_attrs: dict = dataclasses.field(default_factory=dict)   # name -> {attr: value}
    attrs: dict = dataclasses.field(default_factory=dict)       # group attributes
    done: np.ndarray | None = None
    boundaries: dict = dataclasses.field(default_factory=dict)  # name -> {"alpha": a, "T": t, ...}
    boundary_attrs: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.done is None:
            self.done = np.zeros(self.shape, dtype=bool)

    @property
    def dims(self) -> tuple:
        return tuple(self.coords)

    @property
    def shape(self) -> tuple:
        return tuple(len(v) for v in self.coords.values())

    def set_points(self, index, values: dict, attrs: dict | None = None) -> None:
        """Store ``values[name]`` at grid positions ``index`` (any numpy index) and mark them done."""
        for key, val in values.items():
            val = np.asarray(val)
            if key not in self.data:
                if val.dtype.kind in "iu":
                    arr = np.full(self.shape, -1, dtype=np.int64)
                elif val.dtype.kind == "b":
                    arr = np.zeros(self.shape, dtype=np.int8)
                else:
                    arr = np.full(self.shape, np.nan, dtype=np.float64)
                self.data[key] = arr
            self.data[key][index] = val
        if attrs:
            for key, a in attrs.items():
                self.var_attrs.setdefault(key, {}).update(a)
        self.done[index] = True


def _to_attr(value):
    if isinstance(value, (bool, np.bool_)):
        return np.int8(value)
    return value


def write_study(path, root_attrs: dict, sweeps: list) -> None:
    """Write the whole study atomically (temporary file + rename)."""
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with h5netcdf.File(tmp, "w") as f:
            for key, val in root_attrs.items():
                f.attrs[key] = _to_attr(val)
            for sweep in sweeps:
                g = f.create_group(sweep.name)
                for key, val in sweep.attrs.items():
                    g.attrs[key] = _to_attr(val)
                g.dimensions = {name: len(vals) for name, vals in sweep.coords.items()}
                for name, vals in sweep.coords.items():
                    v = g.create_variable(name, (name,), data=np.asarray(vals))
                    for key, val in sweep.var_attrs.get(name, {}).items():
                        v.attrs[key] = _to_attr(val)
                dims = sweep.dims
                d = g.create_variable("done", dims, dtype="i1", data=sweep.done.astype(np.int8))
                d.attrs["long_name"] = "1 where the grid point has been computed"
                for name, arr in sweep.data.items():
                    v = g.create_variable(name, dims, data=arr)
                    for key, val in sweep.var_attrs.get(name, {}).items():
                        v.attrs[key] = _to_attr(val)
                if sweep.boundaries:
                    bg = g.create_group("boundaries")
                    for bname, curve in sweep.boundaries.items():
                        cg = bg.create_group(bname)
                        n = len(next(iter(curve.values())))
                        cg.dimensions = {"point": n}
                        for key, val in sweep.boundary_attrs.get(bname, {}).items():
                            cg.attrs[key] = _to_attr(val)
                        for cname, vals in curve.items():
                            cg.create_variable(cname, ("point",), data=np.asarray(vals, dtype=np.float64))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_study(path):
    """Read a study file back: ``(root_attrs, {sweep name: SweepResult})``.

    Raises :class:`StoreError` if the file is not a readable HDF5 file or lacks the study root
    attributes (:data:`STUDY_ATTRS`): an HDF5 file not made by statmech.

    Names, dimensions and attributes come through h5netcdf; the arrays are read through h5py
    directly (the same datasets: none has an unlimited dimension for h5netcdf to pad), because
    h5netcdf's per-variable read costs about 5 ms, 1.3 s for the default study."""
    path = os.fspath(path)
    try:
        f = h5netcdf.File(path, "r")
    except (OSError, ValueError) as err:
        raise StoreError(f"{path} is not a readable study file ({' '.join(str(err).split())})") from None
    with f, h5py.File(path, "r") as raw:
        root = {k: _from_attr(v) for k, v in f.attrs.items()}
        lacking = [k for k in STUDY_ATTRS if k not in root]
        if lacking:
            raise StoreError(f"{path} is not a statmech study file (it lacks the root attributes {', '.join(lacking)})")
        sweeps = {}
        for gname, g in f.groups.items():
            h5g = raw[gname]
            coords = {d: h5g[d][()] for d in g.dimensions if d in g.variables}
            res = SweepResult(gname, coords)
            res.attrs = {k: _from_attr(v) for k, v in g.attrs.items()}
            for d in coords:
                res.var_attrs[d] = {k: _from_attr(v) for k, v in g.variables[d].attrs.items()}
            for vname, v in g.variables.items():
                if vname in coords:
                    continue
                arr = h5g[vname][()]
                if vname == "done":
                    res.done = arr.astype(bool)
                    continue
                res.data[vname] = arr
                res.var_attrs[vname] = {k: _from_attr(a) for k, a in v.attrs.items()
                                        if not k.startswith("_") and k != "DIMENSION_LIST"}
            if "boundaries" in g.groups:
                for bname, cg in g.groups["boundaries"].groups.items():
                    res.boundaries[bname] = {c: h5g[f"boundaries/{bname}/{c}"][()] for c in cg.variables}
                    res.boundary_attrs[bname] = {k: _from_attr(v) for k, v in cg.attrs.items()}
            sweeps[gname] = res
    return root, sweeps


def _from_attr(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
