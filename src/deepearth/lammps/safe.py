"""What may go into a LAMMPS command line: the one check for strings from files, recipes and users.

LAMMPS's input parser treats these specially (https://docs.lammps.org/Commands_parse.html):
a newline ends a command (so a path holding one starts a new command, e.g. ``shell rm ...``),
``&`` at the end of a line continues it, ``#`` starts a comment, ``$x``/``${x}``/``$(...)``
substitute variables and formulas, and quotes (``"``, ``'``, triple quotes) group words. Every
path or name a deepearth module puts into a LAMMPS command or a file a LAMMPS command reads
(``pair_coeff`` lines, ``fitpod`` input files) goes through :func:`lammps_word`; element names
through :func:`element_symbols` (real chemical symbols only).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ase.data import chemical_symbols

__all__ = ["LAMMPS_SPECIAL", "element_symbols", "lammps_word"]

#: Characters a LAMMPS word may never hold: quotes, variables, comments, continuation, and what
#: shells or other parsers downstream treat specially (``;``, backquote, backslash).
LAMMPS_SPECIAL = frozenset("\"'$&#;`\\")


def lammps_word(value: str | os.PathLike, what: str, *, allow_spaces: bool = True) -> str:
    """``value`` as one LAMMPS word, safe to paste into a command line; ``ValueError`` otherwise.

    Rejected: an empty value, leading or trailing blanks, any character that is not printable
    (newlines, tabs, carriage returns, Unicode line separators, control characters) and the
    characters of :data:`LAMMPS_SPECIAL`. A value with inner spaces is returned in double quotes
    (one word; LAMMPS substitutes nothing inside quotes), or refused when ``allow_spaces`` is false
    (for files read by tokenisers that split at spaces whatever the quotes, e.g. ``fitpod``'s).

    ``what`` names the value in the error message (e.g. ``"model.pod: key 'param'"``).
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str):
        raise ValueError(f"{what}: expected a string, got {type(value).__name__} {value!r}")
    if not text.strip():
        raise ValueError(f"{what}: empty value {text!r} cannot go into a LAMMPS command")
    if text != text.strip(" "):
        raise ValueError(f"{what}: {text!r} has leading or trailing blanks; refused in a LAMMPS command")
    for ch in text:
        if not ch.isprintable():
            raise ValueError(f"{what}: {text!r} holds the control character {ch!r} (a newline or similar "
                             "would start a new LAMMPS command); refused")
        if ch in LAMMPS_SPECIAL:
            raise ValueError(f"{what}: {text!r} holds {ch!r}, which LAMMPS's input parser treats specially "
                             "(quotes, $ variables, # comments, & continuation); refused")
    if " " in text:
        if not allow_spaces:
            raise ValueError(f"{what}: {text!r} holds a space, which this LAMMPS input cannot quote; "
                             "use a path without spaces")
        return f'"{text}"'
    return text


def element_symbols(values: Iterable[str], what: str) -> list[str]:
    """``values`` as a list of distinct chemical symbols (``"Mg"``, ``"O"``...); ``ValueError`` naming
    ``what`` and the offending entry otherwise (``"X"``, the placeholder, is no element)."""
    if isinstance(values, str):
        raise ValueError(f"{what}: expected a list of element symbols, got the string {values!r}")
    try:
        out = list(values)
    except TypeError:
        raise ValueError(f"{what}: expected a list of element symbols, got {values!r}") from None
    if not out:
        raise ValueError(f"{what}: no element symbols")
    for s in out:
        if not isinstance(s, str) or s not in chemical_symbols[1:]:
            raise ValueError(f"{what}: {s!r} is not a chemical element symbol")
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated element symbols in {out}")
    return out
