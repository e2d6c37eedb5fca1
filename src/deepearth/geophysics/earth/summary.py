"""What ``deepearth geo prem`` reports: PREM and a geotherm along depth, the named boundaries, the
deviations of computed values from PREM, and the profiles its figures compare (:func:`prem_summary`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from deepearth.geophysics.earth.prem import EARTH_RADIUS_KM
from deepearth.geophysics.earth.profiles import (EarthCondition, EarthProfile, PremDeviation, conditions,
                                                 geotherm_profiles, prem_deviation, prem_profile)

#: The named boundaries :func:`prem_summary` reports, in depth order.
SUMMARY_CONDITIONS = ("transition-zone-base", "CMB", "ICB", "centre")


@dataclass
class PremSummary:
    """PREM + ``geotherm`` at the requested depths, at :data:`SUMMARY_CONDITIONS`, and the deviations of
    the compared values; ``prem_nodes`` (no geotherm) and ``geotherm_profiles`` are what a figure draws."""

    geotherm: str
    profile: EarthProfile
    conditions: dict[str, EarthCondition]
    deviations: list[PremDeviation]
    prem_nodes: EarthProfile = field(repr=False)
    geotherm_profiles: list[EarthProfile] = field(repr=False)

    @property
    def model(self) -> str:
        return "PREM (Dziewonski & Anderson 1981) via burnman-cpp, geotherm " + self.geotherm

    def to_dict(self) -> dict:
        """JSON-ready: model, profile, conditions and (when values were compared) deviations."""
        out = {"model": self.model, "profile": self.profile.to_dict(),
               "conditions": {name: c.to_dict() for name, c in self.conditions.items()}}
        if self.deviations:
            out["deviations"] = [d.to_dict() for d in self.deviations]
        return out


def prem_summary(depth_km=None, step_km: float | None = None, geotherm: str = "anzellini2013",
                 compare: Sequence[dict] = (), compare_geotherms: Sequence[str] = ("brown_shankland",)
                 ) -> PremSummary:
    """PREM and ``geotherm`` at ``depth_km`` (km; or every ``step_km`` from the surface to the centre;
    default PREM's nodes), at the named boundaries, and :func:`prem_deviation` for each keyword dict
    of ``compare`` (``P_GPa``, ``vp_km_s``, ... with their errors). For figures: PREM at its nodes and
    ``geotherm`` with ``compare_geotherms`` on a dense depth grid (:func:`geotherm_profiles`)."""
    depths = None
    if depth_km:
        depths = depth_km
    elif step_km:
        depths = np.arange(0.0, EARTH_RADIUS_KM + 1e-9, step_km)
    profile = prem_profile(depths, geotherm=geotherm)
    conds = {name: conditions(name, geotherm=geotherm) for name in SUMMARY_CONDITIONS}
    devs = [prem_deviation(**kw, geotherm=geotherm) for kw in compare]
    return PremSummary(geotherm, profile, conds, devs, prem_profile(geotherm=None),
                       geotherm_profiles(tuple(dict.fromkeys([geotherm, *compare_geotherms]))))


__all__ = ["SUMMARY_CONDITIONS", "PremSummary", "prem_summary"]
