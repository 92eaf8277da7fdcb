"""GPU backend of the modern-Hopfield samplers (montecarlo.gpu_modern): refused cleanly without a GPU; under the
numba CUDA simulator the CPU's trajectories (bit for bit where the arithmetic allows it, see gpu_sim_modern.py);
the kernels compile to PTX; statistical agreement with the CPU on a real GPU (skipped without)."""

import numpy as np
import pytest
from sim_runner import run_script

from hopfield.patterns import random_patterns
from hopfield.validation import ParameterError
from montecarlo import gpu_modern, modern
from montecarlo.gpu import available
from montecarlo.measure import combine_chains, summarize_series

GPU, WHY = available()


def _script(mode, simulator=True):
    return run_script("gpu_sim_modern.py", mode, simulator)


def _simulate(mode):
    lines = _script(mode)
    assert lines and all(line.endswith(("equal", "close")) for line in lines), lines


def _calls(backend):
    X = random_patterns(10, 8, np.random.default_rng(0))
    return [lambda: modern.lse_run(X, 1.0, 0.5, X[:, 0], sweeps=1, backend=backend),
            lambda: modern.poly_run(X, 3, 0.5, X[:, 0], sweeps=1, backend=backend),
            lambda: modern.spherical_run(X.astype(float), 1.0, 0.5, X[:, 0], steps=10, backend=backend),
            lambda: modern.lse_retrieval(10, 0.2, 1.0, samples=1, backend=backend),
            lambda: modern.finite_t_retrieval(10, 0.2, 1.0, 0.5, samples=1, sweeps=2, threshold=0.5,
                                              backend=backend)]


@pytest.mark.skipif(GPU, reason="a GPU is available here: the backend is not refused")
def test_gpu_backend_refused_with_reason():
    for call in _calls("gpu"):
        with pytest.raises(ParameterError, match="backend") as err:
            call()
        assert WHY in str(err.value)


def test_unknown_backend_refused():
    for call in _calls("opencl"):
        with pytest.raises(ParameterError, match="backend"):
            call()


def test_modern_sweep_admits_the_gpu_backend():
    """statmech: model 'modern' takes backend = "gpu" (refused only where no GPU backend runs, with the reason)."""
    from statmech.config import ConfigError, parse_config
    text = """
[[sweeps]]
name = "t0"
model = "modern"
method = "mc"
lambda = [1.5]
alpha = [0.3]
N = [10]
dynamics = "zero_T"
samples = 2
replicas = 1
sweeps = 4
backend = "gpu"
"""
    if GPU:
        assert parse_config(text)["sweeps"][0]["backend"] == "gpu"
    else:
        with pytest.raises(ConfigError, match="on this machine") as err:
            parse_config(text)
        assert WHY in str(err.value)


def test_gpu_kernels_equal_cpu_under_simulator():
    """LSE heat bath with K <= 32 (shared memory: bit for bit) and K = 40 (global memory: the float sums over mu
    in another order, spins equal, energies to 1e-12); polynomial n = 3 (integers: bit for bit); spherical
    Metropolis with K <= 32 (bit for bit)."""
    _simulate("quick")


def test_gpu_kernels_compile_to_ptx():
    """The typing and lowering a real GPU gets (NVVM, cc 8.0), checked without one."""
    lines = _script("ptx", simulator=False)
    if lines and lines[0].startswith("SKIP"):
        pytest.skip(lines[0])
    assert len(lines) == 8 and all(line.endswith("compiled") for line in lines), lines


@pytest.mark.slow
def test_gpu_kernels_equal_cpu_under_simulator_all_paths():
    """Metropolis, T = 0 (ties frozen and random), permutation and systematic schedules, n = 2, 4 (rectified), 5,
    global memory, spherical K > 32, and the drivers lse_retrieval and finite_t_retrieval (both ensembles)."""
    _simulate("all")


needs_gpu = pytest.mark.skipif(not GPU, reason=f"no GPU backend here: {WHY}")


def _mean_err(series):
    """Mean over chains with independent streams and its standard error (the spread of the chain means)."""
    mean, err, _, _ = combine_chains([summarize_series(x) for x in series], groups=list(range(len(series))))
    return mean, err


def _agree(a, b, key, burn):
    ma, ea = _mean_err(a[key][:, burn:])
    mb, eb = _mean_err(b[key][:, burn:])
    assert abs(ma - mb) < 4 * np.hypot(ea, eb) + 1e-12, (key, ma, ea, mb, eb)


