#!/bin/bash
# GPU checks in one go, for a machine with an NVIDIA GPU: versions, the gpu_throughput benchmark and every
# real-GPU test (the simulator and PTX tests run everywhere and are left to the ordinary suite).
# Usage: bash benchmarks/gpu_check.sh [benchmark timeout s] [test timeout s]; logs and the benchmark record go to
# $OUT (default: the current folder). Wheels of missing packages found in .whl/ are installed to /tmp/site first.
OUT=${OUT:-.}
exec > >(tee "$OUT/gpu_check.log") 2>&1
T0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 3
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1 MPLBACKEND=Agg
python3 - <<'PY'
import sys, numpy, numba
print("python", sys.version.split()[0], "numpy", numpy.__version__, "numba", numba.__version__)
try:
    import numba_cuda
    print("numba_cuda", numba_cuda.__version__)
except ImportError as exc:
    print("no numba_cuda:", exc)
from montecarlo.gpu import available
print("available:", available())
PY
echo "== benchmark t=$(( $(date +%s) - T0 ))s"
timeout "${1:-150}" python3 benchmarks/run.py --quick -k gpu --json "$OUT/bench_gpu.json"
echo "== tests t=$(( $(date +%s) - T0 ))s"
timeout "${2:-240}" python3 -m pytest -q -p no:cacheprovider -rs --durations=10 \
    tests/montecarlo/test_mc_gpu.py tests/montecarlo/test_mc_gpu_learning.py tests/montecarlo/test_mc_gpu_modern.py \
    -k "not simulator and not ptx"
echo "== done t=$(( $(date +%s) - T0 ))s"
