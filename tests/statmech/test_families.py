"""Every model family runs through the same config -> sweep -> HDF5 path, and the file's numbers
are the family's own solver numbers (no reshaping mix-ups)."""
import numpy as np
import pytest

from statmech.config import ConfigError, parse_config
from statmech.store import read_study
from statmech.sweep import run_study

xr = pytest.importorskip("xarray")

LEARNING = """
[study]
seed = 4
[[sweeps]]
name = "sup"
model = "learning"
setting = "supervised"
P = 4
M = 20
load = "low"
rho = [0.0, 0.3, 0.6]
T = [0.1, 0.5, 0.9]
chunk = 2
boundary_points = 5
[[sweeps]]
name = "sup_mc"
model = "learning"
method = "mc"
setting = "supervised"
P = 4
M = 20
load = "low"
K = 2
theory = "sup"
rho = [0.3]
T = [0.3]
N = [300]
sweeps = 40
burn_in = 10
"""

MULTI = """
[[sweeps]]
name = "k2"
model = "multitasking"
K = 2
d = [0.1, 0.5, 0.8]
T = [0.05, 0.3]
boundaries = ["all"]
boundary_points = 7
"""


def test_learning_sweep_matches_solver(tmp_path):
    from statmech.learning import solve_grid
    out = tmp_path / "l.h5"
    run_study(parse_config(LEARNING), out)
    ds = xr.open_dataset(out, group="sup", engine="h5netcdf")
    assert ds["m"].dims == ("rho", "T")
    ref = solve_grid("supervised", 4, alpha=np.array([0.0]), rho=np.array([0.0, 0.3, 0.6]),
                     T=np.array([0.1, 0.5, 0.9]), M=20, load="low")
    np.testing.assert_array_equal(ds["m"].values, ref["m"][0])
    curve = xr.open_dataset(out, group="sup/boundaries/retrieval_spinodal", engine="h5netcdf")
    assert curve["T"].values[0] == pytest.approx(0.99157, abs=1e-4)     # rho = 0: dense Curie-Weiss spinodal
    _, sweeps = read_study(out)
    mc = sweeps["sup_mc"]
    assert mc.done.all() and mc.dims == ("N", "rho", "T")
    assert abs(mc.data["m"].item() - mc.data["m_rs"].item()) < 0.1


def test_multitasking_sweep_and_lines(tmp_path):
    from statmech.multitasking import solve_grid
    out = tmp_path / "m.h5"
    run_study(parse_config(MULTI), out)
    ds = xr.open_dataset(out, group="k2", engine="h5netcdf")
    ref = solve_grid(2, np.array([0.1, 0.5, 0.8]), np.array([0.05, 0.3]))
    np.testing.assert_array_equal(ds["m1"].values, ref["m1"])
    pm = xr.open_dataset(out, group="k2/boundaries/paramagnetic", engine="h5netcdf")
    np.testing.assert_allclose(pm["T"].values, 1 - pm["d"].values, atol=1e-9)   # T_c = 1 - d
    assert "pure" in ds.attrs["phase_names"]


@pytest.mark.parametrize("text,key", [
    (LEARNING.replace("P = 4\nM = 20\nload = \"low\"\nrho", "P = 3\nM = 20\nload = \"low\"\nrho", 1), "sup.P"),
    (LEARNING.replace("M = 20", "M = 0", 1), "sup.M"),
    (MULTI.replace('boundaries = ["all"]\nboundary_points = 7', 'method = "mc"\nN = [100]\nrho = -0.2'), "k2.rho"),
    (MULTI.replace("K = 2", "K = 11"), "k2.K"),
    (MULTI.replace("d = [0.1, 0.5, 0.8]", "d = [1.5]"), "k2.d"),
])
def test_family_bad_input(text, key):
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert err.value.name == key


def test_at_line_in_sweep_matches_rsb(tmp_path):
    """The traced de Almeida-Thouless line of a hebbian sweep is rsb.at_line, where the replicon vanishes."""
    from statmech.rsb import at_line
    cfg = parse_config("""
[[sweeps]]
name = "ags"
P = 2
alpha = [0.10, 0.12, 0.13]
T = [0.01, 0.02]
boundaries = ["almeida_thouless"]
boundary_points = 3
""")
    out = tmp_path / "a.h5"
    run_study(cfg, out)
    curve = xr.open_dataset(out, group="ags/boundaries/almeida_thouless", engine="h5netcdf")
    a, t = at_line(2, np.linspace(0.10, 0.13, 3))
    np.testing.assert_array_equal(curve["T"].values, t)
    assert t[-1] == pytest.approx(0.0094727, abs=2e-6)       # spec / Steffan-Kuehn value at alpha = 0.13


@pytest.mark.parametrize("text,key", [
    ('[[sweeps]]\nname = "l"\nmodel = "learning"\nmethod = "1rsb"\nM = 5\nrho = [0.1]\nT = [0.5]\n', "l.method"),
    ('[[sweeps]]\nname = "r"\nmethod = "1rsb"\nalpha = [0.1]\nT = [0.5]\nboundaries = ["spin_glass"]\n', "r.boundaries"),
    ('[[sweeps]]\nname = "r"\nmethod = "1rsb"\nalpha = [0.1]\nT = [0.5]\ntheory = "nope"\n', "r.theory"),
])
def test_1rsb_config_errors(text, key):
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert err.value.name == key


def test_learning_T0_alpha_rho_diagram(tmp_path):
    """T = 0 (alpha, rho) sweep: the grid's phases agree with the traced alpha_c(rho) (retrieval exists
    exactly left of it), which starts at the storage capacity at rho = 0; T grids containing 0 are refused."""
    from statmech.storage import capacity
    cfg = parse_config("""
[[sweeps]]
name = "t0"
model = "learning"
setting = "supervised"
P = 4
M = 20
alpha = [0.005, 0.015, 0.025, 0.035]
rho = [0.0, 0.3, 0.8]
T = 0.0
boundary_points = 5
""")
    res = run_study(cfg, tmp_path / "t0.h5")["t0"]
    assert res.dims == ("alpha", "rho")
    line = res.boundaries["retrieval_spinodal"]
    assert line["alpha"][0] == pytest.approx(capacity(4)[0], rel=1e-6)
    ac = np.interp(res.coords["rho"], line["rho"], line["alpha"])
    exists = res.data["exists_retrieval"].astype(bool)
    np.testing.assert_array_equal(exists, res.coords["alpha"][:, None] < ac[None, :])
    assert set(np.unique(res.data["phase"])) <= {1, 2, 3}
    bad = """
[[sweeps]]
name = "t0"
model = "learning"
M = 20
alpha = [0.01]
rho = [0.1, 0.2]
T = [0.0, 0.5]
"""
    with pytest.raises(ConfigError, match="t0.T"):
        parse_config(bad)
