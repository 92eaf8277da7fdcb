"""The RS storage solver against the published / independently derived values in data/."""
import csv
import pathlib

import numpy as np
import pytest

from statmech.storage import boundaries, capacity, solve_grid

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "storage_reference.csv"


def _reference():
    with open(DATA) as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {r["name"]: (float(r["value"]), float(r["tolerance"])) for r in rows}


REF = _reference()


def _check(name, value):
    ref, tol = REF[name]
    assert abs(value - ref) <= tol, f"{name}: {value} vs reference {ref} +- {tol}"


def test_ags_capacity_and_overlap():
    alpha_c, m_c = capacity(2)
    _check("ags_alpha_c_T0", alpha_c)
    _check("ags_m_at_alpha_c", m_c)


@pytest.mark.parametrize("P", [3, 4])
def test_dense_capacity(P):
    _check(f"dense_alpha_c_P{P}", capacity(P)[0])


def test_ags_thermodynamic_line_T0_end():
    curve = boundaries(2, np.linspace(0.0, 0.06, 13))["retrieval_thermodynamic"]
    a, t = np.asarray(curve[0]), np.asarray(curve[1])
    _check("ags_Tc_alpha_T0", float(a[np.argmin(t)]))
    assert t.min() < 1e-6


def test_dense_curie_weiss_lines_P4():
    ref_s, tol_s = REF["cw_P4_spinodal_T"]
    g = solve_grid(4, np.array([0.0]), np.array([ref_s - tol_s, ref_s + tol_s]))
    assert g["exists_retrieval"][0].tolist() == [True, False]       # the fold lies inside the bracket
    ref_c, tol_c = REF["cw_P4_Tc"]
    g = solve_grid(4, np.array([0.0]), np.array([ref_c - tol_c, ref_c + tol_c]))
    df = g["f_retrieval"][0] - g["f_paramagnet"][0]
    assert df[0] < 0 < df[1]                                          # f_R = f_para inside the bracket
