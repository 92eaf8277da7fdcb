"""Run as ``NUMBA_ENABLE_CUDASIM=1 python gpu_sim_learning.py CASES``: compares LearningBatch(backend="gpu")
(montecarlo.gpu_learning) under the numba CUDA simulator with the CPU backend, bit for bit (spins, overlaps,
streams, counters, tempering state, every record and every site's DeltaE_i), including a checkpoint loaded
into the GPU batch; then learning_point and multitasking_point with backend="gpu" against the CPU (equal
dicts). Prints one line per case and exits 1 on the first mismatch. CASES: "quick" or "all".
``python gpu_sim_learning.py ptx`` (without the simulator) instead compiles every kernel of
montecarlo.gpu_learning to PTX for compute capability 8.0 with NVVM, no GPU needed (the typing and lowering a
real GPU gets); prints "SKIP reason" and exits 0 where NVVM is missing.

Bit for bit holds here because the cases are tiny: every term and partial sum of D_i and H is an integer
below 2^53 (the order of the float64 sums does not matter), and the simulator's exp is the CPU's libm.
"""
import os
import sys
import warnings

PTX = sys.argv[1:] == ["ptx"]
assert PTX or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", "run under the CUDA simulator"
warnings.filterwarnings("ignore", category=RuntimeWarning)   # uint64 wrap-around of xoshiro in numpy scalars

import numpy as np

from montecarlo import gpu, gpu_learning
from montecarlo.gpu_learning import DeviceLearning
from montecarlo.learning import LearningBatch, learning_dataset, learning_point
from hopfield.multitasking import diluted_examples, diluted_patterns
from montecarlo.multitasking import multitasking_point

# The simulator runs a block as 32 Python threads that meet at barriers: a short GIL switch interval makes it
# faster. A first RuntimeWarning in a module adds __warningregistry__ to its globals while other threads may
# iterate over them (the simulator swaps the cuda module on every device-function call): create them first.
sys.setswitchinterval(1e-3)
for _mod in (gpu, gpu_learning):
    vars(_mod).setdefault("__warningregistry__", {})

# (setting, P, dynamics, schedule, temperatures, tempering, replicas, kernel, shared memory, N, K, M[, dilution])
QUICK = [("unsupervised", 2, "heat_bath", "random", [0.5], False, 2, "exact", True, 16, 3, 3),
         ("supervised", 2, "metropolis", "random", [0.4], False, 1, "exact", False, 16, 3, 3),
         ("supervised", 4, "heat_bath", "permutation", [0.4, 0.8], True, 1, "exact", True, 12, 2, 3),
         ("unsupervised", 4, "heat_bath", "random", [0.5], False, 1, "exact", False, 14, 2, 3, 0.3)]
MORE = [("unsupervised", 4, "heat_bath", "random", [0.5], False, 1, "exact", False, 16, 2, 3),
        ("unsupervised", 6, "metropolis", "sequential", [0.1], False, 1, "exact", True, 14, 2, 2),
        ("unsupervised", 2, "heat_bath", "random", [0.3, 0.6, 1.0], True, 2, "exact", True, 14, 2, 3),
        ("unsupervised", 2, "zero", "random", [0.0], False, 2, "exact", True, 16, 3, 2),
        ("unsupervised", 4, "heat_bath", "random", [0.5], False, 1, "plefka", True, 14, 2, 3),
        ("unsupervised", 2, "metropolis", "random", [0.5], False, 1, "exact", "wide", 14, 2, 3),
        ("supervised", 4, "metropolis", "random", [0.5], False, 2, "exact", False, 14, 2, 3),
        ("supervised", 6, "heat_bath", "random", [0.6], False, 1, "exact", True, 14, 2, 3),
        ("supervised", 2, "zero", "sequential", [0.0], False, 1, "exact", True, 16, 3, 2),
        ("supervised", 4, "heat_bath", "random", [0.5], False, 1, "plefka", False, 14, 2, 3),
        ("supervised", 2, "heat_bath", "random", [0.3, 0.7], True, 2, "exact", False, 14, 2, 4)]

STATE = ("spins", "Sxi", "rng", "acc_total", "perm", "cbeta", "swap_rng", "swap_att", "swap_acc")


def _same(a, b):
    keys = STATE + (("V",) if a.setting == "supervised" else ("S",))
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in keys)


def check(setting, P, dyn, sched, temps, pt, reps, kernel, shared, N, K, M, dilution=0.0, sweeps=2):
    if dilution:   # diluted archetypes and examples (the multitasking learning version): p_even = n_k - x^2
        xi = diluted_patterns(N, K, dilution, rng=4)
        eta = diluted_examples(xi, M, 0.6, rng=5)
    else:
        xi, eta = learning_dataset(N, K, M, r=0.6, seed=4)
    kw = dict(r=0.6, replicas=reps, dynamics=dyn, schedule=sched, tempering=pt, seed=5, init="random", kernel=kernel)
    a = LearningBatch(setting, eta, xi, P, temps, **kw)
    b = LearningBatch(setting, eta, xi, P, temps, backend="gpu", **kw)
    gpu.SHARED_BYTES = 48 * 1024 if shared else 0
    if shared == "wide":      # the int64 sum of the unsupervised P = 2 numerator (K M N >= 2^31 on a GPU)
        b._device = DeviceLearning(b)
        b._device.narrow = False
    ra = [a.run(sweeps)]
    rb = [b.run(1), b.run(sweeps - 1)]     # two calls: the device state persists between them
    moved = 0 < a.acc_total.sum() < a.C * N * sweeps and (not pt or a.swap_att.sum() > 0)   # not vacuous
    same = moved and _same(a, b) and b.check_overlaps()
    for key in ra[0]:
        same = same and np.array_equal(ra[0][key], np.concatenate([r[key] for r in rb], axis=1))
    # a checkpoint loaded into the GPU batch replaces its device state
    a2 = LearningBatch(setting, eta, xi, P, temps, **kw)
    a2.run(1)
    b.load_state(a2.state_dict(include_data=False))
    r2, rb2 = a2.run(1), b.run(1)
    same = same and _same(a2, b) and all(np.array_equal(r2[k], rb2[k]) for k in r2)
    a2.run(1, measure=False)   # no records (the digits study): the same trajectory
    b.run(1, measure=False)
    same = same and _same(a2, b) and np.array_equal(a2.energies(), b.energies())
    # every site's DeltaE_i from the device numerator equals the CPU's (a wrong term shows here even where it
    # would change no decision in a few sweeps)
    if kernel == "exact":
        same = same and np.array_equal(b._device.delta_energies(), np.stack([a2.delta_energies(c)
                                                                            for c in range(a2.C)]))
    print(setting, P, dyn, sched, temps, pt, reps, kernel, shared, f"dilution {dilution}" if dilution else "",
          "equal" if same else "DIFFERENT", flush=True)
    return same


