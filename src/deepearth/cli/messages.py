"""Error messages in the words of the command line: a library's message names its Python arguments
(``dt_ps must be > 0``, ``n_atoms: must be positive``); the user typed flags (``--dt-ps``,
``--n-atoms``). :func:`in_flag_names` rewrites the names of the command's own options, and the few
library arguments whose option is spelled otherwise (:data:`ALIASES`), into their flags."""

from __future__ import annotations

import argparse
import re

#: Library argument names that differ from the option's ``dest``, by command path.
ALIASES: dict[tuple[str, ...], dict[str, str]] = {
    ("geo", "bmo-evolution"): {"n_samples": "--mc-samples"},
    ("analyze", "diffusion"): {"min_fit_start_ps": "--min-start-ps"},
}

#: Commands whose messages name recipe keys, not options (``run_dir`` is the recipe's key there).
NO_REWRITE = {("run",), ("status",), ("geo", "recipe")}


def command_path(parser: argparse.ArgumentParser, args: argparse.Namespace
                 ) -> tuple[tuple[str, ...], list[argparse.ArgumentParser]]:
    """The subcommand names chosen in ``args`` (``("geo", "prem")``) and the parsers along them."""
    names: list[str] = []
    parsers = [parser]
    while True:
        subs = [a for a in parsers[-1]._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, subs[0].dest, None) if subs else None
        if chosen is None or chosen not in subs[0].choices:
            return tuple(names), parsers
        names.append(chosen)
        parsers.append(subs[0].choices[chosen])


def flag_names(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """``{python_name: --flag}`` for the options of the command in ``args``."""
    path, parsers = command_path(parser, args)
    flags = {}
    for p in parsers[1:]:
        for action in p._actions:
            longs = [o for o in action.option_strings if o.startswith("--")]
            if longs and action.dest not in ("help", "version"):
                flags[action.dest] = longs[0]
    flags.update(ALIASES.get(path, {}))
    return flags


def in_flag_names(message: str, parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """``message`` with the command's Python argument names as flags.

    A name with an underscore (``dt_ps``, ``T_melt_K``) is rewritten wherever it stands as a word
    (not inside a path, a dotted key or a longer name); a plain word (``sigma``) only where it leads
    a clause (``sigma: ...``, ``sigma must ...``), so that prose keeps its words."""
    path, _ = command_path(parser, args)
    if path in NO_REWRITE:
        return message
    for name, flag in sorted(flag_names(parser, args).items(), key=lambda kv: -len(kv[0])):
        if "_" in name:
            pattern = rf"(?<![\w./-]){re.escape(name)}(?![\w/])"
        else:
            pattern = rf"(?:^|(?<=: )|(?<=; )){re.escape(name)}(?=:| must | =)"
        message = re.sub(pattern, flag, message)
    return message
