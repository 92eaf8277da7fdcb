"""What an existing file, journal or lock may and may not do to a run: nothing in a file is lost or
mixed with another config's numbers; interrupted and failed runs keep what finished; errors are
one line."""
import json
import os

import h5py
import numpy as np
import pytest

from statmech import executors
from statmech import sweep as sweep_mod
from statmech.cli import main
from statmech.config import parse_config
from statmech.executors import WorkersFailed
from statmech.store import read_study, write_study
from statmech.sweep import run_study

TWO = """
[study]
name = "two"
seed = 1
[[sweeps]]
name = "a"
P = 2
alpha = [0.0, 0.05]
T = [0.1, 0.5]
boundaries = []
[[sweeps]]
name = "b"
P = 2
alpha = [0.0, 0.1]
T = [0.1, 0.5]
boundaries = []
"""
ONE = TWO.split("[[sweeps]]\nname = \"b\"")[0]
MC = """
[study]
name = "mc"
seed = 1
[[sweeps]]
name = "mc"
method = "mc"
P = 2
alpha = [0.05]
T = [0.1, 0.3]
N = [50, 60]
sweeps = 10
burn_in = 2
replicas = 1
"""


def _write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _run(tmp_path, text, out, *extra):
    return main(["run", _write(tmp_path, text), "--out", str(out), "--no-plot", "--quiet", *extra])


def _same_sweep(a, b):
    assert a.attrs == b.attrs and a.done.tolist() == b.done.tolist() and set(a.data) == set(b.data)
    for k in a.data:
        np.testing.assert_array_equal(a.data[k], b.data[k], err_msg=k)


def test_rerun_with_fewer_sweeps_keeps_the_others(tmp_path, capsys):
    out = tmp_path / "s.h5"
    assert _run(tmp_path, TWO, out) == 0
    _, before = read_study(out)
    assert _run(tmp_path, ONE, out) == 0
    root, after = read_study(out)
    assert set(after) == {"a", "b"}
    _same_sweep(before["b"], after["b"])
    # the recorded config lists every sweep in the file, and runs again as it is
    capsys.readouterr()
    assert main(["info", "--config", str(out)]) == 0
    recorded = capsys.readouterr().out
    assert [s["name"] for s in parse_config(recorded)["sweeps"]] == ["a", "b"]
    assert _run(tmp_path, recorded, tmp_path / "again.h5") == 0
    _, again = read_study(tmp_path / "again.h5")
    _same_sweep(again["b"], after["b"])


