"""Theory and experiments: replica solvers, phase-diagram sweeps, the HDF5 store, the command line."""
import os as _os

# Idle OpenMP threads sleep instead of spinning: on a shared machine, spinning workers of numba's
# parallel kernels steal the cores they wait for (measured: 8 chains x3 slower under load).
# A value the user set wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("statmech-hopfield")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
