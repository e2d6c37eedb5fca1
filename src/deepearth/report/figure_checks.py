"""Checks a drawn figure must pass (usable by tests): no offset text, labels with units, legends.

A figure is checked after it was drawn (saved): matplotlib fills an axis' offset text (``1e-5``,
``−7.28522e1``) only when it lays the ticks out. Rules, per visible axes:

* neither axis shows offset text (neither an added offset nor a ×10ⁿ multiplier);
* the x and y axes have labels, each with a unit in parentheses ``(eV/Å)`` or brackets ``[K]``,
  unless the axis was marked unitless with :func:`mark_unitless` (counts, categories, ratios that
  say so in words); a shared axis' label may sit on one of the axes that share it;
* every artist with a legend label (lines, markers, bands, histograms) appears in a legend of its
  axes or of the figure.

Colour-bar axes are checked for their one label. :func:`figure_problems` lists what is wrong;
:func:`assert_figure_ok` raises ``AssertionError`` with that list.
"""

from __future__ import annotations

import re

_UNIT = re.compile(r"\([^()]*[^\s()][^()]*\)|\[[^\[\]]*[^\s\[\]][^\[\]]*\]")
_ATTR = "_deepearth_unitless"


def mark_unitless(ax, which: str = "y") -> None:
    """Declare the ``which`` ("x", "y" or "xy") axis of ``ax`` unitless (a count, a category)."""
    for w in which:
        setattr(ax.xaxis if w == "x" else ax.yaxis, _ATTR, True)


def is_unitless(axis) -> bool:
    return bool(getattr(axis, _ATTR, False))


def has_unit(label: str) -> bool:
    """True when ``label`` holds a unit in parentheses or brackets."""
    return bool(_UNIT.search(label or ""))


def _shared_label(ax, which: str) -> str:
    """The label of ``ax``'s ``which`` axis, or of an axes sharing it (one label for a shared axis)."""
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    for other in [ax, *group.get_siblings(ax)]:
        label = (other.xaxis if which == "x" else other.yaxis).get_label_text()
        if label:
            return label
    return ""


def _axis_problems(ax, name: str) -> list[str]:
    out = []
    for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        offset = axis.get_offset_text().get_text()
        if offset and axis.get_offset_text().get_visible():
            out.append(f"{name}: {which} axis shows offset text {offset!r}")
    cbar = getattr(ax, "_colorbar", None)
    if cbar is not None:
        long_axis = ax.yaxis if cbar.orientation == "vertical" else ax.xaxis
        label = long_axis.get_label_text()
        if not (is_unitless(long_axis) or has_unit(label)):
            out.append(f"{name}: colour bar label {label!r} has no unit")
        return out
    for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if not axis.get_visible() or is_unitless(axis):
            continue
        label = _shared_label(ax, which)
        if not label:
            out.append(f"{name}: no {which} label")
        elif not has_unit(label):
            out.append(f"{name}: {which} label {label!r} has no unit in (...) or [...]")
    return out


def _legend_texts(fig, ax) -> set[str]:
    texts = set()
    for leg in [ax.get_legend(), *fig.legends]:
        if leg is not None:
            texts |= {t.get_text() for t in leg.get_texts()}
    return texts


def figure_problems(fig) -> list[str]:
    """What breaks the rules of the module docstring in ``fig`` (a drawn matplotlib Figure)."""
    problems = []
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison:
            continue
        title = ax.get_title() or ax.get_title("left") or f"axes {k}"
        name = f"{title!r}"
        problems += _axis_problems(ax, name)
        _, labels = ax.get_legend_handles_labels()
        missing = sorted(set(labels) - _legend_texts(fig, ax))
        if missing:
            problems.append(f"{name}: labelled artists not in a legend: {missing}")
    return problems


def assert_figure_ok(fig) -> None:
    """Raise ``AssertionError`` listing every problem :func:`figure_problems` finds."""
    problems = figure_problems(fig)
    if problems:
        raise AssertionError(f"figure {fig.get_label() or ''}: " + "; ".join(problems))
