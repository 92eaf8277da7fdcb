"""Phase-diagram pictures: theory regions and traced lines, Monte Carlo points with error bars."""
from __future__ import annotations

import os

import numpy as np

from hopfield.validation import ParameterError

from .store import read_study

__all__ = ["plot_study"]

#: phase code -> (region name, colour); codes as in statmech.storage.PHASES
REGIONS = {0: ("paramagnet", "#f2f2f2"), 1: ("spin glass", "#c6dbef"),
           2: ("mixed (retrieval metastable)", "#fdd0a2"), 3: ("retrieval", "#a1d99b"),
           4: ("example retrieval (memorisation)", "#dadaeb")}
LABELS = {"alpha": r"load $\alpha = K/N^{P-1}$", "T": r"temperature $T = 1/\beta$",
          "rho": r"dataset entropy $\rho = (1-r^2)/(M r^2)$", "r": "example quality r", "N": "N",
          "d": r"dilution $d = P(\xi = 0)$", "noise": "input noise (pixel flip probability)",
          "lambda": r"softmax sharpness $\lambda$", "separation": r"pattern separation $\Delta = s$"}
OTHER_COLOURS = ("#f2f2f2", "#a1d99b", "#c6dbef", "#9ecae1", "#fdd0a2", "#fdae6b", "#dadaeb", "#fc9272")
LINES = {"spin_glass": ("T_g: spin-glass transition", "tab:blue", "-"),
         "retrieval_spinodal": ("T_M: retrieval spinodal", "tab:red", "--"),
         "retrieval_thermodynamic": ("T_c: retrieval is the global minimum", "tab:green", "-"),
         "almeida_thouless": ("T_AT: RS retrieval unstable below (replicon < 0)", "tab:purple", ":"),
         "retrieval_spinodal_1rsb": ("1RSB retrieval spinodal alpha_c(T)", "tab:red", "-"),
         "spin_glass_1rsb": ("T_s: 1RSB spin-glass transition", "tab:blue", "--"),
         "example_spinodal": ("example (memorisation) state exists below", "tab:orange", "--"),
         "example_thermodynamic": ("example state is the global minimum below", "tab:purple", "-"),
         "example_instability": ("archetype state unstable towards examples below", "tab:brown", ":"),
         "alpha_1": (r"$\alpha_1(\lambda)$: T = 0 retrieval threshold", "tab:red", "-"),
         "condensation": ("condensation of the noise REM (condensed below/left)", "tab:blue", ":"),
         "spinodal": ("spinodal: retrieval basin metastable below/left", "tab:red", "--"),
         "petrova_alpha_c": (r"Petrova et al. $\alpha_c(T)$ (Gaussian-overlap approximation)", "tab:purple", "-."),
         "alpha_th": (r"LSR support threshold $\alpha_{th}(b) = (1 - 1/b)^2/2$", "tab:orange", "-")}


def _line_label(name, res):
    """Legend entry of a traced line; the P >= 3 spin-glass line is the RS f_SG = f_para line."""
    label, colour, style = LINES.get(name, (name.replace("_", " "), None, "-"))
    if name == "spin_glass" and res.attrs.get("P") is not None and int(res.attrs["P"]) != 2:
        label = "T_g (RS): f_SG = f_para (the true transition needs 1RSB)"
    return label, colour, style


def _theory_index(theory, mc, where, xname):
    """Index of the theory sweep along ``xname`` at the MC point ``where`` ({dim: index}), or None
    where the theory grid lacks those exact coordinates (no nearest-value substitution)."""
    sel = []
    for d in theory.dims:
        if d == xname:
            sel.append(slice(None))
            continue
        val = mc.coords[d][where[d]] if d in where else theory.coords[d][0]
        i = int(np.argmin(np.abs(theory.coords[d] - val)))
        if abs(theory.coords[d][i] - val) > 1e-9 * max(1.0, abs(val)):
            return None
        sel.append(i)
    return tuple(sel)


def _phase_names(res) -> dict:
    text = res.attrs.get("phase_names", "")
    names = {}
    for item in text.split(", "):
        if ": " in item:
            k, v = item.split(": ", 1)
            names[int(k)] = v
    return names or {k: v[0] for k, v in REGIONS.items()}


