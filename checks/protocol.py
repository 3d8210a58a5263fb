"""The frames the command and its child process exchange (``checks.runner``, ``checks.child``).

A frame is an 8-byte big-endian length, a JSON object of that many bytes (the header), and the
raw bytes of the arrays the header lists, each ``{"name", "dtype", "shape"}``, C order.  No
pickle and no ``np.load``: the reader checks every dtype against a short list and every size
against its limit before it reads a byte of data, and it reads with a deadline, so a child that
stops answering, answers too much or answers garbage is an error, never a hang.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time

import numpy as np

__all__ = ["ProtocolError", "write_frame", "read_frame", "DTYPES"]

#: the dtypes an array may have: real and complex floats, integers, booleans
DTYPES = {np.dtype(t).str: np.dtype(t) for t in ("<f2", "<f4", "<f8", "<c8", "<c16", "<i8", "<i4",
                                                  "|b1", "|u1")}
MAX_HEADER_BYTES = 1 << 20


class ProtocolError(Exception):
    """The other side broke the protocol: closed its end, timed out, or sent what is not a frame
    within the limits.  ``timeout`` says which."""

    def __init__(self, message, timeout=False):
        super().__init__(message)
        self.timeout = timeout


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def write_frame(fd, header, arrays=None, deadline=None):
    """Write one frame: ``header`` (a JSON-able dict) and ``arrays`` (name -> ndarray)."""
    arrays = {n: np.ascontiguousarray(a) for n, a in (arrays or {}).items()}
    meta = [{"name": n, "dtype": a.dtype.str, "shape": list(a.shape)} for n, a in arrays.items()]
    body = json.dumps({**header, "arrays": meta}, allow_nan=False).encode()
    _write(fd, struct.pack(">Q", len(body)) + body, deadline)
    for a in arrays.values():
        _write(fd, memoryview(a).cast("B"), deadline)


def _write(fd, data, deadline):
    view = memoryview(data)
    while view:
        if deadline is not None:
            _wait(fd, deadline, write=True)
        try:
            written = os.write(fd, view[:1 << 20])
        except BlockingIOError:
            continue
        except (BrokenPipeError, OSError) as e:
            raise ProtocolError(f"the other side closed the pipe ({e.strerror})") from None
        view = view[written:]


def _wait(fd, deadline, write=False):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ProtocolError("no answer in time", timeout=True)
    ready = select.select([], [fd], [], remaining) if write else select.select([fd], [], [], remaining)
    if not any(ready):
        raise ProtocolError("no answer in time", timeout=True)


def _read(fd, n, deadline):
    parts, got = [], 0
    while got < n:
        if deadline is not None:
            _wait(fd, deadline)
        try:
            chunk = os.read(fd, min(n - got, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise ProtocolError("the other side closed the pipe")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def read_frame(fd, deadline=None, max_bytes=1 << 30):
    """(header, {name: array}) of the next frame; ProtocolError when it is not one within the
    limits: a header over 1 MiB, invalid or duplicate-keyed JSON, a dtype not in ``DTYPES``,
    arrays over ``max_bytes`` together."""
    (length,) = struct.unpack(">Q", _read(fd, 8, deadline))
    if length > MAX_HEADER_BYTES:
        raise ProtocolError(f"a header of {length} bytes")
    try:
        header = json.loads(_read(fd, length, deadline).decode("utf-8"),
                            object_pairs_hook=_no_duplicates,
                            parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError("a header that is not a JSON object") from None
    meta = header.pop("arrays", None) if isinstance(header, dict) else None
    if not isinstance(meta, list):
        raise ProtocolError("a header that is not a frame's")
    shapes, total = [], 0
    for item in meta:
        name, dtype, shape = _entry(item)
        total += dtype.itemsize * math.prod(shape)
        if total > max_bytes:
            raise ProtocolError(f"more than {max_bytes} bytes of arrays")
        shapes.append((name, dtype, shape))
    arrays = {}
    for name, dtype, shape in shapes:
        data = _read(fd, dtype.itemsize * math.prod(shape), deadline)
        arrays[name] = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return header, arrays


def _entry(item):
    if not (isinstance(item, dict) and set(item) == {"name", "dtype", "shape"}):
        raise ProtocolError("an array entry that is not {name, dtype, shape}")
    name, dtype, shape = item["name"], item["dtype"], item["shape"]
    if not isinstance(name, str) or dtype not in DTYPES or not isinstance(shape, list) or len(
            shape) > 32 or not all(type(d) is int and 0 <= d < 2**40 for d in shape):
        raise ProtocolError("an array entry out of bounds")
    return name, DTYPES[dtype], tuple(shape)
