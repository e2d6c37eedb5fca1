"""Small file helpers shared by the stages: atomic writes (the basis of resumability), TOML input,
and the one JSON cleaner (:func:`json_ready`) every result's ``to_dict`` and every JSON file goes through."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from pathlib import Path

import numpy as np


def json_ready(value):
    """``value`` as strict JSON data: NaN/inf (e.g. an RMSE on zero held-out frames) become null, numpy
    arrays and scalars become Python lists and numbers, tuples become lists, dataclass instances
    become dicts of their fields; dict keys that are numpy scalars become Python ones."""
    if isinstance(value, dict):
        return {(k.item() if isinstance(k, np.generic) else k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_ready(dataclasses.asdict(value))
    return value


def write_json_atomic(path: str | Path, data) -> None:
    """Write strict JSON so that ``path`` is either absent or complete (a stage's done-marker)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(json_ready(data), indent=1, allow_nan=False))
    os.replace(tmp, path)


def read_json(path: str | Path):
    """The JSON content of ``path`` (a done-marker written by :func:`write_json_atomic`); a file that
    is not JSON (truncated, overwritten) is one ``ValueError`` naming it."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); the file is damaged") from None


def parse_toml(text: str, origin: str, error: type[Exception] = ValueError) -> dict:
    """TOML ``text`` as a dict; a syntax error is one ``error`` naming ``origin`` (a file or resource)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{origin}: not valid TOML: {exc}") from None


def read_toml(path: str | Path, what: str, error: type[Exception] = ValueError,
              missing: type[Exception] = FileNotFoundError) -> dict:
    """The TOML file ``path`` (a ``what``, e.g. "recipe file") as a dict, with one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise missing(f"{path}: {what} not found")
    return parse_toml(path.read_text(encoding="utf-8"), str(path), error)
