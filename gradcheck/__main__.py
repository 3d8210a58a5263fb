"""``python -m gradcheck``: the same command as ``gradcheck``."""

import sys

from ._entry import main

sys.exit(main())
