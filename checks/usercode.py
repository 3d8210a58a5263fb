"""The user's code: named once, imported by path, and called under guard.

``UserTarget.parse`` reads ``FILE.py:TARGET`` (or ``FILE.py`` alone, a script) once, at the door.
``load`` imports FILE the way Python would run it from its own folder: the folder goes first on
``sys.path`` (so it can import the files beside it), it is imported as a module named after its
file, or, when its folder is a package, as part of that package (so ``from ..layers import *``
works), and its ``if __name__ == "__main__":`` block does not run.  A file whose name is taken
by a module already imported (a learner's ``random.py`` or ``json.py``) is imported under a name
of its own, so the standard library's stays what gradcheck and numpy use.  TARGET is a Python
expression evaluated in the module's namespace that gives a callable: ``gradient``,
``Network([2, 3, 1]).backprop``, ``partial(net.loss, reg=0.1)``.  Loading runs the user's code:
the command does it in a child process (``checks.runner``).

Every call into the user's code goes through ``Calls``: what it prints goes to stderr (stdout may
be carrying --json), numpy's error state and print options are restored afterwards, warnings are
recorded rather than raised, and an exception becomes a ``PluginError`` naming the user's file
and line.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import os
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PluginError", "UserTarget", "load", "load_plugin", "Calls", "Target", "describe",
           "name_of", "guarded", "printable", "unique_keys", "raised_in_user_code"]

#: names that exist only in Python 2: a NameError on one of them says what the code is
PYTHON2_NAMES = {"xrange", "unicode", "basestring", "raw_input", "long", "unichr", "reduce"}
#: gradcheck's own source folders (not the folder above them, where a user may keep code)
_OURS = tuple(str(Path(__file__).resolve().parent.parent / d) + os.sep
              for d in ("checks", "backprop", "gradcheck"))


class PluginError(ValueError):
    """The user's code cannot be used as given; the message names the problem."""


def unique_keys(pairs):
    """``object_pairs_hook`` for json: a JSON object whose keys repeat is refused, not read as
    whichever value came last."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} is given twice")
        out[key] = value
    return out


def printable(text, limit=500):
    """``text`` on one line, without terminal control sequences, at most ``limit`` characters:
    fit for a message about the user's code."""
    text = "".join(c if c.isprintable() else " " for c in str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclass(frozen=True)
class UserTarget:
    """The user's ``FILE.py:TARGET``: the file (absolute), the expression (None for a script run
    as written) and what the user typed, for messages."""

    file: Path
    expression: str | None
    shown: str

    @classmethod
    def parse(cls, text, option="--impl", script=False):
        """Parse ``FILE.py:TARGET`` (or ``FILE.py`` alone where ``script``) and check the file."""
        if not isinstance(text, str) or not text.strip():
            raise PluginError(f"{option} must be FILE.py:TARGET; got {text!r}")
        if ".py:" in text:
            file, _, expression = text.partition(".py:")
            file += ".py"
        elif text.endswith(".py"):
            file, expression = text, None
        else:
            file, _, expression = text.partition(":")
        if expression is not None and not expression.strip():
            raise PluginError(f"{option} {printable(text)!r} names no TARGET after the colon")
        if expression is None and not script:
            raise PluginError(f"{option} must be FILE.py:TARGET; got {printable(text)!r}")
        path = Path(file)
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            form = " (FILE.py:TARGET, or FILE.py alone for a training script)" if (
                expression is None) else ""
            raise PluginError(f"{option}: {printable(file)!r} {what}{form}")
        return cls(path.resolve(), expression.strip() if expression else None, printable(text))


def _python2_line(source):
    """The line of a Python 2 construct (a print statement, ``except E, e``), or None."""
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if (text.startswith("print ") and not text.startswith("print (")) or text == "print" or (
                text.startswith("except ") and "," in text and " as " not in text):
            return number
    return None


def _module_name(path):
    """The module FILE is imported as: its package path where its folder is a package, else its
    name; a name some module already has gets one of its own."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.insert(0, folder.name)
        folder = folder.parent
    name = ".".join(parts)
    if not all(p.isidentifier() for p in parts) or (name in sys.modules and not getattr(
            sys.modules[name], "__file__", None) == str(path)):
        return folder, f"_gradcheck_user_{abs(hash(str(path)))}", False
    return folder, name, len(parts) > 1


def load(target):
    """The module of ``target.file`` (imported once) and, for a TARGET, the callable it names."""
    path, shown = target.file, target.shown
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PluginError(f"{shown}: the file cannot be read ({printable(e)})") from None
    try:
        ast.parse(source, filename=str(path))
    except SyntaxError as e:
        line = _python2_line(source)
        if line is not None:
            raise PluginError(f"{path.name} is Python 2 code (line {line}); gradcheck runs "
                              "Python 3: port it first (print(...), except E as e)") from None
        raise PluginError(f"cannot import {path.name}: SyntaxError: {printable(e.msg)} (at "
                          f"{path.name} line {e.lineno})") from None
    module = _import(path)
    if target.expression is None:
        return module, None
    return module, _evaluate(module, target)


def _import(path):
    root, name, in_package = _module_name(path)
    folder = str(path.parent)
    for entry in ([str(root)] if in_package else []) + [folder]:
        if entry not in sys.path:
            sys.path.insert(0, entry)
    if name in sys.modules:
        return sys.modules[name]
    try:
        with guarded():
            if in_package:
                return importlib.import_module(name)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
    except BaseException as e:  # ImportError, SystemExit, anything the file raises
        sys.modules.pop(name, None)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise PluginError(f"cannot import {path.name}: {describe(e)}") from None


def _evaluate(module, target):
    expression = target.expression
    try:
        with guarded():
            scope = {"functools": functools, "partial": functools.partial, **vars(module)}
            fn = eval(compile(expression, "<TARGET>", "eval"), scope)
    except SyntaxError:
        raise PluginError(f"TARGET {printable(expression)!r} is not a Python expression") from None
    except NameError as e:
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                 and getattr(v, "__module__", None) == module.__name__]
        raise PluginError(f"{target.file.name} has no {printable(e.name)!r} (it defines "
                          f"{', '.join(names) or 'nothing callable'})") from None
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        raise PluginError(f"TARGET {printable(expression)!r} raised {describe(e)}") from None
    if not callable(fn):
        raise PluginError(f"TARGET {printable(expression)!r} in {target.file.name} is not "
                          f"callable (it is a {type(fn).__name__})")
    return Target(fn, target.shown)


def load_plugin(spec):
    """The callable named by ``"path/to/file.py:TARGET"``, loaded in this process (this runs the
    file)."""
    return load(UserTarget.parse(spec))[1]


class Target:
    """The user's callable with the name gradcheck reports it by (``FILE.py:TARGET``)."""

    def __init__(self, fn, name):
        self.fn, self.__gradcheck_name__ = fn, name

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self):
        return self.__gradcheck_name__


