"""Phase-diagram pictures: theory regions and traced lines, Monte Carlo points with error bars."""
from __future__ import annotations

import os

import numpy as np

from .store import read_study

__all__ = ["plot_study"]

#: phase code -> (region name, colour); codes as in statmech.storage.PHASES
REGIONS = {0: ("paramagnet", "#f2f2f2"), 1: ("spin glass", "#c6dbef"),
           2: ("mixed (retrieval metastable)", "#fdd0a2"), 3: ("retrieval", "#a1d99b")}
LINES = {"spin_glass": ("T_g: spin-glass transition", "tab:blue", "-"),
         "retrieval_spinodal": ("T_M: retrieval spinodal", "tab:red", "--"),
         "retrieval_thermodynamic": ("T_c: retrieval is the global minimum", "tab:green", "-")}


def _phase_panel(ax, res, mc_sweeps):
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch
    alpha, T = res.coords["alpha"], res.coords["T"]
    if "phase" in res.data:
        phase = np.where(res.done, res.data["phase"], np.nan).astype(float)
        cmap = ListedColormap([REGIONS[k][1] for k in range(4)])
        ax.pcolormesh(alpha, T, phase.T, cmap=cmap, norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5], 4),
                      shading="nearest", rasterized=True)
        handles = [Patch(color=REGIONS[k][1], label=REGIONS[k][0]) for k in range(4)
                   if np.any(phase == k)]
        for k in range(4):
            ii, jj = np.nonzero(phase == k)
            if len(ii) > 0.03 * phase.size:
                ax.text(np.median(alpha[ii]), np.median(T[jj]), REGIONS[k][0].split(" (")[0],
                        ha="center", va="center", fontsize=9, color="0.25", style="italic")
    else:
        handles = []
    for name, curve in res.boundaries.items():
        label, colour, style = LINES.get(name, (name, "k", "-"))
        if len(curve.get("alpha", [])):
            ax.plot(curve["alpha"], curve["T"], style, color=colour, lw=1.8, label=label)
    for mc in mc_sweeps:
        a, t = np.meshgrid(mc.coords["alpha"], mc.coords["T"], indexing="ij")
        ax.plot(a.ravel(), t.ravel(), "k^", ms=6, label=f"Monte Carlo points ({mc.name})")
    ax.set_xlim(alpha.min(), alpha.max())
    ax.set_ylim(0, T.max())
    P = res.attrs.get("P")
    ax.set_xlabel(r"load $\alpha = K/N^{P-1}$")
    ax.set_ylabel(r"temperature $T = 1/\beta$")
    ax.set_title(f"{res.name}: Hebbian storage, P = {P} (RS theory)\n"
                 r"$H = -\frac{N}{2}\sum_\mu m_\mu^P$ (distinct indices)", fontsize=10)
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], fontsize=7, loc="upper right")


def _mc_panel(ax, mc, theory):
    T = mc.coords["T"]
    for ia, a in enumerate(mc.coords["alpha"]):
        if theory is not None and "m_retrieval" in theory.data:
            ja = int(np.argmin(np.abs(theory.coords["alpha"] - a)))
            m_th = np.where(theory.done[ja], theory.data["m_retrieval"][ja], np.nan)
            ax.plot(theory.coords["T"], m_th, "-", color="0.3",
                    label=f"RS theory, alpha = {theory.coords['alpha'][ja]:g}")
        for iN, N in enumerate(mc.coords["N"]):
            m = mc.data.get("m", np.full(mc.shape, np.nan))[iN, ia]
            err = mc.data.get("m_err", np.zeros(mc.shape))[iN, ia]
            ok = mc.done[iN, ia]
            ax.errorbar(T[ok], m[ok], yerr=err[ok], fmt="o", ms=4, capsize=2,
                        label=f"MC N = {N}, alpha = {a:g}")
    ax.set_xlabel(r"temperature $T = 1/\beta$")
    ax.set_ylabel(r"Mattis overlap $m$ with the condensed pattern")
    ax.set_title(f"{mc.name}: Monte Carlo vs replica theory", fontsize=10)
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=7)


def plot_study(path, out=None) -> str:
    """Draw every sweep of a study file into one picture (PNG or PDF); return its path."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, sweeps = read_study(path)
    theory = [s for s in sweeps.values() if s.attrs.get("method") == "theory"]
    mc = [s for s in sweeps.values() if s.attrs.get("method") == "mc"]

    def linked(m):
        import tomllib
        cfg = tomllib.loads(m.attrs.get("sweep_config", ""))
        return sweeps.get(cfg.get("theory", "")) if cfg.get("theory") else None

    panels = len(theory) + len(mc)
    cols = min(panels, 3) or 1
    rows = -(-panels // cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.4 * rows), squeeze=False)
    k = 0
    for res in theory:
        _phase_panel(axes.flat[k], res, [m for m in mc if linked(m) is res])
        k += 1
    for m in mc:
        _mc_panel(axes.flat[k], m, linked(m))
        k += 1
    for ax in axes.flat[k:]:
        ax.set_visible(False)
    fig.tight_layout()
    out = out or os.path.splitext(os.fspath(path))[0] + ".png"
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out
