"""``python -m gradcheck``: the same command as ``gradcheck``."""

import sys

from .checks.cli import main

sys.exit(main())
