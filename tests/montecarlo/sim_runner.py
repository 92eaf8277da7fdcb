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


def nvvm_cuda():
    """numba.cuda set up to compile kernels to PTX for compute capability 8.0 on a machine without a GPU (the
    typing and lowering a real GPU gets), or None, after printing "SKIP reason", where NVVM is missing."""
    import types

    import numba.cuda.dispatcher as disp
    from numba import cuda
    from numba.cuda.cudadrv import nvvm
    try:
        nvvm.NVVM()
    except (ImportError, OSError, RuntimeError) as exc:
        print("SKIP NVVM not available:", exc)
        return None
    # device functions are compiled for the current device's compute capability: there is none here
    disp.get_current_device = lambda: types.SimpleNamespace(compute_capability=(8, 0))
    return cuda