def _phase_panel(ax, res, mc_sweeps):
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch
    xname, yname = res.dims
    x, y = res.coords[xname], res.coords[yname]
    names = _phase_names(res)
    if res.attrs.get("model") in ("hebbian", "learning"):
        labels = {k: REGIONS[k][0] for k in REGIONS}
        colours = [REGIONS[k][1] for k in range(len(REGIONS))]
    else:
        labels = {k: v.replace("_", " ") for k, v in names.items()}
        colours = list(OTHER_COLOURS)
    labels = {k: v for k, v in labels.items() if k >= 0}    # negative: unresolved, drawn blank
    n = max(len(colours), max(labels) + 1)
    phase = np.where(res.done, res.data["phase"], np.nan).astype(float)
    unresolved = phase < 0
    phase[unresolved] = np.nan
    ax.pcolormesh(x, y, phase.T, cmap=ListedColormap(colours[:n]), norm=BoundaryNorm(np.arange(n + 1) - 0.5, n),
                  shading="nearest", rasterized=True)
    handles = [Patch(color=colours[k], label=labels[k]) for k in sorted(labels) if np.any(phase == k)]
    if unresolved.any():
        ii, jj = np.nonzero(unresolved)
        ax.plot(x[ii], y[jj], "kx", ms=4, label="unresolved (solver found no state)")
    for k in sorted(labels):
        ii, jj = np.nonzero(phase == k)
        if len(ii) > 0.03 * phase.size:
            ax.text(np.median(x[ii]), np.median(y[jj]), labels[k].split(" (")[0],
                    ha="center", va="center", fontsize=9, color="0.25", style="italic")
    for i, (name, curve) in enumerate(res.boundaries.items()):
        label, colour, style = _line_label(name, res)
        colour = colour or f"C{i % 10}"
        if len(curve.get(xname, [])):
            ax.plot(curve[xname], curve[yname], style if len(curve[xname]) > 1 else "o", color=colour, lw=1.8,
                    label=label)
    for mc in mc_sweeps:
        if xname in mc.coords and yname in mc.coords:
            a, t = np.meshgrid(mc.coords[xname], mc.coords[yname], indexing="ij")
            if "success" in mc.data and mc.dims[1:] == (xname, yname):   # modern: colour = success, largest N
                ok = np.where(mc.done[-1], mc.data["success"][-1], np.nan)
                ax.scatter(a.ravel(), t.ravel(), c=ok.ravel(), cmap="RdYlGn", vmin=0, vmax=1, s=36, edgecolors="k",
                           zorder=3, label=f"MC success fraction, N = {mc.coords['N'][-1]} ({mc.name})")
            else:
                ax.plot(a.ravel(), t.ravel(), "k^", ms=6, label=f"Monte Carlo points ({mc.name})")
    if xname == "lambda" and x.min() > 0 and x.max() > 100 * x.min():
        ax.set_xscale("log")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(0 if yname == "T" else y.min(), y.max())
    modern_alpha = {"alpha": r"load $\alpha = (\ln K)/N$"} if res.attrs.get("model") in ("modern", "modern_lsr") else {}
    ax.set_xlabel(modern_alpha.get(xname, LABELS.get(xname, xname)))
    ax.set_ylabel(modern_alpha.get(yname, LABELS.get(yname, yname)))
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], fontsize=7, loc="best", framealpha=0.8)


def _line_panel(ax, res):
    """A theory sweep that is not a 2-D map (or a map one point wide): m against its longest axis
    (the last of equally long ones), one line per value of the other axes."""
    ax_i = max(range(len(res.dims)), key=lambda i: (res.shape[i], i))
    xname = res.dims[ax_i]
    key = "m" if "m" in res.data else sorted(res.data)[0]
    done, y = np.moveaxis(res.done, ax_i, -1), np.moveaxis(res.data[key], ax_i, -1)
    others = [d for d in res.dims if d != xname]
    for rest in list(np.ndindex(done.shape[:-1]))[:8]:
        label = ", ".join(f"{d} = {res.coords[d][i]:g}" for d, i in zip(others, rest))
        ax.plot(res.coords[xname], np.where(done[rest], y[rest], np.nan), "o-", ms=3, label=label or None)
    ax.set_xlabel(LABELS.get(xname, xname))
    ax.set_ylabel(key)
    if others:
        ax.legend(fontsize=7)


def _theory_panel(ax, res, mc_sweeps):
    if len(res.dims) == 2 and "phase" in res.data and min(res.shape) > 1:
        _phase_panel(ax, res, mc_sweeps)
    else:
        _line_panel(ax, res)
    fixed = ", ".join(f"{k} = {v}" for k, v in res.attrs.items()
                      if k not in ("model", "method", "convention", "sweep_config", "phase_names"))
    import textwrap
    level = "1RSB" if res.attrs.get("method") == "1rsb" else "RS"
    if str(res.attrs.get("model")).startswith("modern"):
        level = {"modern": "REM", "modern_lsr": "Gaussian-overlap (labelled approximation)"}.get(
            res.attrs.get("model"), "fixed points of the softmax iteration:")
    ax.set_title(textwrap.fill(f"{res.name}: {res.attrs.get('model')} {level} theory ({fixed}); package convention"
                               + ("" if level.startswith(("REM", "fixed", "Gauss")) else ", distinct indices"), 60),
                 fontsize=8)


