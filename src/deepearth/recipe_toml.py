"""The effective recipe written back as TOML (``RUN/recipe.toml``): the validated values, every default
spelled out, tables of arrays (``[[systems]]``...) as inline tables."""

from __future__ import annotations

from deepearth.recipe import Recipe


def recipe_to_toml(recipe: Recipe) -> str:
    """Serialise a recipe back to TOML (used to copy the effective recipe into the run directory)."""
    data = recipe.model_dump(mode="json", exclude={"source"}, exclude_none=True)
    return _dump_toml(data)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):  # an inline table (the items of [[systems]], [[production.cases]]...)
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _dump_toml(data: dict, prefix: str = "") -> str:
    scalars = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = "\n".join(scalars) + ("\n" if scalars else "")
    for k, v in data.items():
        if isinstance(v, dict):
            name = f"{prefix}{k}"
            out += f"\n[{name}]\n" + _dump_toml(v, prefix=name + ".")
    return out
