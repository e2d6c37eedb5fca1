"""Figures of elastic-constant results: Cij vs pressure with 1σ bars, the Hill moduli with the
Voigt–Reuss bounds, and the seismic velocities. They draw the results they are given
(:meth:`deepearth.properties.elastic.ElasticResult.to_dict` dicts) and run no estimator."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepearth.report.figures import save_figure  # noqa: E402

__all__ = ["elastic_figure", "shown_constants"]

#: An entry is drawn when it exceeds this fraction of the largest |C_IJ| and 3 standard errors.
_MIN_FRACTION = 0.01


def shown_constants(results: list[dict]) -> list[tuple[int, int]]:
    """Upper-triangle Voigt entries (0-based) that are non-zero in any result: > 1 % of its largest
    |C_IJ| and > 3 standard errors (the zeros of a crystal system are left out)."""
    keep = set()
    for r in results:
        c, e = np.asarray(r["C_GPa"]), np.asarray(r["C_stderr_GPa"])
        big = np.abs(c) > np.maximum(_MIN_FRACTION * np.abs(c).max(), 3 * e)
        keep |= {(i, j) for i in range(6) for j in range(i, 6) if big[i, j]}
    return sorted(keep)


def _groups(results: list[dict], entries: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Entries that agree within 2 combined standard errors (and 0.1 % of the largest |C|) in every
    result, drawn as one series labelled ``C11=C22=C33`` (a cubic crystal's equal constants)."""
    groups: list[list[tuple[int, int]]] = []
    for ij in entries:
        for g in groups:
            k = g[0]
            if all(abs(r["C_GPa"][ij[0]][ij[1]] - r["C_GPa"][k[0]][k[1]])
                   <= 2 * np.hypot(r["C_stderr_GPa"][ij[0]][ij[1]], r["C_stderr_GPa"][k[0]][k[1]])
                   + 1e-3 * np.abs(np.asarray(r["C_GPa"])).max() for r in results):
                g.append(ij)
                break
        else:
            groups.append([ij])
    return groups


def _label(r: dict) -> str:
    t = r.get("temperature_K")
    return f"{t:.0f} K" if t is not None else "T not given"


def elastic_figure(results: list[dict] | dict, out: Path) -> Path:
    """Three panels against pressure (GPa): the non-zero C_IJ (GPa, 1σ bars; entries equal within their
    errors in every result drawn once, e.g. C11=C22=C33, their mean with the largest bar), K and G (Hill average
    with its 1σ bar; Voigt and Reuss bounds as open markers) and V_P, V_S, V_B (km/s, Hill, 1σ bars).
    One marker per result; results at one temperature share a marker shape."""
    results = [results] if isinstance(results, dict) else list(results)
    if not results:
        raise ValueError("results: none to draw")
    order = np.argsort([r["pressure_GPa"] for r in results])
    results = [results[k] for k in order]
    p = np.array([r["pressure_GPa"] for r in results])
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(13, 4.2))
    for group in _groups(results, shown_constants(results)):
        v = [np.mean([r["C_GPa"][i][j] for i, j in group]) for r in results]
        e = [np.max([r["C_stderr_GPa"][i][j] for i, j in group]) for r in results]
        a1.errorbar(p, v, yerr=e, fmt="o-", ms=4, lw=0.8, capsize=3,
                    label="=".join(f"C{i + 1}{j + 1}" for i, j in group))
    a1.set_ylabel("elastic constant (GPa)")
    a1.set_title("stress–strain coefficients C_IJ")
    a1.legend(fontsize=7, ncol=2)
    temps = sorted({_label(r) for r in results})
    for name, colour in (("K", "C0"), ("G", "C3")):
        v = [r["moduli"][f"{name}_vrh"] for r in results]
        e = [r["moduli_stderr"][f"{name}_vrh"] for r in results]
        a2.errorbar(p, v, yerr=e, fmt="o-", color=colour, ms=5, capsize=3, label=f"{name} (Voigt–Reuss–Hill)")
        a2.plot(p, [r["moduli"][f"{name}_voigt"] for r in results], "^", mfc="none", color=colour, ms=5,
                label=f"{name} Voigt bound")
        a2.plot(p, [r["moduli"][f"{name}_reuss"] for r in results], "v", mfc="none", color=colour, ms=5,
                label=f"{name} Reuss bound")
    a2.set_ylabel("modulus (GPa)")
    a2.set_title("bulk and shear moduli")
    a2.legend(fontsize=7)
    for key, name in (("Vp", "V_P"), ("Vs", "V_S"), ("Vb", "V_B")):
        v = [r["moduli"][key] for r in results]
        e = [r["moduli_stderr"][key] for r in results]
        a3.errorbar(p, v, yerr=e, fmt="o-", ms=5, capsize=3, label=name)
    a3.set_ylabel("velocity (km/s)")
    a3.set_title("seismic velocities (" + ", ".join(temps) + ")")
    a3.legend(fontsize=7)
    for ax in (a1, a2, a3):
        ax.set_xlabel("pressure (GPa)")
        if len(results) == 1:  # one point: a readable window around it
            ax.set_xlim(p[0] - max(1.0, 0.05 * abs(p[0])), p[0] + max(1.0, 0.05 * abs(p[0])))
    return save_figure(fig, out)
