"""Runs a GPU check script of this folder in a subprocess (the CUDA simulator must be switched on
through NUMBA_ENABLE_CUDASIM before numba.cuda is first imported, hence a fresh interpreter)."""
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def run_script(script, mode, simulator=True):
    """stdout lines of ``python HERE/script mode`` (asserting exit status 0), under the simulator or not."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")
    if simulator:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    else:
        env.pop("NUMBA_ENABLE_CUDASIM", None)
    out = subprocess.run([sys.executable, str(HERE / script), mode], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=1800, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()
