"""Watching the user's code run: the statements of its own files, what each reads and what it binds.

One mechanism serves two needs: reading code as written (``checks.script``: where a script's
parameters, batch and learning rate are, and when its first update is done) and pointing a
diagnosis at a line (the trace of where each array was computed).  It is a ``sys.settrace`` tracer
(``sys.monitoring`` is Python 3.12) that follows only frames whose code lies in the user's own
files (never numpy's, the standard library's or gradcheck's), and it is meant for one traced call
(or one script run), not for every call.

The API, as data:

``Watch(folders, observers=(), record=False)``
    A context manager: ``with watch: fn()`` runs ``fn`` traced.  ``folders`` are the user's
    folders (a file is the user's when it lies under one of them and not in site-packages or
    gradcheck's own packages).  Each observer may define any of

    - ``on_call(frame)``: a user function was entered (its arguments are bound);
    - ``before(frame, statement)``: ``statement`` is about to run (its reads can be changed);
    - ``after(frame, statement)``: ``statement`` has run (its targets are bound);
    - ``on_return(frame, value)``: a user function returned ``value``.

    An observer may raise ``Stop`` to end the run: the exception unwinds the user's code and
    ``Watch.run`` returns normally.

``Statement`` (file, line, text, node, reads, targets, modified)
    One statement of the user's source, analysed once: the chains it reads (``self.params['W1']``
    as ``(("name", "self"), ("attr", "params"), ("item", "W1"))``), the ones it binds and the ones
    it changes in place (``X[ix] = ...``, ``W += ...``).  ``resolve(frame, chain)`` gives a chain's
    value without running anything (plain attributes, dict and list items only);
    ``assign(frame, chain, value)`` rebinds it (a local, a global, an attribute, an item).

``Trace`` (records, returned, updated)
    With ``record=True`` the watch keeps, for each float ndarray a statement of the user's files
    binds (a local, a global, an attribute, an item), a ``Record(file, line, text, name, value,
    shape, dtype)``: where it was computed, the statement's first line, the name it was bound
    to, and a copy of its value (arrays of 1 to ``MAX_VALUE`` elements and at least one axis;
    ``value`` is None for others).  At most ``MAX_RECORDS`` records, ``MAX_TOTAL`` elements in all.  ``returned`` holds the
    indices of the records whose arrays the traced call returned (alone, or in a tuple, list or
    dict), ``updated`` maps parameter names (``W1``) to the record of the array that ended up as
    the updated parameter (set by the reader with ``Recorder.mark_updated``).  ``Trace.to_wire()``
    and ``Trace.from_wire()`` carry it through the command's protocol as a JSON list and arrays.
"""

from __future__ import annotations

import ast
import ctypes
import linecache
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Watch", "Stop", "Statement", "Record", "Trace", "Recorder", "statement_at", "resolve",
           "assign", "chain_of", "chain_text", "set_local", "MAX_RECORDS", "MAX_VALUE", "MAX_TOTAL"]

#: bounds of a trace: records, elements of one recorded value, elements of all values
MAX_RECORDS = 200
MAX_VALUE = 100_000
MAX_TOTAL = 2_000_000
#: gradcheck's own packages: never the user's code, wherever the user's folder is
_OWN = tuple(str(Path(__file__).resolve().parent.parent / p) for p in ("checks", "backprop",
                                                                         "gradcheck"))
#: code objects that are never followed: comprehensions and lambdas run inside a statement that is
#: already analysed as a whole
_INNER = {"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>", "<lambda>"}


class Stop(BaseException):
    """Raised by an observer to end the watched run (a BaseException: the user's ``except
    Exception`` does not catch it)."""


# -- statements ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Statement:
    """One statement of the user's source: its first line, what it reads, binds and changes."""

    file: str
    line: int
    text: str
    node: ast.AST
    reads: tuple
    targets: tuple
    modified: tuple

    @property
    def where(self):
        return f"{Path(self.file).name} line {self.line}"


