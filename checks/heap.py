"""Freed memory kept for reuse during a check.

A check's temporaries are arrays from a hundred kilobytes to a few megabytes, made and freed by
the thousand.  glibc's malloc starts by serving anything over 128 KiB with a fresh mmap and by
returning any free top of the heap over 256 KiB to the system, so each such temporary is new
memory, and its first touch page-faults: measured here, 290 faults per check on Nielsen's
[784, 30, 10] net (40% of its time) and 10,000 on [784, 512, 512, 10] (20%).

glibc adjusts both thresholds by itself: freeing an mmapped block raises the mmap threshold to
that block's size (up to 32 MiB on 64-bit systems) and the trim threshold to twice it, as any
program that once freed a large array finds.  ``keep_freed_memory`` frees one such block of
31 MiB, never touched (no page is mapped in), so later temporaries up to that size reuse heap
memory.  Nothing is disabled and no setting is pinned: it is the state the process reaches by
itself after one large array, once per process.  The block is address space, never memory in
use, so it is not counted in a check's working memory (``checks.budget``).  The cost is that up to 62 MiB of freed memory stays in the
process instead of returning to the system.  Elsewhere than glibc it is one untouched
allocation, and harmless.
"""

from __future__ import annotations

import numpy as np

__all__ = ["keep_freed_memory", "PRIMING_BYTES"]

#: below glibc's DEFAULT_MMAP_THRESHOLD_MAX (32 MiB on 64-bit) with room for the block's header
PRIMING_BYTES = 31 * 2**20


_done = False


def keep_freed_memory():
    """Raise malloc's thresholds the way freeing a large array does (see the module docstring).
    Once per process: glibc never lowers them again by itself."""
    global _done
    if not _done:
        np.empty(PRIMING_BYTES // 8)  # allocated and, unreferenced, freed at once
        _done = True