@needs_gpu
def test_gpu_delta_energies_match_cpu():
    """The device functions behind the chains on a GPU: polynomial numerators exact, LSE DeltaE to rounding."""
    from montecarlo import gpu_modern
    gen = np.random.default_rng(0)
    X = random_patterns(50, 3000, gen)
    st = np.ascontiguousarray(np.vstack([X[:, 0], gen.choice((-1, 1), (7, 50))]), dtype=np.int8)
    for lam in (0.1, 1.0, 10.0):
        a = np.array([modern.lse_delta_energies(X, lam, s) for s in st])
        np.testing.assert_allclose(gpu_modern.lse_delta_energies(X, st, lam), a, rtol=1e-10, atol=1e-10)
    for n, rect in ((2, False), (3, True), (4, False)):
        a = np.array([modern.poly_delta_numerators(X, n, s, rectified=rect) for s in st])
        assert np.array_equal(gpu_modern.poly_delta_numerators(X, st, n, rect), a)


@needs_gpu
def test_gpu_poly_zero_temperature_trajectories_equal_cpu():
    """T = 0 decisions are signs of exact integers (no exp/log): identical trajectories on a GPU."""
    X = random_patterns(200, 300, np.random.default_rng(1))
    s0 = np.random.default_rng(2).choice((-1, 1), (8, 200)).astype(np.int8)
    kw = {"sweeps": 5, "chains": 8, "dynamics": "zero", "seed": 3}
    a, b = (modern.poly_run(X, 3, 0.0, s0, backend=be, **kw) for be in ("numba", "gpu"))
    for k in ("spins", "S", "m", "E", "acceptance"):
        assert np.array_equal(a[k], b[k]), k


@needs_gpu
@pytest.mark.parametrize("K", [60, 5000])           # shared and global memory
def test_gpu_lse_agrees_with_cpu_statistically(K):
    X = random_patterns(40, K, np.random.default_rng(4))
    kw = {"sweeps": 400, "chains": 16, "T": 0.8, "seed": 5}
    a, b = (modern.lse_run(X, 0.5, spins0=X[:, 0], backend=be, **kw) for be in ("numba", "gpu"))
    for key in ("m", "E", "Y"):
        _agree(a, b, key, 100)


@needs_gpu
def test_gpu_poly_agrees_with_cpu_statistically():
    X = random_patterns(60, 100, np.random.default_rng(6))
    kw = {"sweeps": 400, "chains": 16, "T": 0.5, "seed": 7, "dynamics": "metropolis"}
    a, b = (modern.poly_run(X, 4, spins0=X[:, 0], backend=be, **kw) for be in ("numba", "gpu"))
    for key in ("m", "E"):
        _agree(a, b, key, 100)


@needs_gpu
@pytest.mark.parametrize("kernel,lam,log_bulk", [("lse", 2.0, None), ("lsr", 3.41 / 30, None), ("lse", 1.0, 25.0)])
def test_gpu_spherical_agrees_with_cpu_statistically(kernel, lam, log_bulk):
    gen = np.random.default_rng(8)
    X = gen.standard_normal((30, 200))
    X *= np.sqrt(30) / np.linalg.norm(X, axis=0)
    kw = {"steps": 30 * 300, "every": 30, "chains": 16, "T": 0.4, "seed": 9, "kernel": kernel, "log_bulk": log_bulk}
    a, b = (modern.spherical_run(X, lam, x0=X[:, 0], backend=be, **kw) for be in ("numba", "gpu"))
    for key in ("phi", "E"):
        _agree(a, b, key, 100)


def test_gpu_check_helpers_validate_before_launch():
    """The device has no bounds checks: the GPU twins of the CPU check helpers refuse what the CPU ones
    refuse, before any kernel is built or launched (so this runs without a GPU)."""
    X = np.where(np.random.default_rng(0).random((12, 5)) < 0.5, -1, 1).astype(np.int8)
    st = X[:, :2].T.copy()
    with pytest.raises(ParameterError, match="n"):
        gpu_modern.poly_delta_numerators(X, st, 40, False)        # int64 overflow on the CPU's range check
    with pytest.raises(ParameterError, match="lambda"):
        gpu_modern.lse_delta_energies(X, st, -1.0)
    with pytest.raises(ParameterError, match="spins0"):
        gpu_modern.lse_delta_energies(X, st[:, :7], 1.0)        # states of the wrong length