def chain_of(node):
    """The chain of a Name / Attribute / Subscript node (steps ("name", x), ("attr", a),
    ("item", constant), ("index", name)), cut before the first step that is not one; None when
    it does not start at a name."""
    if isinstance(node, ast.Name):
        return (("name", node.id),)
    if isinstance(node, ast.Attribute):
        base = chain_of(node.value)
        return base + (("attr", node.attr),) if base else None
    if isinstance(node, ast.Subscript):
        base = chain_of(node.value)
        if not base:
            return None
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, (str, int)) and not isinstance(
                key.value, bool):
            return base + (("item", key.value),)
        if isinstance(key, ast.Name):
            return base + (("index", key.id),)
        if isinstance(key, ast.UnaryOp) and isinstance(key.op, ast.USub) and isinstance(
                key.operand, ast.Constant) and type(key.operand.value) is int:
            return base + (("item", -key.operand.value),)
        return base
    return None


def chain_text(chain):
    """``self.params['W1']`` for its chain."""
    out = ""
    for kind, key in chain:
        if kind == "name":
            out = key
        elif kind == "attr":
            out += f".{key}"
        elif kind == "item":
            out += f"[{key!r}]"
        else:
            out += f"[{key}]"
    return out


def _bound_inside(node):
    """Names bound by comprehensions and lambdas inside ``node``: not the frame's."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.comprehension):
            out |= {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
        elif isinstance(sub, ast.Lambda):
            out |= {a.arg for a in ast.walk(sub.args) if isinstance(a, ast.arg)}
    return out


def _reads(nodes, skip):
    """The maximal chains read in the expressions ``nodes`` (not the bases of stores)."""
    out = []

    def visit(node):
        if isinstance(node, ast.Lambda):
            return
        chain = chain_of(node) if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) else None
        if chain is not None and isinstance(getattr(node, "ctx", None), ast.Load):
            if chain[0][1] not in skip and chain not in out:
                out.append(chain)
            # a subscript's index expression is read too (X[idx])
            for child in ast.iter_child_nodes(node):
                if isinstance(node, ast.Subscript) and child is node.slice:
                    visit(child)
                elif isinstance(child, (ast.Subscript, ast.Attribute, ast.Name)):
                    continue
                else:
                    visit(child)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for node in nodes:
        if node is not None:
            visit(node)
    return tuple(out)


def _store(target, bound, modified, reads, skip):
    """Sort a store target into chains bound, chains changed in place, and chains read."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _store(elt, bound, modified, reads, skip)
        return
    if isinstance(target, ast.Starred):
        _store(target.value, bound, modified, reads, skip)
        return
    chain = chain_of(target)
    if chain is None:
        reads.extend(_reads([target], skip))
        return
    if isinstance(target, ast.Subscript):
        base = chain_of(target.value)
        modified.append(base)   # X[ix] = ..., params["W1"] = ...: the container changes
        if len(chain) > len(base):
            bound.append(chain)
        reads.extend(_reads([target.slice], skip))
        return
    bound.append(chain)
    if isinstance(target, ast.Attribute):
        reads.extend(_reads([target.value], skip))


def _analyse(node):
    """(reads, targets, modified) of a statement (of its header, for a compound statement)."""
    skip = _bound_inside(node)
    bound, modified, extra = [], [], []
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            _store(t, bound, modified, extra, skip)
        reads = _reads([node.value], skip)
    elif isinstance(node, ast.AugAssign):
        _store(node.target, bound, modified, extra, skip)
        modified.extend(bound)
        reads = _reads([node.value], skip)
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        _store(node.target, bound, modified, extra, skip)
        reads = _reads([node.iter], skip)
    elif isinstance(node, (ast.While, ast.If)):
        reads = _reads([node.test], skip)
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None:
                _store(item.optional_vars, bound, modified, extra, skip)
        reads = _reads([item.context_expr for item in node.items], skip)
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try,
                           ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Pass,
                           ast.Break, ast.Continue)):
        reads = ()
    else:  # Expr, Return, Assert, Raise, Delete, ...
        reads = _reads([c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)], skip)
    reads = tuple(dict.fromkeys(tuple(extra) + tuple(reads)))
    return reads, tuple(bound), tuple(modified)


