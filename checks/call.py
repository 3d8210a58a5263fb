"""How to call the user's code: what each of its arguments is, where its parameters are, and
the forms a batch can be handed to it in.

The roles of the arguments come from their names (``X``, ``input_vector``, ``eta``,
``mini_batch``, ``W1``); where some required arguments have names of their own, the contract's
positional order decides, provided it agrees with every name that does say something.  The
``Plan`` is fixed once made; the ``Form`` (the batch, one example per call, or Nielsen's list of
pairs) is chosen by ``checks.adapt`` from what the calls show.
"""

from __future__ import annotations

import inspect
import numbers
import re
from dataclasses import dataclass, replace

import numpy as np

from .locate import (Holder, Namespace, ParamsNotFound, arg_slots, find_slots, fresh_args,
                     owner_of)
from .readers import declared_by_source
from .usercode import Calls, PluginError, name_of

__all__ = ["ROLES", "Plan", "Form", "make_plan", "forms", "inputs", "invoke", "roles_of",
           "BatchForm", "x_forms", "y_forms", "pairs_form", "build_batch", "examples_of",
           "numeric", "FORM_LAYOUT"]

ROLES = {
    "x": {"x", "X", "inputs", "input", "input_vector", "inputs_list", "input_list", "x_batch",
          "X_batch", "xs", "features", "a0", "A0", "x_train", "X_train", "data", "sample"},
    "y": {"y", "Y", "targets", "target", "target_vector", "targets_list", "target_list", "labels",
          "y_batch", "ys", "t", "T", "y_true", "y_train", "Y_train", "label", "expected"},
    "lr": {"lr", "eta", "learning_rate", "alpha", "rate", "step_size", "learningrate", "lrate",
           "learningRate", "learn_rate"},
    "weights": {"weights", "W", "Ws", "w", "ws", "weight"},
    "biases": {"biases", "b", "bs", "bias"},
    "params": {"parameters", "params", "parameter", "theta", "model_params"},
    "pairs": {"mini_batch", "minibatch", "batch", "training_data", "pairs", "samples", "examples"},
}
_ROLE_OF = {name: role for role, names in ROLES.items() for name in names}
#: names of an argument that holds one example (python-course's input_vector, MYONN's
#: inputs_list): such code is called one example at a time first
ONE_EXAMPLE = {"input_vector", "input", "sample", "inputs_list", "input_list", "x_i", "xi",
               "example", "single_input"}
#: the contract's positional orders, by the number of required arguments
POSITIONAL = {2: ["x", "y"], 3: ["params", "x", "y"], 4: ["weights", "biases", "x", "y"],
              5: ["weights", "biases", "x", "y", "lr"]}
_ONE_PARAMETER = re.compile(r"^([WwBb])_?(\d+)$")


def _parameter_role(name):
    """``"param:W1"`` for an argument that names one parameter array (W1, w_2, b1), else None."""
    match = _ONE_PARAMETER.match(name)
    return f"param:{match.group(1).upper().replace('B', 'b')}{match.group(2)}" if match else None


