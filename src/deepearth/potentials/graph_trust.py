"""Loading a DeePMD-kit model means trusting its author: a TensorFlow frozen graph can hold arbitrary
operations (file reads and writes among them) that run when it is evaluated, and the PyTorch
formats (``.pth``/``.pt``) are unpickled, i.e. run code, on load. Every loader of a DeePMD model in
deepearth goes through :func:`frozen_graph`, which accepts nothing but a ``.pb`` and says so in the log.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("deepearth.potentials")

#: What loading a DeePMD model means, logged by :func:`frozen_graph`.
TRUST_NOTE = ("loading a DeePMD-kit TensorFlow graph runs the operations it contains: "
              "load only models whose author you trust")


def frozen_graph(model: str | os.PathLike) -> Path:
    """``model`` checked as a DeePMD-kit TensorFlow frozen graph: an existing regular ``.pb`` file.

    Loading one means trusting its author (a TensorFlow graph may hold arbitrary operations,
    file reads and writes among them; see the module docstring); this is logged (INFO, logger
    ``deepearth.potentials``). Other suffixes are refused with ``ValueError``, in particular
    DeePMD-kit's PyTorch ``.pth``/``.pt`` files (``torch.load`` unpickles, i.e. runs code, on load);
    a missing file raises ``FileNotFoundError``.
    """
    path = Path(model)
    if path.suffix != ".pb":
        raise ValueError(f"{path}: not a DeePMD-kit TensorFlow frozen graph (.pb); other model formats "
                         "(.pth/.pt PyTorch checkpoints are unpickled on load) are refused")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    log.info("%s: %s", path, TRUST_NOTE)
    return path