def _header_end(node):
    """The last line of a compound statement's header (the line before its body)."""
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(node, ast.stmt):
        return max(node.lineno, body[0].lineno - 1)
    return getattr(node, "end_lineno", node.lineno) or node.lineno


class _File:
    """One file of the user's, parsed once: line -> Statement."""

    def __init__(self, path):
        self.path = path
        self.by_line = {}
        self.key = None
        source = "".join(linecache.getlines(path))
        try:
            tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError):
            return
        lines = source.splitlines()
        shown = _printable(path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.stmt):
                continue
            compound = isinstance(getattr(node, "body", None), list)
            last = _header_end(node) if compound else (node.end_lineno or node.lineno)
            text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            reads, targets, modified = _analyse(node)
            statement = Statement(shown, node.lineno, _printable(text, 200), node, reads, targets,
                                  modified)
            for line in range(node.lineno, last + 1):
                self.by_line[line] = statement  # deeper statements come later in ast.walk


_FILES = {}


def _fresh(path):
    """Parse ``path`` again if it changed since it was parsed (a file rewritten between runs)."""
    try:
        stat = os.stat(path)
        key = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        return
    found = _FILES.get(path)
    if found is None or found.key != key:
        linecache.checkcache(path)
        _FILES[path] = _File(path)
        _FILES[path].key = key


def statement_at(path, line):
    """The Statement of ``path`` that line ``line`` belongs to, or None."""
    found = _FILES.get(path)
    if found is None:
        found = _FILES[path] = _File(path)
    return found.by_line.get(line)


# -- values of chains ----------------------------------------------------------------------------
_MISSING = object()


def _step(value, kind, key, frame, local=None):
    """One step of a chain without running user code: an instance's own attribute (or a
    module's), a dict's or list's item; _MISSING otherwise."""
    if kind == "attr":
        table = getattr(value, "__dict__", None)
        if isinstance(table, dict) and key in table:
            return table[key]
        return _MISSING
    if kind == "index":
        key = _name(frame, key, local)
        if key is _MISSING or isinstance(key, bool) or not isinstance(key, (int, str)):
            return _MISSING
    if isinstance(value, dict) and not isinstance(key, bool):
        try:
            return value.get(key, _MISSING)
        except TypeError:
            return _MISSING
    if isinstance(value, (list, tuple)) and isinstance(key, int) and not isinstance(key, bool):
        return value[key] if -len(value) <= key < len(value) else _MISSING
    return _MISSING


def _name(frame, name, local=None):
    local = frame.f_locals if local is None else local
    if name in local:
        return local[name]
    return frame.f_globals.get(name, _MISSING)


def resolve(frame, chain, local=None):
    """(value, depth): the value of the longest prefix of ``chain`` that resolves in ``frame``
    (depth steps of it), or (None, 0) when its name is not bound.  ``local``: the frame's
    locals, where the caller has them already (``frame.f_locals`` copies them on each access)."""
    value = _name(frame, chain[0][1], local)
    if value is _MISSING:
        return None, 0
    depth = 1
    for kind, key in chain[1:]:
        nxt = _step(value, kind, key, frame, local)
        if nxt is _MISSING:
            break
        value, depth = nxt, depth + 1
    return value, depth


def set_local(frame, name, value):
    """Rebind ``name`` in ``frame``: a global of a module-level frame, else a local (written back
    to the frame's fast locals)."""
    if frame.f_locals is frame.f_globals or (name not in frame.f_locals
                                             and name in frame.f_globals):
        frame.f_globals[name] = value
        return
    frame.f_locals[name] = value
    ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))


