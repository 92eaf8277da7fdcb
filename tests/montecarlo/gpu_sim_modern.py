"""Run as ``NUMBA_ENABLE_CUDASIM=1 python gpu_sim_modern.py CASES``: compares the modern-Hopfield samplers
with ``backend="gpu"`` (montecarlo.gpu_modern) under the numba CUDA simulator with the CPU backend; prints one
line per case and exits 1 on the first mismatch. CASES: "quick" or "all".
``python gpu_sim_modern.py ptx`` (without the simulator) instead compiles every kernel to PTX for compute
capability 8.0 with NVVM, no GPU needed (the typing and lowering a real GPU gets); prints "SKIP reason"
and exits 0 where NVVM is missing.

"equal": every record and final state identical bit for bit. That is the claim for the polynomial DAM (integer
arithmetic) at any K, and for the LSE and spherical samplers with K <= 32 (each lane then holds at most one
term and the simulator's stand-in reduction adds the lanes in the CPU's order). With K > 32 the float sums over
mu are added in another order: "close" requires identical spins, overlaps, acceptances and streams (no decision
was borderline) and float records within 1e-12 relative (the rounding of a K-term sum is ~K 1e-16).
"""
import os
import sys
import time
import warnings

PTX = sys.argv[1:] == ["ptx"]
assert PTX or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", "run under the CUDA simulator"
warnings.filterwarnings("ignore", category=RuntimeWarning)   # uint64 wrap-around of xoshiro in numpy scalars

import numpy as np

from hopfield.patterns import random_patterns
from montecarlo import gpu, gpu_modern, modern

RTOL = 1e-12
# The simulator runs a block as 32 Python threads that meet at barriers: a short GIL switch interval makes
# it about 2.5x faster. The first RuntimeWarning raised in a module adds __warningregistry__ to its globals
# (even when ignored), while other threads may be iterating over them (the simulator's swap of the cuda
# module on every device-function call): create the registries before any kernel runs.
sys.setswitchinterval(1e-3)
for _mod in (gpu, gpu_modern):
    vars(_mod).setdefault("__warningregistry__", {})


def _compare(a, b, exact_keys, float_keys, exact):
    same = all(np.array_equal(a[k], b[k]) for k in exact_keys)
    if exact:
        return same and all(np.array_equal(a[k], b[k]) for k in float_keys), "equal"
    close = all(np.allclose(a[k], b[k], rtol=RTOL, atol=RTOL, equal_nan=True) for k in float_keys)
    return same and close, "close"


def _states(X, gen, n=2):
    """xi^1, xi^1 with 2 spins flipped, and n random states (C, N) int8."""
    N = X.shape[0]
    near = X[:, 0].copy()
    near[gen.choice(N, 2, replace=False)] *= -1
    return np.ascontiguousarray(np.vstack([X[:, 0], near, gen.choice((-1, 1), (n, N))]), dtype=np.int8)


def deltas(N=12, Ks=(40,), lams=(2.0,), ns=((4, True),)):
    """The device functions behind the chains, every site of several states: LSE DeltaE_i against
    modern.lse_delta_energies (bit for bit at K <= 32, to 1e-12 above), polynomial numerators against
    modern.poly_delta_numerators (exact integers)."""
    gen = np.random.default_rng(10)
    same, how = True, "equal"
    for K in Ks:
        X = random_patterns(N, K, gen)
        st = _states(X, gen)
        for lam in lams:
            a = np.array([modern.lse_delta_energies(X, lam, s) for s in st])
            b = gpu_modern.lse_delta_energies(X, st, lam)
            if K <= 32:
                same = same and np.array_equal(a, b)
            else:
                same, how = same and np.allclose(a, b, rtol=RTOL, atol=RTOL), "close"
        for n, rect in ns if K == Ks[-1] else ():
            a = np.array([modern.poly_delta_numerators(X, n, s, rectified=rect) for s in st])
            same = same and np.array_equal(a, gpu_modern.poly_delta_numerators(X, st, n, rect))
    return same, how


def accepts(M=2000):
    """The acceptance rule against modern._accept for M (DeltaE, beta, stream) triples: heat bath, Metropolis and
    T = 0 (ties random and frozen), DeltaE in [-3, 3] with exact zeros, infinities and beta DeltaE > 700."""
    from montecarlo.rng import stream_states
    gen = np.random.default_rng(11)
    dE = gen.uniform(-3.0, 3.0, M)
    dE[::4] = 0.0
    dE[1::50] = np.inf
    dE[2::50] = 800.0
    betas = gen.uniform(0.2, 5.0, M)
    same = True
    for dyn, ties in ((0, True), (1, True), (2, True), (2, False)):
        rng = stream_states(12, dyn, range(M))
        ref = rng.copy()
        want = np.empty(M, np.bool_)
        for m in range(M):
            want[m], *st = modern._accept(dE[m], betas[m], dyn, ties, *ref[m])
            ref[m] = st
        got = gpu_modern.accept_decisions(dE, betas, dyn, ties, rng)
        same = same and np.array_equal(want, got) and np.array_equal(ref, rng)
    return same, "equal"


