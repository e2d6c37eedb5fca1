"""The base of every recipe section and backend settings model (pydantic, frozen, no unknown keys).

Lives apart from :mod:`deepearth.recipe` so that each layer's registry can declare its backends'
settings next to the backends, and the recipe assembles them without an import circle.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A frozen settings block: unknown keys are errors, values never change after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True)
