"""GPU backend of the learning family (montecarlo.gpu_learning) and of multitasking_point: refused cleanly
without a GPU; bit-identical to the CPU path under the numba CUDA simulator (runs everywhere); statistical
agreement with the CPU on a real GPU (skipped without); the config and the sweep hooks pass ``backend``."""

import numpy as np
import pytest
from sim_runner import run_script

from hopfield.validation import ParameterError
from montecarlo.gpu import available
from montecarlo.learning import LearningBatch, learning_dataset, learning_point
from montecarlo.multitasking import multitasking_point

GPU, WHY = available()


def _script(mode, simulator=True):
    return run_script("gpu_sim_learning.py", mode, simulator)


def _simulate(cases):
    lines = _script(cases)
    assert lines and all(line.endswith("equal") for line in lines), lines
    return lines


@pytest.mark.skipif(GPU, reason="a GPU is available here: the backend is not refused")
def test_gpu_backend_refused_with_reason():
    xi, eta = learning_dataset(20, 2, 3, r=0.6)
    for alias in ("gpu", "cupy", "cuda"):
        with pytest.raises(ParameterError, match="backend") as err:
            LearningBatch("supervised", eta, xi, 2, 0.5, r=0.6, backend=alias)
        assert WHY in str(err.value)
    state = LearningBatch("supervised", eta, xi, 2, 0.5, r=0.6).state_dict()
    with pytest.raises(ParameterError, match="backend"):
        LearningBatch.from_state(state, backend="gpu")
    with pytest.raises(ParameterError, match="backend") as err:
        learning_point("unsupervised", 2, 20, 0.5, M=3, rho=0.2, sweeps=10, backend="gpu")
    assert WHY in str(err.value)
    with pytest.raises(ParameterError, match="backend") as err:
        multitasking_point(2, 20, 0.2, 0.3, sweeps=10, backend="gpu")
    assert WHY in str(err.value)


def test_unknown_backend_refused():
    xi, eta = learning_dataset(20, 2, 3, r=0.6)
    with pytest.raises(ParameterError, match="backend"):
        LearningBatch("supervised", eta, xi, 2, 0.5, r=0.6, backend="opencl")
    with pytest.raises(ParameterError, match="backend"):
        learning_point("supervised", 2, 20, 0.5, M=3, rho=0.2, sweeps=10, backend="opencl")
    with pytest.raises(ParameterError, match="backend"):
        multitasking_point(2, 20, 0.2, 0.3, sweeps=10, backend="opencl")


def test_gpu_learning_kernel_equals_cpu_under_simulator():
    """Unsupervised P = 2 (shared-memory overlaps, q pairs), supervised P = 2 Metropolis (global memory),
    supervised P = 4 with a permutation schedule and parallel tempering, unsupervised P = 4 on diluted data; every case also resumes from a
    checkpoint loaded into the GPU batch and compares every site's DeltaE_i; then learning_point and
    multitasking_point with backend="gpu" against the CPU."""
    lines = _simulate("quick")
    assert len(lines) == 5


def test_gpu_learning_kernels_compile_to_ptx():
    """The typing and lowering a real GPU gets (NVVM, cc 8.0), checked without one: the sweep kernels
    (shared and global memory) and the DeltaE kernels of both settings."""
    lines = _script("ptx", simulator=False)
    if lines and lines[0].startswith("SKIP"):
        pytest.skip(lines[0])
    assert len(lines) == 6 and all(line.endswith("compiled") for line in lines), lines


@pytest.mark.slow
def test_gpu_learning_kernel_equals_cpu_under_simulator_all_paths():
    """Unsupervised P = 4, 6, T = 0, Plefka, tempering, the int64 P = 2 sum; supervised P = 4, 6, T = 0,
    Plefka, tempering with two replicas."""
    lines = _simulate("all")
    assert len(lines) == 16


# ------------------------------------------------------------------ config and sweep hooks
def _study(model, backend, extra):
    return f"""
[study]
seed = 3
[[sweeps]]
name = "s"
model = "{model}"
method = "mc"
backend = "{backend}"
{extra}
"""


LEARNING = """setting = "supervised"
P = 2
M = 5
load = "low"
K = 2
rho = [0.2]
T = [0.5]
N = [60]
sweeps = 30
burn_in = 10"""
MULTITASKING = """K = 2
d = [0.2]
T = [0.3]
N = [60]
sweeps = 30"""
DIGITS = """P = [2]
M = [5]
noise = [0.1]
T = [0.0]
sweeps = 5
tests = 10"""


def test_config_backend_per_family(monkeypatch):
    """backend = "gpu" passes the model check for learning, digits and multitasking; on a machine without
    a GPU it is refused with the reason; with one (pretended here) the sweep carries it."""
    from statmech.config import ConfigError, parse_config
    for model, extra in (("learning", LEARNING), ("multitasking", MULTITASKING), ("digits", DIGITS)):
        assert parse_config(_study(model, "numba", extra))["sweeps"][0]["backend"] == "numba"
        if not GPU:
            with pytest.raises(ConfigError, match="on this machine"):
                parse_config(_study(model, "gpu", extra))
    import montecarlo.gpu
    monkeypatch.setattr(montecarlo.gpu, "available", lambda: (True, "pretended GPU"))
    for model, extra in (("learning", LEARNING), ("multitasking", MULTITASKING), ("digits", DIGITS)):
        assert parse_config(_study(model, "cuda", extra))["sweeps"][0]["backend"] == "cuda"


