"""The recipe keys of a campaign over many systems: ``[[systems]]``, ``[[production.cases]]`` and
``[geophysics.w_isotopes]`` (assembled into :class:`deepearth.recipe.Recipe`).

A campaign trains one potential on every system at once (one element set: the union), explores each
system over its own P–T grid with its own MD length and trust levels (what DP-GEN users ask for,
dpgen #453), shares the label budget by weight, and measures transport per production case, per
species and per region (grain-boundary slab, grain interior). A recipe with a single ``[system]``
is a campaign of one system whose grid is ``[exploration]``'s.

Units: GPa, K, Å, m.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from deepearth.settings import PressureGPa, Section, TemperatureK

class SystemOverrides(Section):
    """What one ``[[systems]]`` entry adds to a ``[system]`` section: its name, builder, P–T grid,
    exploration length, share of the label budget and trust levels (unset: ``[exploration]``'s)."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$",
                      description="a short name (letters, digits, - and _): folders, label ids and the report use it")
    builder: Literal["crystal", "liquid"] = Field(
        "crystal", description="crystal: the structure as built; liquid: a random packing of its atoms at the reference's "
                               "density for each pressure, melted and quenched by the exploration's MD")
    pressures_GPa: list[PressureGPa] | None = Field(None, min_length=1, description="exploration pressures, GPa "
                                                    "(unset: exploration.pressures_GPa)")
    temperatures_K: list[TemperatureK] | None = Field(None, min_length=1, description="exploration temperatures, K "
                                                      "(unset: exploration.temperatures_K)")
    steps: int | None = Field(None, ge=10, description="MD steps per grid point per iteration (unset: exploration.steps)")
    n_configs: int | None = Field(None, ge=2, description="initial configurations of this system (unset: "
                                  "initial.n_configs)")
    weight: float = Field(1.0, gt=0, le=1000, description="share of each iteration's candidates "
                          "(exploration.max_candidates_per_iteration × weight / Σ weights, at least 1)")
    trust_lo: float | None = Field(None, gt=0, description="this system's trust_lo (unset: exploration.trust_lo)")
    trust_hi: float | None = Field(None, gt=0, description="this system's trust_hi (unset: exploration.trust_hi)")


class DiffusionCase(Section):
    """One ``[[production.cases]]`` entry: production MD of one system at its state points, and D per
    species and per region (GPa, K)."""

    system: str = Field(..., description="the [[systems]] name (a single-[system] recipe: 'system')")
    species: list[str] = Field(default_factory=list, min_length=0, description="elements (empty: every element)")
    P_GPa: list[PressureGPa] = Field(..., min_length=1, description="pressures, GPa")
    temperatures_K: list[TemperatureK] = Field(..., min_length=1, description="temperatures, K (≥ 2 for an "
                                               "Arrhenius fit; ≥ 2 pressures too for ΔV)")
    regions: list[Literal["all", "gb", "grain"]] = Field(
        default_factory=lambda: ["all"], min_length=1,
        description="'all'; 'gb': atoms in a grain-boundary slab (width grain_boundary.gb_width_A) over the whole lag; "
                    "'grain': atoms farther than gb_width_A from every boundary over the whole lag")

    @property
    def points(self) -> list[tuple[float, float]]:
        """Every (P GPa, T K) of the case."""
        return [(p, t) for p in self.P_GPa for t in self.temperatures_K]


class WIsotopesSpec(Section):
    """``[geophysics.w_isotopes]``: the W-paper model (SCIENCE.md §5) fed by this run's grain-boundary
    Arrhenius fit of D_W: D_eff (eq. 5), diffusion length and OIB μ182W with Monte-Carlo bands."""

    system: str = Field(..., description="the production case's system whose 'gb' fit is used")
    species: str = Field("W", description="the diffusing element")
    T_K: TemperatureK = Field(4000.0, description="CMB temperature, K")
    P_GPa: PressureGPa = Field(140.0, description="CMB pressure, GPa (used by fits with an activation volume)")
    grain_size_mm: float = Field(0.1, gt=0, le=1000, description="grain size d, mm")
    gb_width_nm: float = Field(1.0, gt=0, le=100, description="grain-boundary width δ, nm")
    D_lattice_m2_per_s: float = Field(0.0, ge=0, description="lattice D when the run has no 'grain' fit, m²/s")
    pgz_height_km: list[float] = Field(default_factory=lambda: [1.0, 5.0, 10.0, 50.0], min_length=1,
                                       description="plume generation zone heights, km")
    time_gyr: float = Field(4.54, gt=0, le=4.6, description="time of exchange, Gyr")


class GeophysicsSpec(Section):
    w_isotopes: WIsotopesSpec | None = None


def check_campaign(names: list[str], cases: list[DiffusionCase], geo: GeophysicsSpec | None) -> None:
    """Cross-key checks of a campaign: unique system names, every case and the W model naming a system
    that exists, the W model's system having a 'gb' case. ``ValueError`` naming the key."""
    seen = set()
    for k, n in enumerate(names):
        if n in seen:
            raise ValueError(f"systems.{k}.name: {n!r} names two systems")
        seen.add(n)
    for k, c in enumerate(cases):
        if c.system not in seen:
            raise ValueError(f"production.cases.{k}.system: no system {c.system!r} (systems: {', '.join(names)})")
    w = geo.w_isotopes if geo is not None else None
    if w is not None:
        if w.system not in seen:
            raise ValueError(f"geophysics.w_isotopes.system: no system {w.system!r} (systems: {', '.join(names)})")
        if not any(c.system == w.system and "gb" in c.regions and (not c.species or w.species in c.species)
                   and len(c.temperatures_K) >= 2 for c in cases):
            raise ValueError(f"geophysics.w_isotopes: needs a production case of system {w.system!r} with region 'gb', "
                             f"species {w.species!r} and at least 2 temperatures (its Arrhenius fit is the model's D_GB)")

