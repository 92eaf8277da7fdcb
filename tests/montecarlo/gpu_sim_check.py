"""Run as ``NUMBA_ENABLE_CUDASIM=1 python gpu_sim_check.py CASES``: compares ChainBatch(backend="gpu") under
the numba CUDA simulator with the CPU backend, bit for bit (states and records); prints one line per case
and exits 1 on the first mismatch. CASES: "quick" or "all".

``python gpu_sim_check.py ptx`` (without the simulator) instead compiles the sweep kernels of montecarlo.gpu
through NVVM for compute capability 8.0 (the typing, lowering and inline PTX a real GPU gets); prints "SKIP
reason" and exits 0 where NVVM is missing."""
import os
import sys
import warnings

PTX = sys.argv[1:] == ["ptx"]
assert PTX or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", "run under the CUDA simulator"
warnings.filterwarnings("ignore", category=RuntimeWarning)   # uint64 wrap-around of xoshiro in numpy scalars

import numpy as np  # noqa: E402

from hopfield.patterns import random_patterns  # noqa: E402
from montecarlo import gpu  # noqa: E402
from montecarlo.sampler import ChainBatch  # noqa: E402

# the simulator runs a block as 32 Python threads meeting at barriers: a short GIL switch interval makes it
# faster; a module's first RuntimeWarning adds __warningregistry__ to its globals while other simulated
# threads may iterate over them (the simulator swaps the module's cuda global): create it up front
sys.setswitchinterval(1e-3)
vars(gpu).setdefault("__warningregistry__", {})

# (P, dilution, dynamics, schedule, temperatures, tempering, replicas, shared memory for the overlaps[, K,
#  packed P = 2 layout])
QUICK = [(2, 0.0, "heat_bath", "random", [0.5], False, 2, True),
         (4, 0.0, "metropolis", "random", [0.6], False, 1, True),
         (3, 0.3, "heat_bath", "permutation", [0.4], False, 1, False),
         (2, 0.0, "heat_bath", "random", [0.3, 0.8], True, 1, True),
         (2, 0.2, "heat_bath", "random", [0.4], False, 1, False, 131),          # padded, 2 words per lane
         (2, 0.0, "metropolis", "random", [0.5], False, 1, True, 4, False)]     # P = 2 without the packing
MORE = [(2, 0.3, "metropolis", "sequential", [0.5], False, 2, True),
        (2, 0.0, "zero", "random", [0.0], False, 2, True),
        (4, 0.0, "heat_bath", "random", [0.6], False, 2, False),
        (4, 0.3, "heat_bath", "random", [0.6], False, 1, True),
        (5, 0.0, "metropolis", "random", [0.5], False, 1, True),
        (2, 0.0, "heat_bath", "random", [0.3, 0.6, 1.0], True, 2, True),
        (2, 0.0, "zero", "random", [0.0], False, 2, True, 1100)]               # 9 packed words a lane


def check(P, dil, dyn, sched, temps, pt, reps, shared, K=4, packed=True, N=16, sweeps=2):
    rng = np.random.default_rng(3)
    xi = random_patterns(N, K, rng)
    if dil:
        xi = np.where(rng.random((N, K)) < dil, 0, xi).astype(np.int8)
    kw = dict(replicas=reps, dynamics=dyn, schedule=sched, tempering=pt, seed=5, init="random")
    a = ChainBatch(xi, P, temps, **kw)
    b = ChainBatch(xi, P, temps, backend="gpu", **kw)
    gpu.SHARED_BYTES = 48 * 1024 if shared else 0
    gpu.PACKED = packed
    a.run(sweeps)
    b.run(1)          # two calls: the device state persists between them
    b.run(sweeps - 1)
    ra, rb = a.series(), b.series()
    keys = ("spins", "S", "rng", "acc_total", "perm", "cbeta", "swap_rng", "swap_acc")
    same = all(np.array_equal(getattr(a, k), getattr(b, k)) for k in keys)
    same = same and all(np.array_equal(ra[k], rb[k]) for k in ra) and b.check_overlaps()
    # a checkpoint loaded into the GPU batch replaces its device state
    a2 = ChainBatch(xi, P, temps, **kw)
    a2.run(1)
    b.load_state(a2.state_dict())
    a2.run(1)
    b.run(1)
    same = same and all(np.array_equal(getattr(a2, k), getattr(b, k)) for k in keys)
    print(P, dil, dyn, sched, temps, pt, reps, shared, K, packed, "equal" if same else "DIFFERENT", flush=True)
    return same


def compile_ptx():
    """The shared- and global-memory sweep kernels through NVVM, with the argument types DeviceChains passes
    (P, the packed P = 2 layout, dynamics and schedule are run-time arguments of the same kernels)."""
    import numba
    from sim_runner import nvvm_cuda

    cuda = nvvm_cuda()
    if cuda is None:
        return True
    k = gpu._kernels()
    b = ChainBatch(random_patterns(20, 4, np.random.default_rng(0)), 2, [0.5], replicas=2)
    C, N = b.C, b.N
    rec = np.zeros((C, 3))
    args = (b.patterns, np.zeros((1, 1, 1), np.int32), True, np.zeros((1, 1), np.int32), b.nrow, b.ncol, b.pidx,
            b.spins, b.S.astype(np.int32), b.rng, np.zeros(C), np.zeros((C, N), np.int32), b.P, b.scale, 0, 0, 0,
            False, True, b.coef, b.coef.astype(np.float64), 3, True, b.acc_total, rec, rec, rec,
            np.zeros((C, 3, N), np.int8))
    sig = tuple(numba.typeof(x) for x in args)
    for name in ("shared", "global"):
        ptx, _ = cuda.compile_ptx(k[name].py_func, sig, cc=(8, 0))
        print(f"{name}: {len(ptx)} bytes of PTX,", ptx.count("dp2a.lo.u32.s32"), "dp2a.lo,",
              ptx.count("shfl.sync"), "warp shuffles", "compiled", flush=True)
    return True


if __name__ == "__main__":
    if PTX:
        sys.exit(0 if compile_ptx() else 1)
    cases = QUICK + (MORE if sys.argv[1:] == ["all"] else [])
    sys.exit(0 if all(check(*c) for c in cases) else 1)
