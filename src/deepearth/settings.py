"""The base of every recipe section and backend settings model (pydantic, frozen, no unknown keys,
finite numbers only), and the ranges of the physical quantities every section shares.

Lives apart from :mod:`deepearth.recipe` so that each layer's registry can declare its backends'
settings next to the backends, and the recipe assembles them without an import circle.

Ranges (checked where the recipe is read; each bound is far outside any sane study, so that only
mistakes — a sign, a unit, a missing digit — are refused):

- temperatures (ionic and electronic): 0 < T ≤ 20 000 K. The centre of the Earth is ≈ 5 500–6 500 K
  and super-Earth mantles and melting studies stay below ≈ 15 000 K.
- pressures: −50 ≤ P ≤ 1 000 GPa. The centre of the Earth is 364 GPa; 1 TPa leaves room for
  super-Earths; −50 GPa allows the tension of an expanded cell, not a sign error on a mantle pressure.
- timesteps: 0 < dt ≤ 10 fs, the most any element lighter than lead allows by the rule of
  :func:`deepearth.structures.checks.max_timestep_fs`, which the recipe then applies to the run's
  own lightest element once the structure is built.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: Highest temperature (ionic or electronic) a recipe accepts, K.
MAX_TEMPERATURE_K = 20000.0
#: Range of the pressures a recipe accepts, GPa.
MIN_PRESSURE_GPA, MAX_PRESSURE_GPA = -50.0, 1000.0
#: Largest MD timestep a recipe accepts before the structure is known, fs.
MAX_TIMESTEP_FS = 10.0

#: A temperature, K: 0 < T ≤ 20 000 K.
TemperatureK = Annotated[float, Field(gt=0, le=MAX_TEMPERATURE_K)]
#: A pressure, GPa: −50 ≤ P ≤ 1 000 GPa.
PressureGPa = Annotated[float, Field(ge=MIN_PRESSURE_GPA, le=MAX_PRESSURE_GPA)]
#: An MD timestep, fs: 0 < dt ≤ 10 fs (and within the lightest element's limit, checked later).
TimestepFs = Annotated[float, Field(gt=0, le=MAX_TIMESTEP_FS)]


class Section(BaseModel):
    """A frozen settings block: unknown keys are errors, values never change after validation, and
    every float is finite (TOML's ``nan`` and ``inf`` are refused with the key that holds them)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
