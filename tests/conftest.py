"""Suite-wide test setup."""

import sys
from pathlib import Path

# ``from datafiles import data_path`` in tests at any depth, whatever pytest's import mode.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
