"""Inputs of an Arrhenius fit as validated arrays (Peng et al. 2025, eqs. 2–4).

* :func:`from_diffusion_results`: (T, D, σ_D, P) from :class:`~deepearth.properties.diffusion.DiffusionResult`
  outputs (JSON files, dicts or result objects) as an :class:`ArrheniusData`, for
  :func:`~deepearth.properties.arrhenius.arrhenius_fit`.
* :func:`check_inputs`: the checks :func:`~deepearth.properties.arrhenius.arrhenius_fit` applies to its
  arrays (T in K > 0, D in m²/s > 0, σ_D in m²/s > 0, P in GPa), one clear ValueError each.

Only numpy is needed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable, NamedTuple

import numpy as np


def _as_1d(name: str, values) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {values!r}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} must be finite; {name}[{bad[0]}] = {arr[bad[0]]}")
    return arr


def check_inputs(T_K, D_m2_per_s, D_stderr_m2_per_s, P_GPa):
    """Validated float arrays (T, D, σ_D or None, P or None); one clear ValueError otherwise."""
    T = _as_1d("T_K", T_K)
    D = _as_1d("D_m2_per_s", D_m2_per_s)
    if T.size != D.size:
        raise ValueError(f"T_K has {T.size} values but D_m2_per_s has {D.size}")
    sD = None
    if D_stderr_m2_per_s is not None:
        sD = _as_1d("D_stderr_m2_per_s", D_stderr_m2_per_s)
        if sD.size != D.size:
            raise ValueError(f"D_stderr_m2_per_s has {sD.size} values but D_m2_per_s has {D.size}")
    P = None
    if P_GPa is not None:
        P = _as_1d("P_GPa", P_GPa)
        if P.size == 1 and T.size > 1:
            P = np.full(T.size, P[0])
        if P.size != T.size:
            raise ValueError(f"P_GPa has {P.size} values but T_K has {T.size}")
    if T.size < 2:
        raise ValueError(f"an Arrhenius fit needs at least 2 (T, D) points, got {T.size}")
    i = np.flatnonzero(T <= 0)
    if i.size:
        raise ValueError(f"temperatures must be > 0 K; T_K[{i[0]}] = {T[i[0]]}")
    i = np.flatnonzero(D <= 0)
    if i.size:
        raise ValueError(f"diffusivities must be > 0 (ln D is fitted); D_m2_per_s[{i[0]}] = {D[i[0]]} "
                         "(a non-diffusive run? leave it out)")
    if sD is not None:
        i = np.flatnonzero(sD < 0)
        if i.size:
            raise ValueError(f"standard errors must be >= 0; D_stderr_m2_per_s[{i[0]}] = {sD[i[0]]}")
        i = np.flatnonzero(sD == 0)
        if i.size:
            raise ValueError(f"D_stderr_m2_per_s[{i[0]}] = 0 would get infinite weight; give positive errors "
                             "or D_stderr_m2_per_s=None for an unweighted fit")
    return T, D, sD, P


class ArrheniusData(NamedTuple):
    """(T, D, σ_D, P) arrays for :func:`arrhenius_fit`: ``arrhenius_fit(*data)`` works."""

    T_K: np.ndarray
    D_m2_per_s: np.ndarray
    D_stderr_m2_per_s: np.ndarray | None
    P_GPa: np.ndarray | None


def _entries(item, i: int) -> list[tuple[str, dict]]:
    """(label, dict) pairs from a path to a JSON file (dict or list of dicts), a dict or a result object."""
    if isinstance(item, (str, Path)):
        path = Path(item)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"{path}: no such file") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from None
        if isinstance(data, dict):
            return [(str(path), data)]
        if isinstance(data, list) and all(isinstance(d, dict) for d in data):
            return [(f"{path}[{j}]", d) for j, d in enumerate(data)]
        raise ValueError(f"{path}: expected a DiffusionResult dict or a list of them")
    if hasattr(item, "to_dict") and not isinstance(item, dict):
        item = item.to_dict()
    if isinstance(item, dict):
        return [(f"entry {i}", item)]
    raise ValueError(f"entry {i}: expected a path, a dict or a DiffusionResult, got {type(item).__name__}")


def _number(label: str, d: dict, key: str, required: bool) -> float | None:
    v = d.get(key)
    if v is None:
        if required:
            raise ValueError(f"{label}: key {key!r} is missing or null"
                             + (" (compute D with diffusion_coefficient(..., T_K=...))" if key == "T_K" else ""))
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{label}: {key} = {v!r} is not a number") from None
    if not math.isfinite(v):
        if required:
            raise ValueError(f"{label}: {key} = {v} is not finite")
        return None
    return v


def _all_or_none(rows: list[tuple], col: int, what: str) -> np.ndarray | None:
    """Column ``col`` of ``rows`` as an array, None if absent everywhere; a ValueError if absent only in some."""
    values = [r[col] for r in rows]
    if all(v is None for v in values):
        return None
    missing = [r[0] for r in rows if r[col] is None]
    if missing:
        raise ValueError(f"{what} for {', '.join(missing)} but present for others")
    return np.array(values, dtype=float)


def from_diffusion_results(paths_or_dicts: Iterable | str | Path | dict, species: str,
                           require_diffusive: bool = True) -> ArrheniusData:
    """Arrays for :func:`arrhenius_fit` from :class:`~deepearth.properties.diffusion.DiffusionResult` outputs.

    ``paths_or_dicts``: JSON files written from ``DiffusionResult.to_dict()`` (one dict or a list, as in
    a run's ``results/diffusion.json``), such dicts, or result objects. Entries of ``species`` are kept
    (keys ``D_m2_per_s``, ``D_stderr_m2_per_s``, ``T_K``, ``P_GPa``; SI units, K, GPa). Errors are used
    only if every entry has one; pressures likewise. A missing T_K, D ≤ 0, a negative error, a
    non-diffusive run (``diffusive: false``, unless ``require_diffusive=False``) or a mix of entries with
    and without errors/pressures raise a ValueError naming the file or entry. D itself comes from the
    MSD (Peng et al. 2025, eq. 2).
    """
    if isinstance(paths_or_dicts, (str, Path, dict)) or hasattr(paths_or_dicts, "to_dict"):
        paths_or_dicts = [paths_or_dicts]
    rows = []
    seen = set()
    for i, item in enumerate(paths_or_dicts):
        for label, d in _entries(item, i):
            sp = d.get("species")
            seen.add(str(sp))
            if sp != species:
                continue
            if require_diffusive and d.get("diffusive") is False:
                raise ValueError(f"{label}: species {species} is not diffusive there (diffusive: false, D fitted "
                                 "on a plateau); leave it out, or keep it with --allow-plateau (deepearth analyze arrhenius; "
                                 "require_diffusive=False in Python)")
            T = _number(label, d, "T_K", True)
            if T <= 0:
                raise ValueError(f"{label}: T_K = {T} must be > 0")
            D = _number(label, d, "D_m2_per_s", True)
            if D <= 0:
                raise ValueError(f"{label}: D_m2_per_s = {D} must be > 0 for an Arrhenius fit in ln D")
            s = _number(label, d, "D_stderr_m2_per_s", False)
            if s is not None and s < 0:
                raise ValueError(f"{label}: D_stderr_m2_per_s = {s} is negative")
            rows.append((label, T, D, s, _number(label, d, "P_GPa", False)))
    if not rows:
        raise ValueError(f"no diffusion results for species {species!r} (species found: {sorted(seen) or 'none'})")
    sD = _all_or_none(rows, 3, "D_stderr_m2_per_s is missing/non-finite")
    P = _all_or_none(rows, 4, "P_GPa is missing")
    return ArrheniusData(np.array([r[1] for r in rows]), np.array([r[2] for r in rows]), sD, P)


__all__ = ["ArrheniusData", "check_inputs", "from_diffusion_results"]
