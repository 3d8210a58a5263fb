"""Files the command writes (``--out``, ``--plot``).

Checked before any work starts (the folder exists and is writable; nothing is at the path, or
``--force``), and written so that nothing else is touched:

- every file is written to a temporary file beside its target, then put in place by a link that
  fails if anything exists at the path (no ``--force``: a file that appeared during the check is
  kept, and the command says so) or by a rename that replaces the directory entry (``--force``);
- so a symbolic link or a hard link to a file elsewhere is replaced as an entry, never followed
  or written through; a FIFO, a device or a socket at the path is refused, even with --force.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["check_writable", "written", "place"]


def check_writable(paths, force, option):
    """Refuse, naming ``option``, unless every path's folder exists and is writable and no path
    exists (or ``force``, and it is not a directory)."""
    out = []
    for path in paths:
        if not str(path).strip():
            raise ValueError(f"{option} needs a file name; got an empty one")
        path = Path(path)
        folder = path.parent
        if not folder.is_dir():
            raise ValueError(f"{option} {str(path)!r}: the folder {str(folder)!r} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(f"{option} {str(path)!r}: the folder {str(folder)!r} is not writable")
        if os.path.lexists(path):
            _replaceable(path, option)
            if not force:
                raise ValueError(f"{option}: {str(path)!r} already exists; pass --force to "
                                 "replace it")
        out.append(path)
    return out


def _replaceable(path, option):
    """Refuse an entry --force may not replace: a directory, a FIFO, a device or a socket (a
    regular file or a symbolic link is replaced as an entry)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise ValueError(f"{option} {str(path)!r} is a directory")
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise ValueError(f"{option} {str(path)!r} is not a regular file (a FIFO, a device or a "
                         "socket); gradcheck replaces only files, even with --force")


def place(temporary, path, force, option):
    """Put the written ``temporary`` file at ``path``: by a link that refuses an existing entry,
    or, with ``force``, by a rename that replaces the entry itself (never what it points at)."""
    path = Path(path)
    try:
        if force:
            _replaceable(path, option)
            os.replace(temporary, path)
            return path
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise ValueError(f"{option}: {str(path)!r} appeared while gradcheck was working; it "
                             "was left as it is (pass --force to replace it)") from None
        except OSError:  # a file system without hard links: the check-then-rename race remains
            if os.path.lexists(path):
                raise ValueError(f"{option}: {str(path)!r} already exists; pass --force to "
                                 "replace it") from None
            os.replace(temporary, path)
        return path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


@contextlib.contextmanager
def written(path, force, option):
    """``with written(path, force, "--plot") as tmp:`` write the file at ``tmp`` (same folder,
    same suffix); on leaving, it is placed at ``path`` (``place``), or removed on an error."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix or ".tmp",
                                dir=path.parent)
    os.close(fd)
    try:
        yield Path(name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    place(name, path, force, option)