def assign(frame, chain, value):
    """Rebind the value of a fully resolvable ``chain`` in ``frame``; False when it cannot be."""
    if len(chain) == 1:
        set_local(frame, chain[0][1], value)
        return True
    holder, depth = resolve(frame, chain[:-1])
    if depth != len(chain) - 1:
        return False
    kind, key = chain[-1]
    if kind == "index":
        key = _name(frame, key)
    try:
        if kind == "attr":
            setattr(holder, key, value)
        elif isinstance(holder, (dict, list)):
            holder[key] = value
        else:
            return False
    except (AttributeError, TypeError, IndexError, KeyError):
        return False
    return True


# -- the trace -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """One float array the user's code bound: where (file, line, the statement's first line), to
    what name, and its value (a copy; None when larger than MAX_VALUE elements)."""

    file: str
    line: int
    text: str
    name: str
    value: np.ndarray | None
    shape: tuple
    dtype: str


@dataclass(frozen=True)
class Trace:
    """The records of one watched run, the ones returned, and the ones that became the updated
    parameters ({parameter name: record index})."""

    records: tuple = ()
    returned: tuple = ()
    updated: tuple = ()       # ((name, index), ...)

    def to_wire(self):
        """(JSON-able list, {name: array}) for the protocol."""
        items, arrays = [], {}
        for k, r in enumerate(self.records):
            items.append({"file": r.file, "line": r.line, "text": r.text, "name": r.name,
                          "shape": list(r.shape), "dtype": r.dtype,
                          "value": r.value is not None, "returned": k in self.returned,
                          "updated": [n for n, i in self.updated if i == k]})
            if r.value is not None:
                arrays[f"trace{k}"] = r.value
        return items, arrays

    @classmethod
    def from_wire(cls, items, arrays):
        """The Trace of ``to_wire``'s output, already validated (``checks.runner``)."""
        records, returned, updated = [], [], []
        for k, item in enumerate(items):
            value = arrays.get(f"trace{k}") if item["value"] else None
            records.append(Record(item["file"], item["line"], item["text"], item["name"], value,
                                  tuple(item["shape"]), item["dtype"]))
            if item["returned"]:
                returned.append(k)
            updated.extend((n, k) for n in item["updated"])
        return cls(tuple(records), tuple(returned), tuple(updated))


class Recorder:
    """The observer that keeps the trace: every float ndarray a statement binds, and which of
    them the first user function entered returns."""

    def __init__(self):
        self.raw = []           # (statement, name, copy or None, array): Records made at the end
        self.objects = {}       # id -> (array, [record indices]): kept alive, ids stay unique
        self.returned, self.updated = set(), {}
        self.total = 0
        self.top = None         # the first frame of the user's entered: its return is returned

    def on_call(self, frame):
        if self.top is None:
            self.top = frame

    def after(self, frame, statement):
        if not statement.targets or len(self.raw) >= MAX_RECORDS:
            return
        local = frame.f_locals
        for chain in statement.targets:
            value, depth = resolve(frame, chain, local)
            if depth == len(chain) and isinstance(value, np.ndarray) and value.dtype.kind == "f":
                if len(self.raw) >= MAX_RECORDS:  # a statement binding several arrays at the cap
                    return
                self._add(statement, chain, value)

    def _add(self, statement, chain, value):
        size = value.size
        small = 0 < size <= MAX_VALUE and value.ndim and self.total + size <= MAX_TOTAL
        if small:
            self.total += size
        self.raw.append((statement, chain, value.copy() if small else None, value.shape,
                         value.dtype))
        self.objects.setdefault(id(value), (value, []))[1].append(len(self.raw) - 1)

    def on_return(self, frame, value):
        if frame is self.top:
            for v in _members(value):
                self.returned.update(self._latest(v))

    def _latest(self, value):
        found = self.objects.get(id(value))
        return found[1][-1:] if found is not None and found[0] is value else []

    def mark_updated(self, name, value):
        """Say that ``value`` (an array the code holds) is the updated parameter ``name``."""
        latest = self._latest(value)
        if latest:
            self.updated[name] = latest[0]

    def trace(self):
        records = []
        for statement, chain, value, shape, dtype in self.raw:
            name = chain_text(chain)
            records.append(Record(statement.file, statement.line, statement.text,
                                  name if name.isprintable() else _printable(name), value,
                                  tuple(shape), dtype.name))
        return Trace(tuple(records), tuple(sorted(self.returned)),
                     tuple(sorted(self.updated.items())))