def roles_of(fn, spec):
    """({parameter name: role}, the required parameters no role fits)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}, []
    params = [prm for prm in sig.parameters.values()
              if prm.kind not in (prm.VAR_POSITIONAL, prm.VAR_KEYWORD)]
    named = {prm.name: ("lr" if spec.lr == prm.name else _ROLE_OF.get(prm.name)
                        or _parameter_role(prm.name)) for prm in params}
    required = [prm.name for prm in params if prm.default is prm.empty]
    unknown = [n for n in required if named[n] is None]
    if unknown:
        order = POSITIONAL.get(len(required))
        if order and all(named[n] in (None, role) for n, role in zip(required, order)):
            return dict(zip(required, order)), []
    roles = {}
    for name, role in named.items():
        if role is not None and role not in roles.values():
            roles[name] = role
    return roles, unknown


@dataclass(frozen=True)
class Plan:
    """How to call the code: its roles, where its parameters are, which way it lays out
    examples, where its learning rate goes."""

    fn: object                # what the user named, for messages
    calls: Calls              # every call into the code goes through this
    owner: object             # the object (or module namespace) holding the parameters, or None
    roles: dict               # argument name -> role
    slots: tuple              # one Slot per parameter
    rows: bool                # the code keeps examples in rows (x @ W)
    lr_attr: str | None       # the attribute holding the learning rate, if not an argument
    labels: str               # "one_hot" or "integers"
    declared: str | None = None  # the reading the code declares (readers' names), if any

    @property
    def passes_params(self):
        """The parameters are arguments (weights, biases, a dict, W1, b1, ...)."""
        given = set(self.roles.values())
        return bool({"weights", "biases", "params"} & given) or any(
            r.startswith("param:") for r in given)

    @property
    def takes_lr(self):
        return "lr" in self.roles.values() or self.lr_attr is not None

    def root(self, net):
        """Where the parameters are written for a call: the object, or fresh argument
        containers."""
        return fresh_args(net) if self.passes_params else self.owner


def make_plan(net, fn, spec, only=None):
    """The ``Plan`` for calling ``fn`` on ``net``'s parameters, or a PluginError saying what the
    code lacks.  ``only``: ids of the arrays the code was seen to read (the parameters are among
    them)."""
    raw, owner = owner_of(fn)
    roles, unknown = roles_of(raw, spec)
    if unknown:
        raise PluginError(f"{name_of(fn)} takes {', '.join(unknown)}, which gradcheck cannot "
                          "supply; wrap it in a lambda as TARGET (e.g. "
                          f"'lambda x, y: f(x, y, {unknown[0]}=...)')")
    if "x" not in roles.values() and "pairs" not in roles.values():
        raise ParamsNotFound(f"{name_of(fn)} takes no batch: none of its arguments is named like "
                             "x, X, inputs, input_vector or mini_batch")
    probe = Plan(fn, Calls(raw), owner, roles, (), False, None, spec.labels)
    slots = tuple(_slots(probe, net, spec, only))
    lr_attr = None
    if "lr" not in roles.values() and owner is not None:
        names = [spec.lr] if spec.lr else sorted(ROLES["lr"])
        lr_attr = next((n for n in names if isinstance(getattr(owner, n, None), numbers.Real)
                        and not isinstance(getattr(owner, n), bool)), None)
        if spec.lr and lr_attr is None:
            raise PluginError(f"`impl.lr` = {spec.lr!r}: neither an argument of {name_of(fn)} nor "
                              "a number on its object")
    rows = _code_rows(net, slots)
    if not probe.passes_params:
        slots = _oriented(net, slots, rows)
    return Plan(fn, probe.calls, owner, roles, slots, rows, lr_attr, spec.labels,
                _declared(fn, roles))


def _declared(fn, roles):
    """The reading the code declares: a function of ``(weights, biases, x, y)`` returns the
    contract's ``(nabla_w, nabla_b)``; else what its return statement names
    (``return (nabla_b, nabla_w)``)."""
    if {"weights", "biases"} <= set(roles.values()):
        return "w_b"
    return declared_by_source(fn)


def _slots(plan, net, spec, only=None):
    if plan.passes_params:
        named = {r[6:] for r in plan.roles.values() if r.startswith("param:")}
        missing = [p.name for p in net.params if named and p.name not in named]
        if missing:
            raise PluginError(f"{name_of(plan.fn)} takes {', '.join(sorted(named))} but not "
                              f"{', '.join(missing)}, which the config's network has")
        if "weights" in plan.roles.values() and net.bias and "biases" not in plan.roles.values():
            raise PluginError(f"{name_of(plan.fn)} takes weights but no biases, and the config has "
                              "bias = true: set bias = false, or give the code its biases")
        return arg_slots(net, plan.roles)
    if plan.owner is None:
        raise ParamsNotFound(f"{name_of(plan.fn)} takes no parameters (no argument named weights, "
                             "biases, parameters or W1, b1, ...), and no object it is a method of, "
                             "closes over or takes as a default, nor its module's globals, holds "
                             "float arrays")
    return find_slots(plan.owner, net, spec, only)


def _code_rows(net, slots):
    """Whether the code lays examples out in rows (x @ W): its non-square weights as the config
    has them, or transposed; where every weight is square, its biases ((1, n) rows, (n, 1)
    columns); where they cannot tell either, the config's layout, which describes the code."""
    weights = [s for s in slots if s.param.kind == "weight" and len(set(s.param.shape)) == 2]
    if weights:
        flipped = any(s.shape == s.param.shape[::-1] for s in weights)
        same = any(s.shape == s.param.shape for s in weights)
        return (net.layout == "rows") != (flipped and not same)
    for s in slots:
        if s.param.kind == "bias" and len(s.shape) == 2 and max(s.shape) > 1:
            return s.shape[0] == 1
    return net.layout == "rows"


