"""``python -m deepearth.cli``: the ``deepearth`` command."""

import sys

from deepearth.cli import main

sys.exit(main())