def lse(N=12, K=20, dynamics="heat_bath", schedule="random", ties="random", T=(0.5, 1.0), lam=1.0, sweeps=4,
        shared=True, start="pattern"):
    gen = np.random.default_rng(7)
    X = random_patterns(N, K, gen)
    s0 = X[:, 0] if start == "pattern" else gen.choice((-1, 1), (len(T), N)).astype(np.int8)
    gpu.SHARED_BYTES = 48 * 1024 if shared else 0
    kw = {"sweeps": sweeps, "chains": len(T), "T": list(T), "dynamics": dynamics, "schedule": schedule,
          "ties": ties, "seed": 3, "point": 1}
    a = modern.lse_run(X, lam, spins0=s0, **kw)
    b = modern.lse_run(X, lam, spins0=s0, backend="gpu", **kw)
    return _compare(a, b, ("spins", "S", "acceptance", "m", "max_other"), ("E", "Y"), K <= 32)


def poly(N=12, K=40, n=3, rectified=False, dynamics="heat_bath", schedule="random", ties="random", T=(0.4, 0.8),
         sweeps=4, shared=True):
    gen = np.random.default_rng(8)
    X = random_patterns(N, K, gen)
    s0 = gen.choice((-1, 1), (len(T), N)).astype(np.int8)
    gpu.SHARED_BYTES = 48 * 1024 if shared else 0
    kw = {"sweeps": sweeps, "chains": len(T), "T": list(T), "dynamics": dynamics, "schedule": schedule,
          "ties": ties, "seed": 4, "rectified": rectified}
    a = modern.poly_run(X, n, spins0=s0, **kw)
    b = modern.poly_run(X, n, spins0=s0, backend="gpu", **kw)
    return _compare(a, b, ("spins", "S", "acceptance", "m", "E"), (), True)


def spherical(N=12, K=20, T=(0.3, 0.8), lam=2.0, steps=24, every=12, kernel="lse", log_bulk=None):
    gen = np.random.default_rng(9)
    X = gen.standard_normal((N, K))
    X *= np.sqrt(N) / np.linalg.norm(X, axis=0)
    kw = {"steps": steps, "every": every, "chains": len(T), "T": list(T), "seed": 5, "kernel": kernel,
          "log_bulk": log_bulk}
    a = modern.spherical_run(X, lam, x0=X[:, 0], **kw)
    b = modern.spherical_run(X, lam, x0=X[:, 0], backend="gpu", **kw)
    return _compare(a, b, ("acceptance",), ("phi", "E", "x"), K <= 32)


def retrieval(N=10, alpha=0.3, lam=1.5):
    """The T = 0 driver (K = e^{alpha N} = 20, corrupted start, until a sweep without flips)."""
    kw = {"samples": 2, "corruption": 0.2, "max_sweeps": 4, "seed": 2}
    a = modern.lse_retrieval(N, alpha, lam, **kw)
    b = modern.lse_retrieval(N, alpha, lam, backend="gpu", **kw)
    return a == b, "equal"


def finite_t(ensemble, dynamics, N=10, alpha=0.25, lam=1.0, T=0.5):
    kw = {"ensemble": ensemble, "dynamics": dynamics, "samples": 2, "sweeps": 2, "threshold": 0.5, "seed": 6}
    a = modern.finite_t_retrieval(N, alpha, lam, T, **kw)
    b = modern.finite_t_retrieval(N, alpha, lam, T, backend="gpu", **kw)
    same = all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    return same, "equal"


SWEEPS = """
[study]
seed = 3
[[sweeps]]
name = "t0"
model = "modern"
method = "mc"
lambda = [1.5]
alpha = [0.3]
N = [10]
dynamics = "zero_T"
corruption = 0.2
replicas = 1
samples = 2
sweeps = 4
backend = "{backend}"
[[sweeps]]
name = "ft"
model = "modern"
method = "mc"
ensemble = "{ens}"
lambda = 1.0
alpha = [0.25]
T = [0.5]
N = [10]
dynamics = "{dyn}"
replicas = 1
samples = 2
sweeps = 4
backend = "{backend}"
"""


def sweep(ensemble, dynamics):
    """statmech: a 'modern' MC sweep with ``backend = "gpu"`` passes the backend on (T = 0 and finite T)."""
    from statmech.config import parse_config
    from statmech.mc import mc_point
    vals = []
    for backend in ("numba", "gpu"):
        cfg = parse_config(SWEEPS.format(backend=backend, ens=ensemble, dyn=dynamics))
        vals.append([mc_point(s, (0,) * len(s["dims"]), 0, cfg["study"]["seed"])[0] for s in cfg["sweeps"]])
    same = all(a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
               for a, b in zip(*vals))
    return same, "equal"