def _oriented(net, slots, rows):
    """The slots with every weight marked transposed where the code's layout is not the
    config's (a square weight cannot show it by its shape)."""
    flip = rows != (net.layout == "rows")
    return tuple(replace(s, transposed=flip and s.param.kind == "weight" and len(s.shape) == 2)
                 for s in slots)


@dataclass(frozen=True)
class Form:
    """How a batch is handed to the code: whole, one example per call (a column, a row, a flat
    vector), or as Nielsen's list of (x, y) pairs."""

    call: str                 # "batch", "example" or "pairs"
    vectors: str = ""         # for "example": "column", "row", "flat", or "" (the code's layout)

    def describe(self, plan):
        if self.call != "example":
            return self.call
        return {"flat": "1-D vectors", "row": "rows (1, n)", "column": "columns (n, 1)",
                "stack": "a stack of one " + ("row (1, 1, n)" if plan.rows else "column (1, n, 1)"),
                "": "rows (1, n)" if plan.rows else "columns (n, 1)"}[self.vectors]


def forms(plan, spec):
    """The forms the code may take the batch in, in the order tried: the batch first (the
    contract's), then one example per call, unless the code names its input as one example
    (``input_vector``), when one example per call comes first; only what the [impl] table or the
    signature allows."""
    per_example = [Form("example"), Form("example", "flat"), Form("example", "stack")]
    if spec.call == "example" or (spec.call is None and spec.vectors):
        return [Form("example", spec.vectors)] if spec.vectors else per_example
    if spec.call is not None:
        return [Form(spec.call, spec.vectors or "")]
    if "pairs" in plan.roles.values():
        return [Form("pairs")]
    if any(role == "x" and name in ONE_EXAMPLE for name, role in plan.roles.items()):
        return per_example + [Form("batch")]
    return [Form("batch")] + per_example


def _example(x, k, rows, vectors):
    """Example k of x (columns layout, (n, m)) as the code wants one example."""
    col = x[:, k:k + 1]
    if vectors == "flat":
        return col[:, 0].copy()
    if vectors == "stack":  # a stack of one example, (1, n, 1) (or (1, 1, n) for rows code)
        return (col.T[:, None, :] if rows else col.T[:, :, None]).copy()
    if vectors == "row" or (not vectors and rows):
        return col.T.copy()
    return col.copy()


def _labels(y):
    """Integer class labels from one-hot (or probability) columns (n, m) -> (m,)."""
    return np.argmax(y, axis=0).astype(np.int64)


def inputs(plan, form, x, y):
    """[(x, y)] as each call takes them: one call for a batch or for Nielsen's list of pairs,
    one per example otherwise (x, y in the columns layout, (n, m))."""
    if form.call == "pairs":
        return [([(x[:, k:k + 1].copy(), y[:, k:k + 1].copy()) for k in range(x.shape[1])], None)]
    if form.call == "batch":
        xs = np.ascontiguousarray(x.T if plan.rows else x)
        ys = _labels(y) if plan.labels == "integers" else np.ascontiguousarray(y.T if plan.rows else y)
        return [(xs, ys)]
    return [(_example(x, k, plan.rows, form.vectors),
             _labels(y[:, k:k + 1]) if plan.labels == "integers"
             else _example(y, k, plan.rows, form.vectors))
            for k in range(x.shape[1])]


def invoke(plan, net, x_arg, y_arg, lr):
    """One call with the network's parameters written into the code's places first:
    (what it returned, the root its parameters are under)."""
    root = plan.root(net)
    values = net.parameters()
    for s in plan.slots:
        s.put(root, values[s.param.name])
    kwargs = {}
    for name, role in plan.roles.items():
        if role in ("x", "pairs"):
            kwargs[name] = x_arg
        elif role == "y":
            kwargs[name] = y_arg
        elif role == "lr":
            kwargs[name] = lr
        elif role.startswith("param:"):
            kwargs[name] = root.params[role[6:]]
        else:
            kwargs[name] = getattr(root, role)
    saved = getattr(plan.owner, plan.lr_attr) if plan.lr_attr else None
    if plan.lr_attr:
        setattr(plan.owner, plan.lr_attr, lr)
    try:
        return plan.calls(**kwargs), root
    finally:
        if plan.lr_attr:
            setattr(plan.owner, plan.lr_attr, saved)


