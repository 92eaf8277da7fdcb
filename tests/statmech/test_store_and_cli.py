"""The study file: xarray opens it, resume computes only missing points, SIGKILL loses nothing,
the command line reports bad input in one line with exit code 2."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from statmech.cli import main
from statmech.config import parse_config
from statmech.store import read_study
from statmech.sweep import plan_tasks, run_study

xr = pytest.importorskip("xarray")

CONFIG = """
[study]
name = "small"
seed = 7
[[sweeps]]
name = "ags"
P = 2
alpha = {start = 0.0, stop = 0.14, num = 8}
T = {start = 0.05, stop = 1.5, num = 10}
chunk = 2
boundary_points = 9
[[sweeps]]
name = "dense"
P = 3
alpha = [0.0, 0.05, 0.1]
T = [0.2, 0.6, 1.0]
boundaries = ["retrieval_spinodal"]
boundary_points = 5
"""


def _write(tmp_path, text=CONFIG, name="study.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_file_layout_opens_in_xarray(tmp_path):
    out = tmp_path / "s.h5"
    run_study(parse_config(CONFIG), out)
    ds = xr.open_dataset(out, group="ags", engine="h5netcdf")
    assert ds["m"].dims == ("alpha", "T") and ds["m"].shape == (8, 10)
    assert int(ds["done"].sum()) == 80
    assert "retrieval" in ds.attrs["convention"] or "K = alpha" in ds.attrs["convention"]
    sg = xr.open_dataset(out, group="ags/boundaries/spin_glass", engine="h5netcdf")
    a, t = sg["alpha"].values, sg["T"].values
    assert len(a) >= 5
    np.testing.assert_allclose(t, 1 + np.sqrt(a), atol=1e-6)
    dense = xr.open_dataset(out, group="dense", engine="h5netcdf")
    assert dense["f"].shape == (3, 3)
    root, _ = read_study(out)
    assert root["seed"] == 7 and "[[sweeps]]" in root["config"] and root["package_version"]


def test_resume_computes_only_missing(tmp_path):
    cfg = parse_config(CONFIG)
    out = tmp_path / "s.h5"
    full = run_study(cfg, out)
    ref = {k: v.copy() for k, v in full["ags"].data.items()}
    # knock out a block of points and one boundary, as an interrupted run would leave them
    _, sweeps = read_study(out)
    res = sweeps["ags"]
    res.done[2:4, :] = False
    for arr in res.data.values():
        arr[2:4] = np.nan if arr.dtype.kind == "f" else arr[2:4]
    del res.boundaries["spin_glass"]
    from statmech.store import write_study
    root, _ = read_study(out)
    write_study(out, root, [res, sweeps["dense"]])
    tasks = plan_tasks(cfg, {"ags": res, "dense": sweeps["dense"]})
    assert [t["kind"] for t in tasks] == ["theory", "boundaries"]
    assert tasks[0]["first_index"] == [2, 3]
    again = run_study(cfg, out)
    for k, v in ref.items():
        np.testing.assert_array_equal(again["ags"].data[k], v, err_msg=k)


def test_finished_study_plans_nothing(tmp_path):
    """Lines that do not cross the swept plane (here spin_glass of the supervised (rho, T) diagram) are
    stored empty: a rerun neither solves nor traces."""
    cfg = parse_config("""