def check_points():
    """learning_point, multitasking_point (storage, and the learning version on diluted data) and
    digits_point: the backend reaches the batch; equal results."""
    gpu.SHARED_BYTES = 48 * 1024
    kw = dict(M=3, rho=0.3, K=2, sweeps=4, burn_in=1, replicas=2, seed=2)
    cpu = learning_point("unsupervised", 2, 12, 0.5, **kw)
    dev = learning_point("unsupervised", 2, 12, 0.5, backend="gpu", **kw)
    ok = dev.pop("backend") == "gpu" and cpu.pop("backend") == "numba"
    ok = ok and _equal_dicts(cpu, dev)
    mkw = dict(sweeps=4, burn_in=1, replicas=2, seed=3)
    mcpu = multitasking_point(2, 12, 0.3, 0.4, **mkw)
    mdev = multitasking_point(2, 12, 0.3, 0.4, backend="gpu", **mkw)
    ok = ok and _equal_dicts(mcpu, mdev)
    # the learning version on diluted data (archetypes and examples with blanks), both settings
    for setting in ("supervised", "unsupervised"):
        lkw = dict(mkw, M=3, r=0.6, setting=setting)
        ok = ok and _equal_dicts(multitasking_point(2, 12, 0.3, 0.4, **lkw),
                                 multitasking_point(2, 12, 0.3, 0.4, backend="gpu", **lkw))
    from statmech.digits import digits_point
    dkw = dict(sweeps=2, tests=3, seed=4, predict=False)
    ok = ok and _equal_dicts(digits_point("supervised", 2, 5, 0.2, 0.3, **dkw),
                             digits_point("supervised", 2, 5, 0.2, 0.3, backend="gpu", **dkw))
    print("learning_point multitasking_point digits_point", "equal" if ok else "DIFFERENT", flush=True)
    return ok


def _equal_dicts(x, y):
    if x.keys() != y.keys():
        return False
    return all(np.array_equal(np.asarray(x[k]), np.asarray(y[k]), equal_nan=not isinstance(x[k], str))
               for k in x)


def compile_ptx():
    """Every kernel of montecarlo.gpu_learning through NVVM for cc 8.0, with the argument types that
    DeviceLearning passes."""
    import numba
    from sim_runner import nvvm_cuda

    cuda = nvvm_cuda()
    if cuda is None:
        return True
    k = gpu_learning._kernels()
    xi, eta = learning_dataset(20, 3, 4, r=0.6)
    for setting in ("supervised", "unsupervised"):
        b = LearningBatch(setting, eta, xi, 4, 0.5, r=0.6)
        C, N = b.C, b.N
        sup = setting == "supervised"
        X = np.ascontiguousarray(b.V.reshape(C, -1) if sup else b.S)
        common = (b.pidx, b.spins, X, b.Sxi, b.rng, b.cbeta * b.scale, np.zeros((C, N), np.int32), b.P, b.coef,
                  0, 0, 0, 3, True, True, True, b.escale, b.nscale)
        tail = (np.zeros((C, 3)), b.acc_total, *(np.zeros((C, 3)) for _ in range(4)), np.zeros((C, 3, N), np.int8),
                np.zeros(C))
        if sup:
            args = (b.Mbar, b.W, b.archetypes, *common, True, *tail)
            delta = (b.Mbar, b.W, b.pidx, b.spins, X, b.P, b.coef, np.zeros((C, N)))
        else:
            args = (b.eta2, b.nnz, b.nsq, b.archetypes, *common, b.M, True, True, *tail)
            delta = (b.eta2, b.nnz, b.nsq, b.pidx, b.spins, X, b.P, b.coef, True, np.zeros((C, N)))
        pre = "sup_" if sup else "uns_"
        for name, a in ((pre + "shared", args), (pre + "global", args), (pre + "delta", delta)):
            sig = tuple(numba.typeof(x) for x in a)
            ptx, _ = cuda.compile_ptx(k[name].py_func, sig, cc=(8, 0))
            print(name, f"{len(ptx)} bytes of PTX,", ptx.count("shfl.sync"), "warp shuffles", "compiled", flush=True)
    return True


if __name__ == "__main__":
    if PTX:
        sys.exit(0 if compile_ptx() else 1)
    cases = QUICK + (MORE if sys.argv[1:] == ["all"] else [])
    ok = all(check(*c) for c in cases) and check_points()
    sys.exit(0 if ok else 1)
