"""Fault tolerance of the sweep runner: killed driver, killed worker, second writer, bad output."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from statmech import sweep as sweep_mod
from statmech.config import ConfigError, parse_config
from statmech.store import read_study
from statmech.sweep import StudyLocked, _lock, run_study

MC = """
[study]
name = "faults"
seed = 11
[[sweeps]]
name = "mc"
method = "mc"
P = 2
alpha = [0.02, 0.05]
T = [0.2, 0.4, 0.6, 0.8]
N = [400, 600]
sweeps = 60
burn_in = 10
samples = 1
"""
RUN = ("import sys; from statmech.config import load_config; from statmech.sweep import run_study; "
       "run_study(load_config(sys.argv[1]), sys.argv[2], workers=int(sys.argv[3]), scheduler=sys.argv[4], "
       "flush_interval=float(sys.argv[5]))")


def _equal(a_path, b_path):
    _, a = read_study(a_path)
    _, b = read_study(b_path)
    for name in b:
        assert a[name].done.all()
        for key in b[name].data:
            np.testing.assert_array_equal(a[name].data[key], b[name].data[key], err_msg=key)


def _wait_for(pred, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_with_unflushed_journal_resumes_bit_for_bit(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(MC)
    killed, clean = tmp_path / "killed.h5", tmp_path / "clean.h5"
    # flush interval far longer than the run: finished tasks live only in the journal when killed
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(cfg), str(killed), "1", "local", "1e6"])
    journal = str(killed) + ".journal"
    assert _wait_for(lambda: os.path.isdir(journal) and len(os.listdir(journal)) >= 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, partial = read_study(killed)
    assert not partial["mc"].done.any()            # nothing flushed to the study file yet...
    assert len(os.listdir(journal)) >= 3           # ...but the finished tasks are on disk
    config = parse_config(MC)
    run_study(config, killed)
    run_study(config, clean)
    _equal(killed, clean)
    assert not os.path.exists(journal)


def _children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def _spawned_workers(pid):
    found = []
    for child in _children(pid):
        try:
            cmd = open(f"/proc/{child}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if "spawn_main" in cmd:
            found.append(child)
        found.extend(_spawned_workers(child))
    return found


@pytest.mark.parametrize("scheduler", ["local", "dask"])
def test_killed_worker_does_not_stop_the_sweep(tmp_path, scheduler):
    if scheduler == "dask":
        pytest.importorskip("distributed", reason="the dask scheduler needs the 'cluster' extra")
    cfg = tmp_path / "c.toml"
    cfg.write_text(MC)
    out, clean = tmp_path / "out.h5", tmp_path / "clean.h5"
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(cfg), str(out), "2", scheduler, "0.1"])
    journal = str(out) + ".journal"
    assert _wait_for(lambda: os.path.isdir(journal) and len(os.listdir(journal)) >= 2)
    workers = _spawned_workers(proc.pid)
    assert workers, "no worker process found"
    os.kill(workers[-1], signal.SIGKILL)
    assert proc.wait(timeout=300) == 0
    run_study(parse_config(MC), clean)
    _equal(out, clean)


def test_second_writer_is_refused(tmp_path, capsys):
    out = str(tmp_path / "s.h5")
    holder = _lock(out)                                # another process would hold this
    try:
        with pytest.raises(StudyLocked, match="lock"):
            run_study(parse_config(MC), out)
        cfg = tmp_path / "c.toml"
        cfg.write_text(MC)
        code = subprocess.run([sys.executable, "-m", "statmech.cli", "run", str(cfg), "--out", out],
                              capture_output=True, text=True)
        assert code.returncode == 2 and "lock" in code.stderr and "Traceback" not in code.stderr
    finally:
        holder.close()
    run_study(parse_config(MC.replace("N = [400, 600]", "N = [100]")), out)   # free again


def test_unwritable_output_fails_before_work(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(sweep_mod, "run_task", lambda task: calls.append(task))
    with pytest.raises(ConfigError, match="--out"):
        run_study(parse_config(MC), "/proc/statmech-cannot-write-here.h5")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sweep_mod, "write_study", disk_full)
    with pytest.raises(ConfigError, match="No space left"):
        run_study(parse_config(MC), tmp_path / "full.h5")
    assert calls == []


def test_study_file_rewrites_take_a_bounded_share_of_the_run(tmp_path, monkeypatch):
    """Default flushing: the next rewrite waits 1 / FLUSH_SHARE times the last one's duration; an
    explicit flush_interval = 0 rewrites after every task (what the SIGKILL tests rely on)."""
    writes = []
    real_write, real_task = sweep_mod.write_study, sweep_mod.run_task

    def timed_write(*args, **kwargs):   # at least 0.1 s: the spacing then exceeds a task's 0.1 s
        start = time.monotonic()
        time.sleep(0.1)
        real_write(*args, **kwargs)
        writes.append((start, time.monotonic()))

    def slow_task(task):
        time.sleep(0.1)
        return real_task(task)

    monkeypatch.setattr(sweep_mod, "write_study", timed_write)
    monkeypatch.setattr(sweep_mod, "run_task", slow_task)
    monkeypatch.setattr(sweep_mod, "FLUSH_INTERVAL", 0.0)
    monkeypatch.setattr(sweep_mod, "FLUSH_SHARE", 0.5)
    config = parse_config(MC)
    n_tasks = len(sweep_mod.plan_tasks(config, {"mc": sweep_mod._new_result(config["sweeps"][0])}))
    run_study(config, tmp_path / "adaptive.h5")
    # writes[0] precedes the run, writes[-1] ends it, writes[1] follows the first task
    in_run = writes[1:-1]
    assert len(in_run) >= 2
    for a, b in zip(in_run, in_run[1:]):
        assert b[0] - a[1] >= (a[1] - a[0]) / 0.5 - 1e-3     # the wait after a write of a[1] - a[0]
    assert len(in_run) < n_tasks / 2
    writes.clear()
    small = parse_config(MC.replace("N = [400, 600]", "N = [400]"))
    run_study(small, tmp_path / "every.h5", flush_interval=0.0)
    assert len(writes) == n_tasks // 2 + 2