[[sweeps]]
name = "sup"
model = "learning"
setting = "supervised"
P = 4
M = 20
load = "low"
rho = [0.0, 0.5]
T = [0.1, 0.8]
boundary_points = 3
""")
    out = tmp_path / "s.h5"
    run_study(cfg, out)
    _, sweeps = read_study(out)
    assert plan_tasks(cfg, sweeps) == []
    assert all(name in sweeps[s["name"]].boundaries for s in cfg["sweeps"] for name in s["boundaries"])


def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    text = CONFIG.replace("num = 8", "num = 40").replace("chunk = 2", "chunk = 1")
    cfg_path = _write(tmp_path, text)
    killed, clean = tmp_path / "killed.h5", tmp_path / "clean.h5"
    code = ("import sys; from statmech.config import load_config; from statmech.sweep import run_study; "
            "run_study(load_config(sys.argv[1]), sys.argv[2], flush_interval=0.0)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(cfg_path), str(killed)])
    deadline = time.time() + 120
    # wait until some, not all, points are on disk, then kill -9
    while time.time() < deadline:
        time.sleep(0.05)
        if killed.exists():
            try:
                _, s = read_study(killed)
            except Exception:
                continue
            if 0 < s["ags"].done.sum() < s["ags"].done.size:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, partial = read_study(killed)          # the file opens after SIGKILL
    assert partial["ags"].done.sum() < partial["ags"].done.size
    cfg = parse_config(text)
    run_study(cfg, killed)
    run_study(cfg, clean)
    _, a = read_study(killed)
    _, b = read_study(clean)
    for name in ("ags", "dense"):
        assert a[name].done.all()
        for k in b[name].data:
            np.testing.assert_array_equal(a[name].data[k], b[name].data[k], err_msg=f"{name}/{k}")
        for k in b[name].boundaries:
            for c in b[name].boundaries[k]:
                np.testing.assert_array_equal(a[name].boundaries[k][c], b[name].boundaries[k][c])
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_workers_do_not_change_numbers(tmp_path):
    cfg = parse_config(CONFIG)
    one = run_study(cfg, tmp_path / "one.h5", workers=1)
    two = run_study(cfg, tmp_path / "two.h5", workers=2)
    for k, v in one["ags"].data.items():
        np.testing.assert_array_equal(two["ags"].data[k], v, err_msg=k)


def test_changed_config_is_refused(tmp_path, capsys):
    out = tmp_path / "s.h5"
    small = CONFIG.replace("num = 8", "num = 3").replace("num = 10", "num = 3")
    assert main(["run", str(_write(tmp_path, small)), "--out", str(out), "--no-plot", "--quiet"]) == 0
    other = small.replace("seed = 7", "seed = 7").replace("stop = 0.14", "stop = 0.12")
    assert main(["run", str(_write(tmp_path, other, "b.toml")), "--out", str(out), "--no-plot", "--quiet"]) == 2
    assert "same config" in capsys.readouterr().err


@pytest.mark.parametrize("edit,key", [
    (("T = [0.2, 0.6, 1.0]", "T = [-0.2, 0.6]"), "dense.T"),
    (("T = [0.2, 0.6, 1.0]", "T = [0.0, 0.6]"), "dense.T"),
    (("alpha = [0.0, 0.05, 0.1]", "alpha = [-0.1]"), "dense.alpha"),
    (("P = 3", "P = 1"), "dense.P"),
    (('name = "dense"', 'name = "dense"\nmodel = "potts"'), "dense.model"),
    (("alpha = [0.0, 0.05, 0.1]", "alpha = []"), "dense.alpha"),
    (("[[sweeps]]\nname = \"dense\"", "[[sweeps]\nname = \"dense\""), "valid TOML"),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, edit, key):
    cfg = _write(tmp_path, CONFIG.replace(*edit))
    proc = subprocess.run([sys.executable, "-m", "statmech.cli", "run", str(cfg), "--out", str(tmp_path / "x.h5")],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert key in lines[0] and ("allowed" in lines[0])
    assert not (tmp_path / "x.h5").exists()


def test_cli_missing_config_and_bad_out(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "CONFIG" in capsys.readouterr().err
    cfg = _write(tmp_path)
    assert main(["run", str(cfg), "--out", "/nonexistent-dir/x.h5"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["run", str(cfg), "--workers", "0"]) == 2


def test_cli_run_info_plot_compare(tmp_path, capsys):
    out = tmp_path / "s.h5"
    assert main(["run", str(_write(tmp_path)), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert str(out) in text and "s.png" in text
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    ags = next(s for s in info["sweeps"] if s["name"] == "ags")
    assert ags["points_done"] == ags["points_total"] == 80 and ags["n_missing"] == 0
    assert set(ags["boundaries"]) == {"spin_glass", "retrieval_spinodal", "retrieval_thermodynamic", "almeida_thouless"}
    assert main(["info", str(out)]) == 0
    assert "complete" in capsys.readouterr().out
    assert main(["plot", str(out), "--out", str(tmp_path / "p.pdf")]) == 0
    assert (tmp_path / "p.pdf").exists()
    assert main(["info", str(tmp_path / "nothing.h5")]) == 2


def test_info_counts_unresolved_points(tmp_path):
    """A T where no thermodynamic state can be found (T = 1e-300: nothing converges) is reported
    by info as unresolved (phase code -1), not hidden as 'complete' with a paramagnet."""
    from statmech.info import describe, format_text
    cfg = CONFIG.split("[[sweeps]]")[0] + """