@pytest.mark.parametrize("kind", ["plain", "empty", "text"])
def test_a_file_that_is_not_a_study_is_refused_unless_overwrite(tmp_path, capsys, kind):
    out = tmp_path / "data.h5"
    if kind == "text":
        out.write_text("not HDF5")
    else:
        with h5py.File(out, "w") as f:
            if kind == "plain":
                f["x"] = np.arange(3)
    content = out.read_bytes()
    capsys.readouterr()
    assert _run(tmp_path, ONE, out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err and "--overwrite" in err
    assert out.read_bytes() == content
    assert sorted(os.listdir(tmp_path)) == ["c.toml", "data.h5"]       # no lock file, no journal
    assert _run(tmp_path, ONE, out, "--overwrite") == 0
    assert set(read_study(out)[1]) == {"a"}
    assert not os.path.exists(str(out) + ".lock")


@pytest.mark.parametrize("command", ["info", "plot", "compare"])
def test_commands_refuse_files_that_are_not_studies(tmp_path, capsys, command):
    for name, fill in (("empty.h5", False), ("plain.h5", True)):
        path = tmp_path / name
        with h5py.File(path, "w") as f:
            if fill:
                f.create_group("g")["x"] = np.arange(3)
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "not a statmech study file" in err


def test_changed_seed_of_a_monte_carlo_file_is_refused(tmp_path, capsys):
    out = tmp_path / "mc.h5"
    assert _run(tmp_path, MC, out) == 0
    _, before = read_study(out)
    assert _run(tmp_path, MC.replace("seed = 1", "seed = 2"), out) == 2
    err = capsys.readouterr().err
    assert "study.seed = 2" in err and "allowed 1" in err
    root, after = read_study(out)
    assert root["seed"] == 1
    _same_sweep(before["mc"], after["mc"])
    # theory results do not depend on the seed: a theory-only file takes a new seed
    assert _run(tmp_path, ONE, tmp_path / "t.h5") == 0
    assert _run(tmp_path, ONE.replace("seed = 1", "seed = 5"), tmp_path / "t.h5") == 0


def test_stale_journal_of_another_config_is_not_replayed(tmp_path, monkeypatch, capsys):
    a = parse_config(ONE)
    b = parse_config(ONE.replace("P = 2", "P = 3").replace("alpha = [0.0, 0.05]", "alpha = [0.0, 0.01]"))
    out = str(tmp_path / "j.h5")
    monkeypatch.setattr(sweep_mod.Journal, "clear", lambda self: None)   # as if killed before the clear
    run_study(a, out)
    monkeypatch.undo()
    assert os.listdir(out + ".journal")
    os.unlink(out)                                   # the user deletes the file and runs another config
    capsys.readouterr()
    got = run_study(b, out)
    assert "ignored 1 record" in capsys.readouterr().err
    fresh = run_study(b, tmp_path / "fresh.h5")
    for k, v in fresh["a"].data.items():
        np.testing.assert_array_equal(got["a"].data[k], v, err_msg=k)
    assert not os.path.exists(out + ".journal")


def test_journal_of_a_kept_sweep_is_replayed(tmp_path, monkeypatch):
    """A sweep the config no longer lists still gets its journalled points."""
    out = str(tmp_path / "s.h5")
    monkeypatch.setattr(sweep_mod.Journal, "clear", lambda self: None)
    full = run_study(parse_config(TWO), out)
    monkeypatch.undo()
    root, sweeps = read_study(out)
    sweeps["b"].done[:] = False                      # as if killed before b reached the file
    write_study(out, root, list(sweeps.values()))
    run_study(parse_config(ONE), out)
    _, after = read_study(out)
    assert after["b"].done.all()
    np.testing.assert_array_equal(after["b"].data["m"], full["b"].data["m"])


@pytest.mark.parametrize("failure", [KeyboardInterrupt, WorkersFailed])
def test_interrupted_or_failed_run_keeps_finished_points_in_the_file(tmp_path, monkeypatch, capsys, failure):
    def one_then_fail(tasks, fn, on_result, **kwargs):
        on_result(fn(tasks[0]))
        raise failure("worker processes died 4 times")

    monkeypatch.setattr(executors, "run_tasks", one_then_fail)
    monkeypatch.setattr(sweep_mod, "FLUSH_INTERVAL", 1e6)       # no periodic rewrite during the run
    out = tmp_path / "mc.h5"
    capsys.readouterr()
    assert _run(tmp_path, MC, out) == (130 if failure is KeyboardInterrupt else 1)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    _, sweeps = read_study(out)
    assert sweeps["mc"].done.sum() == 1
    assert len(os.listdir(str(out) + ".journal")) == 1           # kept until a run ends cleanly
    assert not os.path.exists(str(out) + ".lock")
    monkeypatch.undo()
    run_study(parse_config(MC), out)
    assert read_study(out)[1]["mc"].done.all() and not os.path.exists(str(out) + ".journal")


def test_workers_that_keep_dying_raise_one_clear_error():
    with pytest.raises(WorkersFailed, match="died 4 times"):
        executors.run_tasks([0, 0], os._exit, lambda outcome: None, workers=2)


def test_unreachable_scheduler_is_one_line(tmp_path, capsys):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert _run(tmp_path, ONE, tmp_path / "s.h5", "--workers", "2", "--scheduler", "127.0.0.1:9") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--scheduler" in err and "127.0.0.1:9" in err


def test_lock_file_is_removed_but_never_another_writers(tmp_path):
    out = str(tmp_path / "s.h5")
    run_study(parse_config(ONE), out)
    assert not os.path.exists(out + ".lock")
    holder = sweep_mod._lock(out)                  # another writer
    try:
        with pytest.raises(sweep_mod.StudyLocked):
            run_study(parse_config(ONE), out)
        assert os.path.exists(out + ".lock")
    finally:
        sweep_mod._unlock(holder)
    assert not os.path.exists(out + ".lock")
    # a lock taken on a file that its holder then removed is not a lock: take the new one
    first = sweep_mod._lock(out)
    stale = open(out + ".lock")
    sweep_mod._unlock(first)
    second = sweep_mod._lock(out)
    assert os.path.samestat(os.fstat(second.fileno()), os.stat(out + ".lock"))
    sweep_mod._unlock(second)
    stale.close()


def test_plot_checks_out_before_drawing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "s.h5"
    assert _run(tmp_path, ONE, out) == 0
    drawn = []
    monkeypatch.setattr("statmech.plot.read_study", lambda path: drawn.append(path))
    for bad in (tmp_path / "x.foo", tmp_path / "nope" / "x.png"):
        assert main(["plot", str(out), "--out", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--out" in err
    assert drawn == [] and not (tmp_path / "x.foo").exists()


def test_one_point_wide_theory_sweep_is_drawn_as_lines(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import QuadMesh

    from statmech.plot import _theory_panel
    res = run_study(parse_config(ONE.replace("alpha = [0.0, 0.05]", "alpha = [0.05]")), tmp_path / "s.h5")["a"]
    fig, ax = plt.subplots()
    _theory_panel(ax, res, [])
    assert not [c for c in ax.collections if isinstance(c, QuadMesh)]
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), res.coords["T"])
    np.testing.assert_array_equal(line.get_ydata(), res.data["m"][0])
    plt.close(fig)


def test_compare_without_error_bars_gives_null_z_and_strict_json(tmp_path, capsys):
    out = tmp_path / "mc.h5"
    assert _run(tmp_path, MC, out) == 0
    root, sweeps = read_study(out)
    sweeps["mc"].data["m_err"][:] = 0.0            # e.g. deterministic T = 0 dynamics
    write_study(out, root, list(sweeps.values()))
    capsys.readouterr()
    assert main(["compare", str(out), "--json"]) == 0

    def no_constants(name):
        raise AssertionError(f"{name} in JSON output")

    rows = json.loads(capsys.readouterr().out, parse_constant=no_constants)
    assert rows and all(r["z"] is None and r["m_inf_err"] is None for r in rows)
    assert main(["compare", str(out)]) == 0
    assert "z=n/a" in capsys.readouterr().out


def test_clean_run_leaves_only_the_file(tmp_path):
    assert _run(tmp_path, ONE, tmp_path / "s.h5") == 0
    assert sorted(os.listdir(tmp_path)) == ["c.toml", "s.h5"]


def test_a_folder_as_out_is_refused_without_a_lock_file(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    assert _run(tmp_path, ONE, tmp_path / "d") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err and "folder" in err
    assert sorted(os.listdir(tmp_path)) == ["c.toml", "d"]


MODERN = """
[study]
name = "m"
seed = 1
[[sweeps]]
name = "lse"
model = "modern"
lambda = [1.0]
alpha = [0.2, 0.4]
boundary_points = 3
"""


def test_a_file_from_before_a_new_parameter_resumes(tmp_path, capsys):
    """A sweep recorded without a family parameter added since (here modern's approximation and phi_keep) is the
    same sweep when the config leaves that parameter at its default; set to anything else, it is another config."""
    out = tmp_path / "m.h5"
    assert _run(tmp_path, MODERN, out) == 0
    with h5py.File(out, "r+") as fh:
        text = fh["lse"].attrs["sweep_config"]
        text = text.decode() if isinstance(text, bytes) else text
        old = "\n".join(line for line in text.splitlines() if not line.startswith(("approximation", "phi_keep")))
        assert old != text
        fh["lse"].attrs["sweep_config"] = old
    before = read_study(out)[1]["lse"]
    assert _run(tmp_path, MODERN, out) == 0
    _same_sweep(before, read_study(out)[1]["lse"])
    assert _run(tmp_path, MODERN + "phi_keep = 0.5\n", out) != 0
    assert "same config" in capsys.readouterr().err