def _amplitudes_panel(ax, mc, theory):
    """Multitasking Monte Carlo: the K sorted amplitudes m_k with error bars against the last axis (largest N),
    the theory m_k as lines (the linked theory sweep where it has the axis, else the per-point m_k_rs)."""
    xname = mc.dims[-1]
    x = mc.coords[xname]
    K = int(np.nanmax(mc.data["K"])) if "K" in mc.data else sum(f"m{k}" in mc.data for k in range(1, 11))
    iN = len(mc.coords["N"]) - 1
    for j, rest in enumerate(list(np.ndindex(mc.shape[1:-1]))[:3]):
        where = dict(zip(mc.dims[1:-1], rest))
        label = ", ".join(f"{d} = {mc.coords[d][i]:g}" for d, i in where.items())
        idx = (iN,) + rest
        ok = mc.done[idx]
        for k in range(1, K + 1):
            colour = f"C{(j * K + k - 1) % 10}"
            sel = (_theory_index(theory, mc, where, xname) if theory is not None and f"m{k}" in theory.data
                   and xname in theory.coords else None)
            on_grid = sel is not None
            if on_grid:     # the theory sweep has these exact values: its fine curve
                ax.plot(theory.coords[xname], np.where(theory.done[sel], theory.data[f"m{k}"][sel], np.nan), "-",
                        color=colour, lw=1, label=f"theory m{k} {label}")
            if f"m{k}_rs" in mc.data:
                ax.plot(x[ok], mc.data[f"m{k}_rs"][idx][ok], "x" if on_grid else "x--", color=colour, ms=7, lw=1,
                        label=None if on_grid else f"theory m{k} at the MC points {label}")
            ax.errorbar(x[ok], mc.data[f"m{k}"][idx][ok], yerr=mc.data[f"m{k}_err"][idx][ok], fmt="o", ms=4,
                        capsize=2, color=colour, label=f"MC m{k}, N = {mc.coords['N'][iN]} {label}")
    ax.set_xlabel(LABELS.get(xname, xname))
    ax.set_ylabel(r"sorted amplitudes $|m_\mu|$")
    ax.set_title(f"{mc.name}: Monte Carlo vs low-storage theory", fontsize=10)
    ax.legend(fontsize=6)


def _mc_panel(ax, mc, theory):
    if mc.attrs.get("model") == "multitasking" and "m1" in mc.data:
        return _amplitudes_panel(ax, mc, theory)
    xname = mc.dims[-1]
    x = mc.coords[xname]
    for rest in list(np.ndindex(mc.shape[1:-1]))[:4]:
        where = dict(zip(mc.dims[1:-1], rest))
        label = ", ".join(f"{d} = {mc.coords[d][i]:g}" for d, i in where.items())
        sel = None
        if theory is not None and "m_retrieval" in theory.data and xname in theory.coords:
            sel = _theory_index(theory, mc, where, xname)    # None: not on the theory grid, no curve
        if sel is not None:
            ax.plot(theory.coords[xname], np.where(theory.done[sel], theory.data["m_retrieval"][sel], np.nan),
                    "-", color="0.3", label=f"RS theory {label}")
        key = "success" if "success" in mc.data else "m"
        if key == "success" and "T_sp" in mc.data and xname == "T":     # modern at T > 0: spinodal T_sp(alpha)
            t_sp = np.nanmean(mc.data["T_sp"][(slice(None),) + rest]) if np.isfinite(
                mc.data["T_sp"][(slice(None),) + rest]).any() else np.nan
            if np.isfinite(t_sp):
                ax.axvline(t_sp, ls="--", color=f"C{rest[-1] % 10}" if rest else "0.3",
                           label=rf"theory spinodal $T_{{sp}}$ {label}")
        elif key == "success" and "alpha_c" in mc.data:      # modern_lsr: Petrova's alpha_c, against alpha only
            if xname == "alpha":
                ax.axvline(np.nanmean(mc.data["alpha_c"][(slice(None),) + rest]), ls="--", color=f"C{rest[0] % 10}"
                           if rest else "0.3", label=rf"Petrova $\alpha_c$ (approximation) {label}")
        elif key == "success" and "alpha_1" in mc.data:      # modern: the theory threshold for this lambda
            ax.axvline(np.nanmean(mc.data["alpha_1"][(slice(None),) + rest]), ls="--", color=f"C{rest[0] % 10}"
                       if rest else "0.3", label=rf"theory $\alpha_1$ {label}")
        for iN, N in enumerate(mc.coords["N"]):
            idx = (iN,) + rest
            ok = mc.done[idx]
            m = mc.data.get(key, np.full(mc.shape, np.nan))[idx]
            err = mc.data.get(key + "_err", np.zeros(mc.shape))[idx]
            ax.errorbar(x[ok] * (1 + 0.004 * (iN - 1)), m[ok], yerr=err[ok], fmt="o", ms=4, capsize=2,
                        label=f"MC N = {N} {label}")
    ax.set_xlabel(LABELS.get(xname, xname))
    if "success" in mc.data and "T_sp" in mc.data:
        ax.set_ylabel("fraction of chains still in the retrieval basin")
        ax.set_title(f"{mc.name}: Monte Carlo survival at T > 0 vs spinodal", fontsize=10)
    elif "success" in mc.data and "alpha_c" in mc.data:
        if xname == "alpha":
            ax.set_xlabel(r"load $\alpha = (\ln K)/N$")
        ax.set_ylabel("fraction of chains still in the retrieval basin")
        ax.set_title(f"{mc.name}: LSR Monte Carlo survival vs Petrova et al. (approximation)", fontsize=10)
    elif "success" in mc.data:
        ax.set_xlabel(r"load $\alpha = (\ln K)/N$")
        ax.set_ylabel("fraction of samples retrieved (T = 0 dynamics from the pattern)")
        ax.set_title(f"{mc.name}: Monte Carlo retrieval vs REM threshold", fontsize=10)
    else:
        ax.set_ylabel(r"Mattis overlap $m$ with the condensed pattern")
        ax.set_title(f"{mc.name}: Monte Carlo vs replica theory", fontsize=10)
    ax.legend(fontsize=7)


