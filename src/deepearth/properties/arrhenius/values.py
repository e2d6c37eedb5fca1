"""The value types the Arrhenius package returns besides its fits.

* :class:`ValueWithStderr`: a derived quantity with its propagated standard error (eq. 5, β);
* :func:`float_or_array`: a float for scalar inputs, else an array — how every function of the
  package hands back what was computed on arrays.

Only numpy is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from deepearth.files import json_ready


def float_or_array(x: np.ndarray, scalar: bool):
    """A float for scalar inputs, else the array."""
    return float(np.asarray(x).reshape(-1)[0]) if scalar else np.asarray(x, dtype=float)


@dataclass
class ValueWithStderr:
    """A derived quantity with its propagated standard error; iterates as ``(value, stderr)``."""

    value: Any
    stderr: Any
    units: str
    method: str

    @property
    def unit(self) -> str:
        return self.units

    def __iter__(self) -> Iterator:
        return iter((self.value, self.stderr))

    def to_dict(self) -> dict:
        return json_ready(self)


__all__ = ["ValueWithStderr", "float_or_array"]
