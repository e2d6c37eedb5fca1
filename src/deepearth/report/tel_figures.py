"""Figures of the T_el demonstration (issue #4 item 2): held-out energy RMSE per T_el for the
T_el-blind / T_el-aware / per-T_el models, and energy parity coloured by T_el.

    python -m deepearth.report.tel_figures runs/benchmarks/tel/result.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace


def make_figures(result, out_dir: Path) -> list[Path]:
    """``result``: a ``TelDemoResult`` of ``benchmarks/tel_demo.py`` (or its JSON as a namespace)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    T = [float(t) for t in result.T_el_K]
    keys = [f"{t:g}" for t in T]
    names = list(result.errors)
    files = []

    fig, ax = plt.subplots(figsize=(5.5, 4))
    width = 0.8 / (len(names) + 1)
    x = np.arange(len(T))
    ax.bar(x - width * len(names) / 2, [abs(result.entropy_meV_per_atom[k]) for k in keys], width,
           color="0.8", label="|F(T_el) − F(300 K)|")
    for i, n in enumerate(names):
        ax.bar(x + width * (i + 1 - len(names) / 2), [result.errors[n][k]["rmse_energy_meV_per_atom"] for k in keys],
               width, label=f"{n} model")
    ax.set_xticks(x, [f"{t:g}" for t in T])
    ax.set_xlabel("electronic temperature T_el (K)")
    ax.set_ylabel("held-out energy RMSE (meV/atom)")
    ax.set_title("GFN1-xTB MgO: T_el-blind vs T_el-aware")
    ax.legend(fontsize=8)
    fig.tight_layout()
    files.append(out_dir / "tel_rmse.png")
    fig.savefig(files[-1], dpi=150)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.8), squeeze=False)
    for ax, n in zip(axes[0], names):
        t, ref, mod = (np.array(v) for v in zip(*result.parity[n]))
        sc = ax.scatter(ref, mod, c=t, cmap="plasma", s=12)
        lo, hi = min(ref.min(), mod.min()), max(ref.max(), mod.max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_title(f"{n}")
        ax.set_xlabel("GFN1-xTB F (eV/atom)")
        ax.set_ylabel("model (eV/atom)")
    fig.colorbar(sc, ax=axes[0].tolist(), label="T_el (K)")
    files.append(out_dir / "tel_parity.png")
    fig.savefig(files[-1], dpi=150)
    plt.close(fig)
    return files


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/benchmarks/tel/result.json")
    res = SimpleNamespace(**json.loads(path.read_text()))
    for f in make_figures(res, path.parent):
        print(f)
