"""Files the command writes (``--out``, ``--plot``): checked before any work starts, and never
replacing an existing file unless ``--force``; a symbolic link at the path is replaced itself,
never followed to the file it points at."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["check_writable", "replace_link"]


def check_writable(paths, force, option):
    """Refuse, naming ``option``, unless every path's folder exists and is writable and no path
    exists (or ``force``, and it is not a directory)."""
    for path in map(Path, paths):
        folder = path.parent
        if not folder.is_dir():
            raise ValueError(f"{option} {str(path)!r}: the folder {str(folder)!r} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(f"{option} {str(path)!r}: the folder {str(folder)!r} is not writable")
        if os.path.lexists(path):
            if path.is_dir() and not path.is_symlink():
                raise ValueError(f"{option} {str(path)!r} is a directory")
            if not force:
                raise ValueError(f"{option}: {str(path)!r} already exists; pass --force to "
                                 "replace it")
    return [Path(p) for p in paths]


def replace_link(path):
    """Remove a symbolic link at ``path`` so that writing creates a file there."""
    path = Path(path)
    if path.is_symlink():
        path.unlink()
    return path
