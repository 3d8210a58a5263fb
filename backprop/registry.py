"""One lookup for every registry (activations, losses, variants, schemes, output formats, ...).

A registry is a plain dict from name to object.  ``lookup`` is the single place that turns a
name from a user into the object, with one message that names the field, the choices and, for a
misspelling, the closest one:

>>> lookup({"sigmoid": 1, "tanh": 2}, "sigmod", "activations")
Traceback (most recent call last):
...
ValueError: `activations` must be one of sigmoid, tanh; got 'sigmod' (did you mean 'sigmoid'?)
"""

from __future__ import annotations

import difflib

__all__ = ["suggest", "lookup"]


def suggest(name, choices):
    """`` (did you mean 'sigmoid'?)`` for a misspelt name, or an empty string."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def lookup(registry, name, field, *, kind=None):
    """``registry[name]``; an object that is already of ``kind`` is passed through.

    Raises TypeError for a name that is not a string and ValueError, naming ``field``, the
    choices and the closest one, for an unknown name.
    """
    if kind is not None and isinstance(name, kind):
        return name
    if not isinstance(name, str):
        raise TypeError(f"`{field}` must be a name (one of {', '.join(registry)}); got {name!r}")
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"`{field}` must be one of {', '.join(registry)}; got {name!r}"
                         f"{suggest(name, registry)}") from None