@contextlib.contextmanager
def guarded(record=None):
    """User code runs with stdout sent to stderr, numpy's state restored, warnings recorded."""
    err = np.geterr()
    printopts = np.get_printoptions()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("always")
        try:
            yield
        finally:  # restored where the code changed them (setting them again costs 5 us a call)
            if np.geterr() != err:
                np.seterr(**err)
            if np.get_printoptions() != printopts:
                np.set_printoptions(**printopts)
    if record is not None:
        record.extend(caught)


def raised_in_user_code(e):
    """Whether the innermost frame of the exception's traceback outside gradcheck and numpy is
    the user's (then the user's code raised it, whatever it is)."""
    return any(not fr.filename.startswith(_OURS) and "site-packages" not in fr.filename
               and not fr.filename.startswith("<") for fr in traceback.extract_tb(e.__traceback__))


def describe(e):
    """``ZeroDivisionError: division by zero (at mine.py line 2)``: located in the user's code,
    the innermost frame outside gradcheck and numpy; one line, no control characters."""
    frames = traceback.extract_tb(e.__traceback__)
    theirs = [fr for fr in frames if not fr.filename.startswith(_OURS)
              and f"{Path('site-packages')}" not in fr.filename and "<" not in fr.filename[:1]]
    where = f" (at {Path(theirs[-1].filename).name} line {theirs[-1].lineno})" if theirs else ""
    try:
        message = str(e)
    except BaseException:  # noqa: BLE001 - an exception whose __str__ raises is still named
        message = "(its message cannot be shown)"
    lines = [line for line in message.splitlines() if line.strip()]
    text = printable(lines[0] if lines else "", 300)
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
            with guarded(self.warnings):
                return self.fn(*args, **kwargs)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            raise PluginError(f"{printable(name_of(self.fn), 200)} raised {describe(e)}") from None

    def notes(self):
        seen = []
        for w in self.warnings:
            text = printable(f"{w.category.__name__}: {w.message} (at {Path(w.filename).name} "
                             f"line {w.lineno})", 300)
            if text not in seen:
                seen.append(text)
        return [f"the code warned: {text}" for text in seen[:3]]