def where_found(plan):
    """The note saying where the parameters were found on an object or in a module."""
    if plan.owner is None or plan.passes_params:
        return None
    found = ", ".join(f"{s.param.name} = {s.label}" for s in plan.slots)
    if isinstance(plan.owner, Namespace):
        return f"parameters found in the module's globals: {found.replace('self.', '')}"
    if isinstance(plan.owner, Holder):
        return f"parameters found in what the call is handed: {found.replace('self.', '')}"
    return f"parameters found on the {type(plan.owner).__name__} object: {found}"


# -- the batch as code keeps it: recognised by shape, rebuilt from the config's ---------------------
#: a y form each x form pairs with (the same number of examples M)
_PAIRS_WITH = {"rows": {"rows", "labels", "targets"}, "columns": {"columns", "labels", "targets"},
               "stack_cols": {"stack_cols", "labels", "targets"},
               "stack_rows": {"stack_rows", "labels", "targets"}, "flat": {"flat", "labels", "targets"}}
#: the layout an x form shows: examples in rows (a @ W) or in columns (W @ a)
FORM_LAYOUT = {"rows": "rows", "stack_rows": "rows", "columns": "columns", "stack_cols": "columns"}
_MAX_LIST = 1_000_000


@dataclass(frozen=True)
class BatchForm:
    """How code keeps inputs (role "x"), targets ("y") or Nielsen's (x, y) pairs ("pairs"): the
    kind ("rows" (M, n), "columns" (n, M), "stack_cols" (M, n, 1), "stack_rows" (M, 1, n), "flat"
    (n,) one example, "labels" (M,) integers, "targets" (M,) for one output), the number of
    examples M, its container ("" an array, "lists" nested Python lists, "arrays" a list of
    arrays, one per example), and the dtype of labels."""

    role: str
    kind: str
    M: int
    listed: str = ""
    dtype: str = "float64"
    example: tuple = ()       # for pairs: the shapes of the first pair's x and y (or () for a label)

    def pairs_with(self, other):
        return other.M == self.M and other.kind in _PAIRS_WITH.get(self.kind, ())

    def describe(self):
        return {"rows": "rows", "columns": "columns", "stack_cols": "a stack of columns",
                "stack_rows": "a stack of rows", "flat": "one example", "labels": "labels",
                "targets": "targets", "pairs": "(x, y) pairs"}[self.kind]


def _container(value):
    if not isinstance(value, list):
        return ""
    return "arrays" if isinstance(value[0], np.ndarray) else "lists"


def _number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def numeric(value):
    """``value`` as a numeric ndarray when it is one (or a list of numbers, or of lists of
    numbers), else None.  Tuples of ints (shapes) are not data."""
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "iuf" and value.size else None
    if not isinstance(value, list) or not value or len(value) > _MAX_LIST:
        return None
    first = value[0]
    if isinstance(first, np.ndarray):
        if first.ndim not in (1, 2) or not first.size or first.dtype.kind not in "iuf":
            return None
    elif not (_number(first) or (isinstance(first, list) and first and (
            _number(first[0]) or isinstance(first[0], list)))):
        return None
    try:
        a = np.asarray(value)
    except (ValueError, TypeError):
        return None
    return a if a.dtype.kind in "iuf" and 1 <= a.ndim <= 3 and a.size <= _MAX_LIST else None


def x_forms(value, n0, prefer="columns"):
    """The forms in which ``value`` holds inputs of width ``n0`` (both orientations of a square
    array, the ``prefer``red layout first)."""
    a = numeric(value)
    if a is None:
        return []
    listed = _container(value)
    out = []
    if a.ndim == 2:
        if a.shape[1] == n0:
            out.append(BatchForm("x", "rows", a.shape[0], listed))
        if a.shape[0] == n0:
            out.append(BatchForm("x", "columns", a.shape[1], listed))
        out.sort(key=lambda f: FORM_LAYOUT[f.kind] != prefer)
    elif a.ndim == 3 and a.shape[1:] == (n0, 1):
        out.append(BatchForm("x", "stack_cols", a.shape[0], listed))
    elif a.ndim == 3 and a.shape[1:] == (1, n0):
        out.append(BatchForm("x", "stack_rows", a.shape[0], listed))
    elif a.ndim == 1 and a.shape[0] == n0:
        out.append(BatchForm("x", "flat", 1, listed))
    return out