def _study_panel(ax, mc, key):
    """A Monte Carlo study without a size axis: ``key`` (with ``key_err``) against its longest axis."""
    ax_i = int(np.argmax([len(mc.coords[d]) for d in mc.dims]))
    xname = mc.dims[ax_i]
    x = mc.coords[xname]

    def along(name):
        return np.moveaxis(mc.data.get(name, np.full(mc.shape, np.nan)), ax_i, -1)

    done, y, err = np.moveaxis(mc.done, ax_i, -1), along(key), along(key + "_err")
    others = [d for d in mc.dims if d != xname]
    for rest in list(np.ndindex(done.shape[:-1]))[:8]:
        label = ", ".join(f"{d} = {mc.coords[d][i]:g}" for d, i in zip(others, rest) if len(mc.coords[d]) > 1)
        ok = done[rest]
        ax.errorbar(x[ok], y[rest][ok], yerr=err[rest][ok], fmt="o-", ms=3, capsize=2, label=label)
    if key + "_input" in mc.data:
        base = along(key + "_input")[(0,) * (len(mc.dims) - 1)]
        ax.plot(x, base, "k--", label=f"{key} of the noisy input itself (no network)")
    fixed = ", ".join(f"{d} = {mc.coords[d][0]:g}" for d in others if len(mc.coords[d]) == 1)
    ax.set_xlabel(LABELS.get(xname, xname))
    ax.set_ylabel(key)
    ax.set_title(f"{mc.name}: {mc.attrs.get('model')} study ({fixed})", fontsize=10)
    ax.legend(fontsize=6)


def plot_study(path, out=None) -> str:
    """Draw every sweep of a study file into one picture (PNG or PDF); return its path."""
    out = os.fspath(out) if out else os.path.splitext(os.fspath(path))[0] + ".png"
    if os.path.splitext(out)[1].lower() not in (".png", ".pdf"):
        raise ParameterError("--out", out, "a picture file name ending in .png or .pdf")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise ParameterError("--out", out, "a path in an existing, writable folder")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, sweeps = read_study(path)
    theory = [s for s in sweeps.values() if s.attrs.get("method") in ("theory", "1rsb")]
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
        _theory_panel(axes.flat[k], res, [m for m in mc if linked(m) is res])
        rs = linked(res) if res.attrs.get("method") == "1rsb" else None
        if rs is not None:      # the RS lines on the 1RSB map
            for name, curve in rs.boundaries.items():
                if len(curve.get("alpha", [])):
                    axes.flat[k].plot(curve["alpha"], curve["T"], "-", color="0.2", lw=0.8)
            axes.flat[k].plot([], [], "-", color="0.2", lw=0.8, label=f"RS lines ({rs.name})")
            axes.flat[k].legend(fontsize=7, loc="best", framealpha=0.8)
        k += 1
    for m in mc:
        if "N" in m.coords:
            _mc_panel(axes.flat[k], m, linked(m))
        else:
            _study_panel(axes.flat[k], m, "accuracy" if "accuracy" in m.data else sorted(m.data)[0])
        k += 1
    for ax in axes.flat[k:]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out
