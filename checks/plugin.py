"""Loading the user's code (``--impl FILE.py:TARGET``) and calling it safely.

Loading imports FILE as a module named after its file (``network.py`` is ``network``), with its
folder first on ``sys.path`` so it can import the files beside it, and with ``__name__`` set to
that name so its ``if __name__ == "__main__":`` block does not run.  TARGET is a Python
expression evaluated in the module's namespace that gives a callable: ``gradient``,
``Network([2, 3, 1]).backprop``, ``NeuralNetwork(2, 1, 3, learning_rate=0.1).train``.  Loading
runs the user's code: only check code you trust.

Every call into the user's code goes through ``call``: what it prints goes to stderr (stdout may
be carrying --json), numpy's error state and print options are restored afterwards, warnings are
recorded rather than raised, and an exception becomes a ``PluginError`` naming the user's file
and line.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import sys
import traceback
import warnings
from pathlib import Path

import numpy as np

from .rounding import FLOAT64, PRECISIONS, Precision

__all__ = ["PluginError", "load_plugin", "detect_precision", "Calls", "Target"]

#: names that exist only in Python 2: a NameError on one of them says what the code is
PYTHON2_NAMES = {"xrange", "unicode", "basestring", "raw_input", "long", "unichr", "reduce"}
_OURS = str(Path(__file__).resolve().parent)


class PluginError(ValueError):
    """A user's plug-in that cannot be used; the message names the problem."""


def detect_precision(arrays):
    """The precision the arrays were computed in: their dtype when narrower than float64, else
    the narrowest precision that holds every value exactly (float32 arithmetic returned as
    float64).  Values that float32 holds exactly cannot be told from float64 code's, so they are
    judged at float32 (the wider tolerance: never call correct code wrong); float16 is inferred
    only from at least two values that are not whole numbers."""
    arrays = [np.asarray(a) for a in arrays]
    narrow = [a.dtype for a in arrays if a.dtype.kind == "f" and a.dtype.itemsize < 8]
    if narrow:
        return Precision.of(min(narrow, key=lambda d: d.itemsize))
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    with np.errstate(over="ignore"):
        if (np.count_nonzero(values != np.round(values)) >= 2
                and np.array_equal(values.astype(np.float16).astype(float), values)):
            return PRECISIONS["float16"]
        if np.array_equal(values.astype(np.float32).astype(float), values):
            return PRECISIONS["float32"]
    return FLOAT64


def _python2_line(source):
    """The line of a Python 2 construct (a print statement, ``except E, e``), or None."""
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if (text.startswith("print ") and not text.startswith("print (")) or text == "print" or (
                text.startswith("except ") and "," in text and " as " not in text):
            return number
    return None


def load_plugin(spec):
    """The callable named by ``"path/to/file.py:TARGET"``.  This runs the file."""
    if not isinstance(spec, str) or ":" not in spec:
        raise PluginError(f"--impl must be FILE.py:TARGET; got {spec!r}")
    if ".py:" in spec:
        file, _, target = spec.partition(".py:")
        file += ".py"
    else:
        file, _, target = spec.partition(":")
    path = Path(file)
    if not path.is_file():
        raise PluginError(f"plug-in file {file!r} does not exist")
    if not target.strip():
        raise PluginError(f"--impl {spec!r} names no TARGET after the colon")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PluginError(f"plug-in file {file!r} cannot be read: {e}") from None
    try:
        ast.parse(source, filename=str(path))
    except SyntaxError as e:
        line = _python2_line(source)
        if line is not None:
            raise PluginError(f"plug-in {file!r} is Python 2 code (line {line}); gradcheck runs "
                              "Python 3: port it first (print(...), except E as e)") from None
        raise PluginError(f"cannot import plug-in {file!r}: SyntaxError: {e.msg} (at "
                          f"{path.name} line {e.lineno})") from None
    module = _import(path, file)
    try:
        with _guarded():
            scope = {"functools": functools, "partial": functools.partial, **vars(module)}
            fn = eval(compile(target, "<TARGET>", "eval"), scope)
    except SyntaxError:
        raise PluginError(f"TARGET {target!r} is not a Python expression") from None
    except NameError as e:
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                 and getattr(v, "__module__", None) == module.__name__]
        raise PluginError(f"plug-in {file!r} has no {e.name!r} (it defines "
                          f"{', '.join(names) or 'nothing callable'})") from None
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        raise PluginError(f"TARGET {target!r} raised {describe(e)}") from None
    if not callable(fn):
        raise PluginError(f"TARGET {target!r} in {file!r} is not callable (it is a "
                          f"{type(fn).__name__})")
    return Target(fn, f"{file}:{target}")


class Target:
    """The user's callable with the name gradcheck reports it by (``FILE.py:TARGET``)."""

    def __init__(self, fn, name):
        self.fn, self.__gradcheck_name__ = fn, name

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self):
        return self.__gradcheck_name__


def _import(path, file):
    name = path.stem if path.stem.isidentifier() else f"plugin_{abs(hash(str(path)))}"
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None:
        raise PluginError(f"plug-in file {file!r} is not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        with _guarded():
            module_spec.loader.exec_module(module)
    except BaseException as e:  # ImportError, SystemExit, anything the file raises
        if previous is not None:
            sys.modules[name] = previous
        if isinstance(e, KeyboardInterrupt):
            raise
        raise PluginError(f"cannot import plug-in {file!r}: {describe(e)}") from None
    return module


@contextlib.contextmanager
def _guarded(record=None):
    """User code runs with stdout sent to stderr, numpy's state restored, warnings recorded."""
    err = np.geterr()
    printopts = np.get_printoptions()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("always")
        try:
            yield
        finally:
            np.seterr(**err)
            np.set_printoptions(**printopts)
    if record is not None:
        record.extend(caught)


def describe(e):
    """``ZeroDivisionError: division by zero (at mine.py line 2)``: located in the user's code,
    the innermost frame outside gradcheck and numpy."""
    frames = traceback.extract_tb(e.__traceback__)
    theirs = [fr for fr in frames if not fr.filename.startswith(_OURS)
              and f"{Path('site-packages')}" not in fr.filename and "<" not in fr.filename[:1]]
    where = f" (at {Path(theirs[-1].filename).name} line {theirs[-1].lineno})" if theirs else ""
    text = str(e).splitlines()[0] if str(e) else ""
    hint = ""
    if isinstance(e, NameError) and getattr(e, "name", None) in PYTHON2_NAMES:
        hint = "; Python 2 code? gradcheck runs Python 3 (range, print(...), str)"
    return f"{type(e).__name__}{': ' + text if text else ''}{where}{hint}"


def name_of(fn):
    return getattr(fn, "__gradcheck_name__", getattr(fn, "__qualname__", getattr(fn, "__name__",
                                                                                 repr(fn))))


class Calls:
    """Every call into one user callable, and the warnings they raised (for the report's notes)."""

    def __init__(self, fn):
        self.fn = fn
        self.warnings = []

    def __call__(self, *args, **kwargs):
        try:
            with _guarded(self.warnings):
                return self.fn(*args, **kwargs)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            raise PluginError(f"{name_of(self.fn)} raised {describe(e)}") from None

    def notes(self):
        seen = []
        for w in self.warnings:
            text = f"{w.category.__name__}: {w.message} (at {Path(w.filename).name} line {w.lineno})"
            if text not in seen:
                seen.append(text)
        return [f"the code warned: {text}" for text in seen[:3]]