def y_forms(value, n_out, labels):
    """The forms in which ``value`` holds targets for ``n_out`` outputs (integer class labels
    where the [impl] table says labels = "integers")."""
    a = numeric(value)
    if a is None:
        return []
    listed = _container(value)
    if labels == "integers":
        if a.ndim == 1 and a.dtype.kind in "iu":
            return [BatchForm("y", "labels", a.shape[0], listed, a.dtype.name)]
        return []
    out = []
    if a.ndim == 2:
        if a.shape[1] == n_out:
            out.append(BatchForm("y", "rows", a.shape[0], listed))
        if a.shape[0] == n_out:
            out.append(BatchForm("y", "columns", a.shape[1], listed))
    elif a.ndim == 3 and a.shape[1:] in ((n_out, 1), (1, n_out)):
        kind = "stack_cols" if a.shape[1:] == (n_out, 1) else "stack_rows"
        out.append(BatchForm("y", kind, a.shape[0], listed))
    elif a.ndim == 1 and n_out == 1:
        out.append(BatchForm("y", "targets", a.shape[0], listed))
    elif a.ndim == 1 and a.shape[0] == n_out:
        out.append(BatchForm("y", "flat", 1, listed))
    return out


def _example_shape(a, n):
    return isinstance(a, np.ndarray) and a.shape in ((n, 1), (n,), (1, n)) and a.dtype.kind in "iuf"


def pairs_form(value, n0, n_out, labels):
    """The form of Nielsen's list of (x, y) pairs (x an example of n0 inputs, y of n_out targets
    or an integer label), or None."""
    if not isinstance(value, list) or not value or len(value) > _MAX_LIST:
        return None
    ends = (value[0], value[-1])
    if not all(isinstance(p, tuple) and len(p) == 2 and _example_shape(p[0], n0) for p in ends):
        return None
    first = value[0][1]
    if labels == "integers":
        if not all(isinstance(p[1], (int, np.integer)) for p in ends):
            return None
        return BatchForm("pairs", "pairs", len(value), "pairs", "int64", (value[0][0].shape, ()))
    if not all(_example_shape(p[1], n_out) for p in ends):
        return None
    return BatchForm("pairs", "pairs", len(value), "pairs", "float64",
                     (value[0][0].shape, first.shape))


def build_batch(form, x, y):
    """The config's batch (x, y columns (n, m)) in ``form``: what the code would have made itself
    from the config's examples."""
    m = x.shape[1]
    if form.kind == "pairs":
        xs, ys = form.example
        return [(np.array(x[:, k], dtype=float).reshape(xs),
                 int(np.argmax(y[:, k])) if ys == () else np.array(y[:, k], dtype=float).reshape(ys))
                for k in range(m)]
    a = x if form.role == "x" else y
    if form.kind == "labels":
        value = np.argmax(y, axis=0).astype(form.dtype)
    elif form.kind == "targets":
        value = np.array(y[0], dtype=float)
    elif form.kind == "flat":
        if m != 1:
            raise PluginError(f"the code takes one example at a time ({form.role} of shape "
                              f"({a.shape[0]},)) and the config's batch has {m}: set batch = 1")
        value = np.array(a[:, 0], dtype=float)
    else:
        value = {"rows": a.T, "columns": a, "stack_cols": a.T[:, :, None],
                 "stack_rows": a.T[:, None, :]}[form.kind]
        value = np.array(value, dtype=float)
    if form.listed == "arrays":
        return [np.array(part) for part in value]
    return value.tolist() if form.listed else value


def examples_of(value, form):
    """The examples ``value`` holds in ``form``, one row each (an (M, n) float array), or None."""
    if form.kind == "pairs":
        return np.array([np.asarray(p[0], dtype=float).reshape(-1) for p in value])
    a = numeric(value)
    if a is None:
        return None
    a = np.asarray(a, dtype=float)
    if form.kind in ("columns",):
        return a.T
    if form.kind == "flat":
        return a[None, :]
    return a.reshape(a.shape[0], -1)
