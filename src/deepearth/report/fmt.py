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


# -- campaigns: species, regions, laws ----------------------------------------------------------------
#: What a production region means, in words.
REGION_WORDS = {"all": "all atoms", "gb": "grain-boundary slab", "grain": "grain interior",
                "custom": "a region of the estimator's"}


def region_name(rec: dict) -> str:
    """The production region a diffusion row or law is of: its ``region`` name ('all', 'gb', 'grain'),
    'all' where it has none (a row of a run made before regions: the estimator's ``region`` is then
    null) and 'custom' where it holds the estimator's own region record (a dict)."""
    region = rec.get("region")
    if region is None:
        return "all"
    return region if isinstance(region, str) else "custom"


def species_name(rec: dict) -> str:
    """The element of a diffusion row or law: its ``species`` up to a region's description
    (the estimator names a region's D ``Cu in z-slab 10.9±1.96 Å ×2``)."""
    return str(rec.get("species", "")).split(" in ", 1)[0]


def region_text(rec: dict) -> str:
    """``grain-boundary slab (z-slab 10.9±1.96 Å ×2)``, ``all atoms``: the row's region in words, with
    the estimator's description of it where the species carries one."""
    region = region_name(rec)
    words = REGION_WORDS.get(region, region)
    parts = str(rec.get("species", "")).split(" in ", 1)
    return f"{words} ({parts[1]})" if len(parts) == 2 else words


def where_text(rec: dict) -> str:
    """``melt: Cu, grain-boundary slab`` (campaign) or ``Cu`` (single system): what a diffusion row or
    law is of, for sentences and captions."""
    what = species_name(rec)
    if region_name(rec) != "all":
        what += f", {REGION_WORDS.get(region_name(rec), region_name(rec))}"
    return f"{rec['system']}: {what}" if rec.get("system") else what


def law_text(law: dict) -> str:
    """``ΔH = 36 ± 37 kJ/mol`` (eq. 3) or ``ΔE = … kJ/mol, ΔV = … cm³/mol`` (eq. 4), from a law's record."""
    if law.get("activation_kind") == "dE":
        return (f"ΔE = {pm(law.get('activation_kJ_per_mol'), law.get('activation_stderr_kJ_per_mol'), '.3g', '.2g')} "
                f"kJ/mol, ΔV = {pm(law.get('dV_cm3_per_mol'), law.get('dV_stderr_cm3_per_mol'), '.3g', '.2g')} cm³/mol")
    return f"ΔH = {pm(law.get('activation_kJ_per_mol'), law.get('activation_stderr_kJ_per_mol'), '.3g', '.2g')} kJ/mol"


def band_text(q: dict | None, fmt: str = ".3g") -> str:
    """``1.2e-12 [3.4e-13–5.6e-12]``: a propagated value's median and its 2.5–97.5 % range."""
    if not q or not finite(q.get("median")):
        return MISSING
    text = format(q["median"], fmt)
    if finite(q.get("lower")) and finite(q.get("upper")):
        text += f" [{format(q['lower'], fmt)} to {format(q['upper'], fmt)}]"
    return text
