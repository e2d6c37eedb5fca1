"""Small file helpers shared by the stages: atomic writes (the basis of resumability)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path


def _strict(value):
    """NaN/inf (e.g. an RMSE on zero held-out frames) become null: the files stay strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    return value


def write_json_atomic(path: str | Path, data) -> None:
    """Write strict JSON so that ``path`` is either absent or complete (a stage's done-marker)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_strict(data), indent=1, allow_nan=False))
    os.replace(tmp, path)


def read_json(path: str | Path):
    """The JSON content of ``path`` (a done-marker written by :func:`write_json_atomic`)."""
    return json.loads(Path(path).read_text())
