"""ML interatomic potentials: the ``Potential`` protocol, backends and committees."""

from deepearth.potentials.base import Potential
from deepearth.potentials.registry import load_potential
from deepearth.potentials.committee import Committee

__all__ = ["Potential", "load_potential", "Committee"]