QUICK = [(accepts, {}),                               # the acceptance rules
         (deltas, {}),                                  # DeltaE of every site: LSE (K = 40), polynomial n = 4
         (lse, {}),                                     # binary LSE, heat bath, K <= 32: bit for bit
         (lse, {"K": 40, "shared": False, "T": (0.6,)}),  # K > 32, global memory: spins equal, E to rounding
         (poly, {}),                                    # polynomial n = 3, K = 40: integers, bit for bit
         (spherical, {}),                               # spherical Metropolis, K <= 32: bit for bit
         (spherical, {"kernel": "lsr", "lam": 0.3}),    # the LSR energy (b = N lambda = 3.6): bit for bit
         (spherical, {"K": 3, "log_bulk": 20.0})]       # cone/bulk: 3 patterns and a constant, bit for bit
MORE = [(deltas, {"Ks": (20, 70), "lams": (0.05, 1.0, 15.0), "ns": ((2, False), (3, True), (6, False))}),
        (deltas, {"Ks": (20,), "lams": (4.0,), "ns": ((3, False),)}),
        (lse, {"dynamics": "metropolis", "schedule": "permutation", "T": (0.3,)}),
        (lse, {"dynamics": "zero", "schedule": "systematic", "ties": "frozen", "T": (0.0,), "start": "random",
               "lam": 0.5}),
        (lse, {"dynamics": "zero", "ties": "random", "T": (0.0,), "start": "random", "lam": 0.5, "K": 6}),
        (lse, {"K": 48, "dynamics": "metropolis", "lam": 4.0}),
        (poly, {"n": 4, "rectified": True, "dynamics": "metropolis", "schedule": "permutation", "shared": False}),
        (poly, {"n": 2, "dynamics": "zero", "T": (0.0,), "ties": "random", "K": 8}),
        (poly, {"n": 5, "K": 20, "schedule": "systematic"}),
        (spherical, {"K": 40, "T": (0.5,)}),
        (spherical, {"K": 40, "T": (0.5,), "kernel": "lsr", "lam": 0.3}),
        (retrieval, {}),
        (finite_t, {"ensemble": "binary", "dynamics": "metropolis"}),
        (finite_t, {"ensemble": "spherical", "dynamics": "metropolis"}),
        (sweep, {"ensemble": "binary", "dynamics": "heat_bath"}),
        (sweep, {"ensemble": "spherical", "dynamics": "metropolis"})]


def compile_ptx():
    """Every kernel of montecarlo.gpu_modern through NVVM for cc 8.0, with the argument types the drivers pass."""
    from numba import types as t
    from sim_runner import nvvm_cuda

    cuda = nvvm_cuda()
    if cuda is None:
        return True
    from montecarlo import gpu_modern
    k = gpu_modern._kernels()
    i1, i4, i8, f8, u8 = (t.Array(d, 2, "C") for d in (t.int8, t.int32, t.int64, t.float64, t.uint64))
    f8v = t.float64[::1]
    lse = (t.Array(t.int8, 3, "C"), t.int64[::1], i1, i4, f8, u8, i4, t.float64, f8v, t.int64, t.int64, t.boolean,
           t.int64, t.int64, f8, f8, f8, f8, f8)
    poly = (i1, i1, i8, u8, i4, t.int64, t.boolean, t.float64, f8v, t.int64, t.int64, t.boolean, t.int64, t.int64,
            f8, i8, f8)
    sph = (t.Array(t.float64, 3, "C"), t.int64[::1], f8, f8, f8, f8, u8, t.float64, t.int64, t.float64, f8v, f8v, f8v,
           t.int64, t.int64,
           t.int64, f8, f8, f8)
    checks = {"lse_deltas": (i1, i1, i4, f8, t.float64, f8), "poly_nums": (i1, i1, i8, t.int64, t.boolean, i8),
              "accepts": (f8v, f8v, t.int64, t.boolean, u8, t.boolean[::1])}
    for name, sig in [("lse_shared", lse), ("lse_global", lse), ("poly_shared", poly), ("poly_global", poly),
                      ("spherical", sph), *checks.items()]:
        ptx, _ = cuda.compile_ptx(k[name].py_func, sig, cc=(8, 0))
        print(name, f"{len(ptx)} bytes of PTX,", ptx.count("shfl.sync"), "warp shuffles", "compiled", flush=True)
    return True


if __name__ == "__main__":
    if PTX:
        sys.exit(0 if compile_ptx() else 1)
    cases = QUICK + (MORE if sys.argv[1:] == ["all"] else [])
    ok = True
    for fn, kw in cases:
        t = time.perf_counter()
        same, how = fn(**kw)
        print(fn.__name__, kw, f"{time.perf_counter() - t:.1f}s", how if same else "DIFFERENT",
              flush=True)
        ok = ok and same
    sys.exit(0 if ok else 1)
