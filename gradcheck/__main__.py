"""``python -m gradcheck``: the same command as ``gradcheck``."""

from ._entry import run

run()