def _printable(text, limit=500):
    text = "".join(c if c.isprintable() else " " for c in str(text))
    return text[:limit]


def _members(value):
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (tuple, list)):
        return list(value)
    return [value]


# -- the tracer ----------------------------------------------------------------------------------
@dataclass
class Watch:
    """Trace the user's files while code runs (see the module docstring)."""

    folders: tuple
    observers: list = field(default_factory=list)
    record: bool = False

    def __post_init__(self):
        self.folders = tuple(str(Path(f).resolve()) for f in self.folders)
        self._mine = {}
        self._checked = set()   # files seen fresh by this watch
        self.recorder = Recorder() if self.record else None
        if self.recorder is not None:
            self.observers = [self.recorder] + list(self.observers)
        self._hooks = {name: [getattr(o, name) for o in self.observers if hasattr(o, name)]
                       for name in ("on_call", "before", "after", "on_return")}
        self._after = self._hooks["after"]
        self._previous = None

    def is_users(self, code):
        """Whether a code object is the user's: a file under the user's folders, outside
        site-packages and gradcheck's packages, and not a comprehension or a lambda."""
        found = self._mine.get(code)
        if found is None:
            path = code.co_filename
            found = (code.co_name not in _INNER and path.startswith(self.folders)
                     and "site-packages" not in path and "dist-packages" not in path
                     and not path.startswith(_OWN))
            self._mine[code] = found
            if found and path not in self._checked:
                self._checked.add(path)
                _fresh(path)
        return found

    def __enter__(self):
        self._previous = sys.gettrace()
        sys.settrace(self._global)
        return self

    def __exit__(self, kind, value, tb):
        sys.settrace(self._previous)
        return kind is Stop

    def run(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` watched; (stopped, result): stopped is True when an observer
        ended the run."""
        with self:
            try:
                return False, fn(*args, **kwargs)
            except Stop:
                return True, None

    def trace(self):
        """The Trace of what was recorded (empty when record is False)."""
        return self.recorder.trace() if self.recorder is not None else Trace()

    # -- sys.settrace's callbacks ---------------------------------------------------------------
    def _global(self, frame, event, arg):
        if event != "call" or not self.is_users(frame.f_code):
            return None
        for hook in self._hooks["on_call"]:
            hook(frame)
        return self._local_tracer()

    def _local_tracer(self):
        state = [None]          # the statement last started in this frame
        before, after, on_return = (self._hooks["before"], self._hooks["after"],
                                    self._hooks["on_return"])

        def local(frame, event, arg):
            if event == "line":
                statement = statement_at(frame.f_code.co_filename, frame.f_lineno)
                previous = state[0]
                if statement is previous and statement is not None and not _loops(statement):
                    return local
                if previous is not None:
                    for hook in after:
                        hook(frame, previous)
                state[0] = statement
                if statement is not None:
                    for hook in before:
                        hook(frame, statement)
            elif event == "return":
                if state[0] is not None:
                    for hook in after:
                        hook(frame, state[0])
                    state[0] = None
                for hook in on_return:
                    hook(frame, arg)
            elif event == "exception":
                state[0] = None
            return local

        return local


def _loops(statement):
    """A loop header runs again on every pass: a line event on it starts it anew."""
    return isinstance(statement.node, (ast.For, ast.While, ast.AsyncFor))
