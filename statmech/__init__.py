"""Theory and experiments: replica solvers, phase-diagram sweeps, the HDF5 store, the command line."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("statmech-hopfield")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
