"""GPU backend (montecarlo.gpu): refused cleanly without a GPU; bit-identical to the CPU path under the
numba CUDA simulator (runs everywhere); statistical agreement with the CPU on a real GPU (skipped without)."""
import numpy as np
import pytest
from sim_runner import run_script

from hopfield import random_patterns
from hopfield.validation import ParameterError
from montecarlo import ChainBatch, storage_point
from montecarlo.gpu import available

GPU, WHY = available()


def _simulate(cases):
    lines = run_script("gpu_sim_check.py", cases)
    assert lines and all(line.endswith("equal") for line in lines), lines


@pytest.mark.skipif(GPU, reason="a GPU is available here: the backend is not refused")
def test_gpu_backend_refused_with_reason():
    xi = random_patterns(20, 2, np.random.default_rng(0))
    with pytest.raises(ParameterError, match="backend") as err:
        ChainBatch(xi, 2, [0.5], backend="gpu")
    assert WHY in str(err.value)


def test_gpu_kernel_equals_cpu_under_simulator():
    """P = 2 (shared-memory overlaps, q pairs), P = 4 Metropolis (the CPU's float32-filter criterion),
    P = 3 diluted with a permutation schedule (global-memory overlaps), P = 2 with tempering."""
    _simulate("quick")


def test_gpu_kernels_compile_to_ptx():
    """The typing, lowering and inline PTX (dp2a of the packed P = 2 layout) a real GPU gets, checked without
    one: the shared- and global-memory sweep kernels through NVVM for compute capability 8.0."""
    lines = run_script("gpu_sim_check.py", "ptx", simulator=False)
    if lines and lines[0].startswith("SKIP"):
        pytest.skip(lines[0])
    assert len(lines) == 2 and all(line.endswith("compiled") and " 0 dp2a" not in line for line in lines), lines


@pytest.mark.slow
def test_gpu_kernel_equals_cpu_under_simulator_all_paths():
    _simulate("all")


needs_gpu = pytest.mark.skipif(not GPU, reason=f"no GPU backend here: {WHY}")


@needs_gpu
def test_gpu_zero_temperature_trajectories_equal_cpu():
    """T = 0 decisions are integer comparisons (no exp/log): the trajectories are identical."""
    xi = random_patterns(500, 40, np.random.default_rng(1))
    kw = dict(replicas=4, dynamics="zero", init="random", seed=3)
    a, b = ChainBatch(xi, 2, [0.0], **kw), ChainBatch(xi, 2, [0.0], backend="gpu", **kw)
    ra, rb = a.run(5), b.run(5)
    assert np.array_equal(a.spins, b.spins) and np.array_equal(a.S, b.S) and np.array_equal(a.rng, b.rng)
    assert np.array_equal(ra["E"], rb["E"])


@needs_gpu
@pytest.mark.parametrize("P, alpha, T, N", [(2, 0.05, 0.1, 2000), (2, 0.05, 0.4, 2000), (4, 0.005, 0.6, 80)])
def test_gpu_agrees_with_cpu_statistically(P, alpha, T, N):
    """The validation points of the Monte Carlo issue: |m_gpu - m_cpu| within 4 combined standard errors."""
    kw = dict(sweeps=300, burn_in=100, replicas=4, samples=2, seed=11)
    cpu = storage_point(P, N, alpha, T, **kw)
    gpu = storage_point(P, N, alpha, T, backend="gpu", **kw)
    err = np.hypot(cpu["m_err"], gpu["m_err"]) + 1e-12
    assert abs(cpu["m"] - gpu["m"]) < 4 * err, (cpu["m"], gpu["m"], err)
    assert abs(cpu["E"] - gpu["E"]) < 4 * np.hypot(cpu["E_err"], gpu["E_err"]) + 1e-12


class _SmallGPU:
    """Stands in for numba.cuda on a GPU with ``free`` bytes free."""

    def __init__(self, free):
        self.free = free

    def current_context(self):
        free = self.free
        return type("Ctx", (), {"get_memory_info": lambda self: (free, 4 * free)})()


def test_gpu_memory_refused_before_allocation(monkeypatch):
    """Chains whose device arrays exceed the GPU's free memory are refused (naming the chains), before any
    kernel is built or array allocated, for every family's device state."""
    from montecarlo import gpu, gpu_learning, gpu_modern
    from montecarlo.learning import LearningBatch, learning_dataset

    def never():
        raise AssertionError("kernels built before the memory check")

    monkeypatch.setattr(gpu, "available", lambda: (True, "a small test GPU"))
    monkeypatch.setattr(gpu, "_kernels", never)
    monkeypatch.setattr(gpu_learning, "_kernels", never)
    monkeypatch.setattr(gpu_modern, "_kernels", never)
    batch = ChainBatch(random_patterns(500, 40, np.random.default_rng(0)), 2, [0.5], replicas=4)
    xi, eta = learning_dataset(300, 6, 5, r=0.5, seed=2)
    learn = LearningBatch("supervised", eta, xi, 2, 0.5, r=0.5, replicas=4)
    monkeypatch.setattr(gpu, "_import_cuda", lambda: _SmallGPU(1000))
    with pytest.raises(ParameterError, match="chains = 4 .*GiB free"):
        gpu.DeviceChains(batch)
    with pytest.raises(ParameterError, match="chains = 4"):
        gpu_learning.DeviceLearning(learn)
    with pytest.raises(ParameterError, match="chains = 8"):
        gpu_modern._launch(None, 8, 0, [np.zeros((8, 500))], ())
    # with room to spare the check passes (and the next step, building the kernels, is reached)
    monkeypatch.setattr(gpu, "_import_cuda", lambda: _SmallGPU(10 ** 9))
    with pytest.raises(AssertionError, match="kernels built"):
        gpu.DeviceChains(batch)


def _shared_arrays_from_threads(shared, n=8):
    import threading
    barrier, got = threading.Barrier(n), []

    def worker():
        barrier.wait()
        got.append(shared.array(32, np.int32))     # one source line for every thread, as in a kernel

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def test_simulator_shared_array_allocated_once_per_line(monkeypatch):
    """numba's CUDA simulator allocates a static shared array on its first call with an unlocked check-then-set:
    threads arriving together can get different arrays (a reduction then reads uninitialised memory: the rare
    simulator-check failures on a loaded machine). montecarlo.gpu serialises it; with the allocation slowed down,
    the plain simulator hands out several arrays and the locked one a single array."""
    import time

    from numba.cuda.simulator import kernelapi

    from montecarlo import gpu
    cls = kernelapi.FakeCUDAShared
    monkeypatch.setattr(cls, "array", cls.array)                 # restored after the test
    monkeypatch.setattr(cls, "_allocation_lock", getattr(cls, "_allocation_lock", None), raising=False)
    empty = np.empty
    monkeypatch.setattr(np, "empty", lambda *a, **k: (time.sleep(0.02), empty(*a, **k))[1])
    # (numba 0.68's simulator as shipped hands out 8 different arrays here)
    gpu._lock_simulator_shared_arrays()
    got = _shared_arrays_from_threads(cls(0))
    assert len(got) == 8 and len({id(a) for a in got}) == 1
