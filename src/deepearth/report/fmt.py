"""How the report writes numbers: value ± error with units, missing values, bins, diffusion results.

Numbers come from the run's records; these functions only format them. The one rule added here is
how a diffusion coefficient without a diffusive regime is shown: as an upper bound, never as a D
value (:func:`diffusion_upper_bound`).
"""

from __future__ import annotations

import math
from importlib import metadata

MISSING = "–"  # what a cell shows for a value the record does not hold

#: The unit (and meaning) of a validation bin label, by ``bin_by``.
BIN_UNITS = {"pressure": "GPa, static virial pressure of the label", "temperature": "K", "composition": ""}

NOT_DIFFUSIVE = "not diffusive: MSD on a plateau (no regime with local exponent ≈ 1: a crystal, or too short a run)"


def finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def num(v, fmt: str = ".3g") -> str:
    """``v`` formatted, or :data:`MISSING` when the record holds none (None, NaN)."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    return format(v, fmt) if finite(v) else MISSING


def pm(value, err, fmt: str = ".3g", err_fmt: str | None = None, unit: str = "") -> str:
    """``value ± err unit``; the error left out when the record holds none."""
    if not finite(value):
        return MISSING
    text = format(value, fmt)
    if finite(err):
        text += f" ± {format(err, err_fmt or fmt)}"
    return f"{text} {unit}".rstrip()


def bin_title(bin_by: str | None) -> str:
    """Column title of a validation bin: ``pressure bin (GPa, static virial pressure of the label)``."""
    if not bin_by:
        return "frames"
    unit = BIN_UNITS.get(bin_by, "")
    return f"{bin_by} bin ({unit})" if unit else f"{bin_by} bin"


def bin_text(label, bin_by: str | None) -> str:
    """A bin label with its unit: ``139.8 GPa``, ``2500–3000 K``, ``MgO``, or ``all``."""
    label = str(label)
    if label in ("all", ""):
        return label or MISSING
    unit = {"pressure": "GPa", "temperature": "K"}.get(bin_by or "", "")
    if not unit:
        return label
    try:
        return f"{float(label):.4g} {unit}"
    except ValueError:
        return f"{label} {unit}"  # an interval "100–140"


def diffusion_upper_bound(rec: dict) -> float | None:
    """The 2σ upper bound of D (m²/s) for a result without a diffusive regime: the record's
    ``D_upper_m2_per_s`` if it holds one, else max(D, 0) + 2 × its standard error."""
    if finite(rec.get("D_upper_m2_per_s")):
        return float(rec["D_upper_m2_per_s"])
    D, s = rec.get("D_m2_per_s"), rec.get("D_stderr_m2_per_s")
    if not (finite(D) and finite(s)):
        return None
    return max(float(D), 0.0) + 2.0 * float(s)


def diffusion_value(rec: dict) -> str:
    """``2.1e-09 ± 1.5e-10`` (m²/s), or ``< 3.8e-11`` where the MSD has no diffusive regime."""
    if rec.get("diffusive", True) is False:
        bound = diffusion_upper_bound(rec)
        return f"< {bound:.2g}" if bound is not None else "no bound (no error recorded)"
    return pm(rec.get("D_m2_per_s"), rec.get("D_stderr_m2_per_s"), ".3g", ".2g")


def diffusion_text(rec: dict, status: bool = True) -> str:
    """``D = 2.1e-09 ± 1.5e-10 m²/s``, or ``D < 3.8e-11 m²/s (not diffusive: MSD on a plateau)``."""
    value = diffusion_value(rec)
    if rec.get("diffusive", True) is False:
        return f"D {value} m²/s" + (" (not diffusive: MSD on a plateau)" if status else "")
    return f"D = {value} m²/s"


def seconds(s) -> str:
    """``629 s (10.5 min)``, ``2.1 h``."""
    if not finite(s):
        return MISSING
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s:.0f} s ({s / 60:.1f} min)"
    return f"{s / 3600:.2f} h"


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution (``importlib.metadata``), or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
    except ValueError:  # an empty or odd name
        return None