class _Called(Exception):
    pass


@pytest.mark.parametrize("model, module, func, extra", [
    ("learning", "montecarlo.learning", "learning_point", LEARNING),
    ("multitasking", "montecarlo.multitasking", "multitasking_point", MULTITASKING),
    ("digits", "statmech.digits", "digits_point", DIGITS)], ids=["learning", "multitasking", "digits"])
def test_sweep_hook_passes_backend(monkeypatch, model, module, func, extra):
    """statmech.models: the family's simulate hook hands the sweep's backend to the Monte Carlo call."""
    import importlib

    import montecarlo.gpu
    from statmech.config import parse_config
    from statmech.models import FAMILIES
    monkeypatch.setattr(montecarlo.gpu, "available", lambda: (True, "pretended GPU"))
    sweep = parse_config(_study(model, "gpu", extra))["sweeps"][0]
    seen = {}

    def record(*args, **kwargs):
        seen.update(kwargs)
        raise _Called

    monkeypatch.setattr(importlib.import_module(module), func, record)
    point = {"N": 60, "T": 0.5, "rho": 0.2, "alpha": 0.0, "d": 0.2, "P": 2, "M": 5, "noise": 0.1}
    with pytest.raises(_Called):
        FAMILIES[model].simulate(sweep, point, 0, 3)
    assert seen["backend"] == "gpu"


@pytest.mark.skipif(GPU, reason="a GPU is available here: the backend is not refused")
def test_digits_point_refuses_gpu_before_work():
    from statmech.digits import digits_point
    with pytest.raises(ParameterError, match="backend") as err:
        digits_point("supervised", 2, 5, 0.1, 0.0, tests=5, backend="gpu")
    assert WHY in str(err.value)
    with pytest.raises(ParameterError, match="backend"):
        digits_point("supervised", 2, 5, 0.1, 0.0, tests=5, backend="opencl")


# ------------------------------------------------------------------ on a real GPU
needs_gpu = pytest.mark.skipif(not GPU, reason=f"no GPU backend here: {WHY}")


@needs_gpu
@pytest.mark.parametrize("setting", ["supervised", "unsupervised"])
def test_gpu_zero_temperature_trajectories_equal_cpu(setting):
    """T = 0 decisions compare exact integer-valued D_i with 0 (no exp): the trajectories are identical."""
    xi, eta = learning_dataset(300, 6, 5, r=0.5, seed=2)
    kw = dict(r=0.5, replicas=4, dynamics="zero", init="random", seed=3)
    a = LearningBatch(setting, eta, xi, 2, 0.0, **kw)
    b = LearningBatch(setting, eta, xi, 2, 0.0, backend="gpu", **kw)
    ra, rb = a.run(5), b.run(5)
    for k in ("spins", "Sxi", "rng", "acc_total", "V" if setting == "supervised" else "S"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert np.array_equal(ra["E"], rb["E"]) and np.array_equal(ra["m"], rb["m"])


@needs_gpu
@pytest.mark.parametrize("setting, P, N, K, M, T, tempering", [
    ("supervised", 2, 400, 3, 10, 0.3, False),
    ("unsupervised", 4, 60, 2, 5, 0.5, False),
    ("supervised", 4, 60, 2, 5, 0.4, True)])
def test_gpu_learning_point_agrees_with_cpu(setting, P, N, K, M, T, tempering):
    """learning_point at retrieval points: |x_gpu - x_cpu| within 4 combined standard errors for m and E."""
    kw = dict(M=M, rho=0.2, K=K, sweeps=300, burn_in=100, replicas=4, samples=2, seed=11, tempering=tempering)
    cpu = learning_point(setting, P, N, T, **kw)
    gpu = learning_point(setting, P, N, T, backend="gpu", **kw)
    assert gpu["backend"] == "gpu"
    for key in ("m", "E"):
        err = np.hypot(cpu[key + "_err"], gpu[key + "_err"]) + 1e-12
        assert abs(cpu[key] - gpu[key]) < 4 * err, (key, cpu[key], gpu[key], err)


@needs_gpu
def test_gpu_multitasking_point_agrees_with_cpu():
    kw = dict(sweeps=300, burn_in=100, replicas=2, samples=4, seed=5)
    cpu = multitasking_point(3, 400, 0.3, 0.2, **kw)
    gpu = multitasking_point(3, 400, 0.3, 0.2, backend="gpu", **kw)
    for key in ("m1", "m_mean", "E"):
        err = np.hypot(cpu[key + "_err"], gpu[key + "_err"]) + 1e-12
        assert abs(cpu[key] - gpu[key]) < 4 * err, (key, cpu[key], gpu[key], err)