[[sweeps]]
name = "low"
P = 2
alpha = [0.05, 0.1]
T = [1e-300, 0.1, 0.5]
boundaries = []
"""
    out = tmp_path / "u.h5"
    with np.errstate(all="ignore"):
        run_study(parse_config(cfg), out)
    s = describe(out)["sweeps"][0]
    assert s["unresolved"] == 2
    assert "2 points unresolved" in format_text(describe(out))
    _, sweeps = read_study(out)
    assert sweeps["low"].data["phase"][:, 0].tolist() == [-1, -1]


def _mc_theory_pair(mc_alpha):
    from statmech.store import SweepResult
    a, T = np.array([0.05, 0.1]), np.array([0.1, 0.3, 0.5])
    theory = SweepResult("th", {"alpha": a, "T": T}, data={"m_retrieval": np.array([[0.9, 0.8, 0.7], [0.6, 0.5, 0.4]])},
                         attrs={"model": "hebbian", "method": "theory", "P": 2})
    theory.done[:] = True
    mc = SweepResult("mc", {"N": np.array([100]), "alpha": np.array(mc_alpha), "T": T},
                     data={"m": np.full((1, len(mc_alpha), 3), 0.5), "m_err": np.full((1, len(mc_alpha), 3), 0.01)},
                     attrs={"model": "hebbian", "method": "mc"})
    mc.done[:] = True
    return mc, theory


def test_mc_panel_draws_theory_only_at_its_own_coordinates():
    """MC at alpha = 0.07 with theory on {0.05, 0.1}: no theory curve labelled alpha = 0.07 (it
    would be the alpha = 0.05 values); at alpha = 0.1 the curve is the alpha = 0.1 row."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from statmech.plot import _mc_panel
    mc, theory = _mc_theory_pair([0.07, 0.1])
    fig, ax = plt.subplots()
    _mc_panel(ax, mc, theory)
    curves = {l.get_label(): l.get_ydata() for l in ax.get_lines() if l.get_label().startswith("RS theory")}
    plt.close(fig)
    assert list(curves) == ["RS theory alpha = 0.1"]
    np.testing.assert_array_equal(curves["RS theory alpha = 0.1"], [0.6, 0.5, 0.4])


def test_phase_panel_labels_and_unresolved():
    """The spin-glass line is the exact T_g only at P = 2 (RS f_SG = f_para for P >= 3);
    unresolved points (phase -1) are marked, not coloured as a phase."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from statmech.plot import _phase_panel
    from statmech.store import SweepResult
    labels = {}
    for P in (2, 3):
        res = SweepResult("th", {"alpha": np.array([0.05, 0.1]), "T": np.array([0.1, 0.5])},
                          data={"phase": np.array([[-1, 3], [1, 0]], dtype=np.int8)},
                          attrs={"model": "hebbian", "method": "theory", "P": P})
        res.done[:] = True
        res.boundaries = {"spin_glass": {"alpha": np.array([0.05, 0.1]), "T": np.array([1.2, 1.3])}}
        fig, ax = plt.subplots()
        _phase_panel(ax, res, [])
        labels[P] = [l.get_label() for l in ax.get_lines()]
        plt.close(fig)
    assert "T_g: spin-glass transition" in labels[2]
    assert not any(l.startswith("T_g: spin-glass") for l in labels[3])
    assert any("T_g (RS)" in l for l in labels[3])
    assert any("unresolved" in l for l in labels[2])
