"""Meeting the user's code where it is: finding its parameters, calling it, reading what it gives.

The code under test is any callable: a function of the contract's ``(weights, biases, x, y[, lr])``,
a function of a parameter dict (``(parameters, X, Y)``), or a method of the user's own object
(``Network([2, 3, 1]).backprop``, ``NeuralNetwork(2, 1, 3, learning_rate=0.1).train``,
``TwoLayerNet(4, 10, 3).loss``).  Three questions are answered from the code itself, and only
where it cannot tell from an ``[impl]`` table in the config (``ImplSpec``):

- **Where the parameters live.**  In the arguments (lists, or a dict keyed ``W1``, ``b1``), or on
  the method's object: lists of arrays (``self.weights``), separately named arrays (``self.wih``,
  ``self.W1``), or a dict (``self.params["W1"]``), found by the shapes the config gives, in either
  orientation, biases as ``(n, 1)``, ``(1, n)`` or ``(n,)``.  The config's values are written into
  them before every call and read back after it.
- **How to call it.**  With the batch (in the code's own orientation), one example per call (a
  column, a row or a 1-D vector, as the code expects), or Nielsen's list of ``(x, y)`` pairs.
  One example per call is summed over the batch, each call from the same parameters, so online
  SGD is compared example by example.  The learning rate goes in as an argument (``lr``, ``eta``,
  ``learning_rate``, ``alpha``) or an attribute of the object.
- **What comes back.**  A list per layer, ``(nabla_w, nabla_b)`` or Nielsen's ``(nabla_b,
  nabla_w)``, a dict keyed ``W1``/``dW1``/``b1``/``db1``, a ``(loss, gradient)`` pair, or nothing:
  a step taken in place (or new parameters returned), whose gradient is (before - after) / lr.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import re
from dataclasses import dataclass, fields

import numpy as np

from ..backprop.registry import suggest

from .analytic import IMPL_KINDS, AnalyticGradient
from .diagnose import matching_reduction, name_constant
from .plugin import FLOAT64, Calls, PluginError, Target, detect_precision, name_of

__all__ = ["ImplSpec", "impl_gradient", "combine_examples"]

ROLES = {
    "x": {"x", "X", "inputs", "input", "input_vector", "inputs_list", "input_list", "x_batch",
          "X_batch", "xs", "features", "a0", "A0", "x_train", "X_train", "data", "sample"},
    "y": {"y", "Y", "targets", "target", "target_vector", "targets_list", "target_list", "labels",
          "y_batch", "ys", "t", "T", "y_true", "y_train", "Y_train", "label", "expected"},
    "lr": {"lr", "eta", "learning_rate", "alpha", "rate", "step_size", "learningrate", "lrate"},
    "weights": {"weights", "W", "Ws", "w", "ws", "weight"},
    "biases": {"biases", "b", "bs", "bias"},
    "params": {"parameters", "params", "parameter", "theta", "model_params"},
    "pairs": {"mini_batch", "minibatch", "batch", "training_data", "pairs", "samples", "examples"},
}
_ROLE_OF = {name: role for role, names in ROLES.items() for name in names}


@dataclass(frozen=True)
class ImplSpec:
    """The ``[impl]`` table: only what the code itself cannot tell.  Every key is optional.

    kind      "gradient" or "step" (otherwise: what the call returns shows it)
    call      "batch", "example" (one example per call) or "pairs" (a list of (x, y) pairs)
    vectors   one example as a "column" ((n, 1)), a "row" ((1, n)) or "flat" ((n,))
    weights   the attributes (or dict keys) holding W1 ... WL, in order: ["wih", "who"]
    biases    likewise for b1 ... bL
    params    the attribute holding a dict of all parameters: "params"
    lr        the argument or attribute holding the learning rate: "learning_rate"
    labels    "one_hot" (default) or "integers": class labels handed to the code as integers
    """

    kind: str | None = None
    call: str | None = None
    vectors: str | None = None
    weights: tuple | None = None
    biases: tuple | None = None
    params: str | None = None
    lr: str | None = None
    labels: str = "one_hot"

    CHOICES = {"kind": IMPL_KINDS, "call": ("batch", "example", "pairs"),
               "vectors": ("column", "row", "flat"), "labels": ("one_hot", "integers")}

    def fields(self):
        """The keys that are set, as plain values (for the child process's request)."""
        return {f.name: (list(v) if isinstance(v, tuple) else v) for f in fields(self)
                if (v := getattr(self, f.name)) is not None}

    @classmethod
    def from_table(cls, table):
        """An ImplSpec from a config's ``[impl]`` table; ValueError naming the key."""
        table = dict(table or {})
        names = [f.name for f in fields(cls)]
        out = {}
        for key, value in table.items():
            if key not in names:
                raise ValueError(f"unknown key `impl.{key}`{suggest(key, names)}; the keys are "
                                 f"{', '.join(names)}")
            if key in cls.CHOICES:
                if value not in cls.CHOICES[key]:
                    raise ValueError(f"`impl.{key}` must be one of {', '.join(cls.CHOICES[key])}; "
                                     f"got {value!r}{suggest(value, cls.CHOICES[key])}")
            elif key in ("weights", "biases"):
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"`impl.{key}` must be a list of names; got {value!r}")
                value = tuple(value)
            elif not isinstance(value, str) or not value:
                raise ValueError(f"`impl.{key}` must be a name; got {value!r}")
            out[key] = value
        return cls(**out)


# -- where one parameter array lives ------------------------------------------------------------
@dataclass
class Slot:
    """Where the code keeps one parameter: a path of steps from the object (or the argument
    containers), ``("attr", name)`` or ``("item", key)``, and the shape and dtype it uses."""

    param: object             # the Parameter record
    path: tuple               # (("attr", "params"), ("item", "W1")), (("attr", "dense1"), ...)
    shape: tuple              # the shape the code uses
    dtype: np.dtype

    @staticmethod
    def walk(root, path):
        for kind, key in path:
            root = getattr(root, key) if kind == "attr" else root[key]
        return root

    def get(self, root):
        return self.walk(root, self.path)

    def put(self, root, value):
        """Write the config's value (config layout) into the code's array, in place if it can."""
        value = self.to_code(value)
        current = self.get(root)
        if isinstance(current, np.ndarray) and current.shape == value.shape and current.flags.writeable:
            current[...] = value
            return
        holder = self.walk(root, self.path[:-1])
        kind, key = self.path[-1]
        if kind == "attr":
            setattr(holder, key, value)
        else:
            holder[key] = value

    def to_code(self, value):
        value = np.asarray(value)
        if value.shape != self.shape:
            value = value.T if value.T.shape == self.shape else value.reshape(self.shape)
        return np.array(value, dtype=self.dtype)

    def to_config(self, value, what):
        """A value in the code's shape (or any shape a gradient of it may have) in config layout."""
        a = np.asarray(value)
        target = self.param.shape
        if a.dtype.kind not in "biuf" or a.dtype == bool:
            raise PluginError(f"{what} {self.param.name} with dtype {a.dtype}; expected real "
                              "numbers")
        if a.shape == target:
            return a
        if a.shape == self.shape and a.T.shape == target and self.shape != target:
            return a.T
        if self.param.kind == "bias" and a.size == int(np.prod(target)) and a.ndim <= 2 and (
                a.ndim < 2 or 1 in a.shape):
            return a.reshape(target)
        hint = ""
        if a.shape == target[::-1]:
            hint = " (its transpose: is the code written for the other layout?)"
        elif a.size == int(np.prod(target)):
            hint = f" (same size, different shape: reshape it to {target})"
        raise PluginError(f"{what} {self.param.name} with shape {a.shape}; the network needs "
                          f"{target}{hint}")

    def gradient_beside(self, root):
        """A gradient the code wrote beside the parameter (nnfs's ``layer.dweights``,
        ``self.grads["W1"]``), or None."""
        holder = self.walk(root, self.path[:-1])
        kind, key = self.path[-1]
        names = [f"d{key}", f"grad_{key}", f"{key}_grad", f"d_{key}", f"grad{key}"]
        if kind == "attr":
            for name in names:
                value = getattr(holder, str(name), None)
                if _float_array(value):
                    return value
        else:
            parent = self.walk(root, self.path[:-2]) if len(self.path) > 1 else None
            for grads in ("grads", "gradients", "grad", "dparams"):
                table = getattr(parent, grads, None) if parent is not None else None
                if isinstance(table, dict):
                    for name in [key] + names:
                        if _float_array(table.get(name)):
                            return table[name]
        return None

    @property
    def label(self):
        text = "self"
        for kind, key in self.path:
            text += f".{key}" if kind == "attr" else f"[{key!r}]"
        return text


class Args:
    """Containers the code takes as arguments (``weights``, ``biases`` lists, a ``parameters``
    dict), laid out like an object so ``Slot`` paths work on them."""


def _arg_slots(net, roles):
    """Slots for parameters passed as arguments, in the config's layout and shapes."""
    slots = []
    separate = {r[6:] for r in roles.values() if r.startswith("param:")}
    for p in net.params:
        if p.name in separate:
            path = (("attr", "params"), ("item", p.name))
        elif "params" in roles.values():
            path = (("attr", "params"), ("item", p.name))
        elif p.kind == "weight" and "weights" in roles.values():
            path = (("attr", "weights"), ("item", p.layer - 1))
        elif p.kind == "bias" and "biases" in roles.values():
            path = (("attr", "biases"), ("item", p.layer - 1))
        else:
            continue
        slots.append(Slot(p, path, p.shape, np.dtype(float)))
    return slots


def _fresh_args(net):
    args = Args()
    args.weights = [w.copy() for w in net.weights]
    args.biases = [b.copy() for b in net.biases] if net.bias else None
    args.params = {name: v.copy() for name, v in net.parameters().items()}
    return args


# -- finding parameters on the user's object ----------------------------------------------------
def _shapes(p):
    """The shapes the code may give the parameter: either orientation; a bias also flat."""
    shape = p.shape
    out = [shape, shape[::-1]]
    if p.kind == "bias":
        out.append((max(shape),))
    return list(dict.fromkeys(out))


def _float_array(v):
    return isinstance(v, np.ndarray) and v.dtype.kind == "f"


def _digits(name):
    found = re.findall(r"\d+", name)
    return int(found[-1]) if found else None


def _looks_like(name, kind):
    lower = name.lower().lstrip("_")
    if kind == "bias":
        return lower.startswith("b") or "bias" in lower
    return lower.startswith("w") or "weight" in lower or lower.startswith("theta")


def _candidates(owner, depth=2):
    """(path, array) for every float array on the object: its attributes, the lists, tuples and
    dicts they hold, and the attributes of objects it holds (a model's layers), in order."""
    out, seen = [], set()

    def visit(obj, path, level):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        for name, value in list(vars(obj).items()):
            here = path + (("attr", name),)
            if _float_array(value):
                out.append((here, value))
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if _float_array(v):
                        out.append((here + (("item", i),), v))
                    elif level < depth and _is_object(v):
                        visit(v, here + (("item", i),), level + 1)
            elif isinstance(value, dict):
                for k, v in value.items():
                    if _float_array(v):
                        out.append((here + (("item", k),), v))
            elif level < depth and _is_object(value):
                visit(value, here, level + 1)

    visit(owner, (), 1)
    return out


def _is_object(v):
    return hasattr(v, "__dict__") and not isinstance(v, (type, np.ndarray)) and not callable(v) \
        and not inspect.ismodule(v)


def _label(path):
    return str(path[-1][1])


def _order(path):
    """The position of a list item, for telling same-shaped arrays apart."""
    return path[-1][1] if path[-1][0] == "item" and isinstance(path[-1][1], int) else None


def find_slots(owner, net, spec):
    """Slots for every parameter of the config on the object, or a PluginError naming the key."""
    cands = _candidates(owner)
    labels = {(path[:-1], _label(path)) for path, _ in cands}
    cands = [(path, v) for path, v in cands
             if not _label(path).lower().startswith("grad") and not (
                 _label(path).startswith("d") and (path[:-1], _label(path)[1:].lstrip("_")) in labels)]
    if spec.params is not None:
        if not isinstance(getattr(owner, spec.params, None), dict):
            raise PluginError(f"`impl.params` = {spec.params!r}: the object has no dict attribute "
                              f"{spec.params!r}")
        cands = [(path, v) for path, v in cands if path[0] == ("attr", spec.params)]
    slots, used = [], set()
    for kind, names in (("weight", spec.weights), ("bias", spec.biases)):
        params = [p for p in net.params if p.kind == kind]
        if names is not None:
            if len(names) != len(params):
                raise PluginError(f"`impl.{kind}s` names {len(names)} arrays; the network has "
                                  f"{len(params)}")
            for p, name in zip(params, names):
                match = [(path, v) for path, v in cands if _label(path) == name]
                if not match:
                    raise PluginError(f"`impl.{kind}s`: the object has no array {name!r} "
                                      f"(it has {', '.join(_label(c[0]) for c in cands) or 'none'})")
                path, v = match[0]
                slots.append(Slot(p, path, v.shape, v.dtype))
                used.add(path)
            continue
        for p in params:
            fits = [(path, v) for path, v in cands if path not in used and v.shape in _shapes(p)]
            typed = [c for c in fits if _looks_like(_label(c[0]), kind)] or fits
            if len(typed) > 1:  # the same shape for several: prefer the layer's number, then order
                numbered = [c for c in typed if _digits(_label(c[0])) == p.layer]
                in_order = [c for c in typed if _order(c[0]) == p.layer - 1]
                typed = numbered or in_order or typed
            if not typed:
                shapes = " or ".join(map(str, _shapes(p)))
                have = ", ".join(f"{_label(path)} {v.shape}" for path, v in cands) or "none"
                key = "weights" if kind == "weight" else "biases"
                extra = (" (or set bias = false in the config if the code has no biases)"
                         if kind == "bias" else "")
                raise PluginError(f"cannot find {p.name} (shape {shapes}) on the "
                                  f"{type(owner).__name__} object; its arrays are {have}: name them "
                                  f"in the config's [impl] table, e.g. {key} = [...]{extra}")
            path, v = typed[0]
            slots.append(Slot(p, path, v.shape, v.dtype))
            used.add(path)
    return slots


# -- the call --------------------------------------------------------------------------------------
#: the contract's positional orders, by the number of required arguments
POSITIONAL = {2: ["x", "y"], 3: ["params", "x", "y"], 4: ["weights", "biases", "x", "y"],
              5: ["weights", "biases", "x", "y", "lr"]}


def _roles(fn, spec):
    """{parameter name: role} for the callable's parameters, and the required ones left over.

    Names say the role (``X``, ``input_vector``, ``eta``, ``mini_batch``); where some required
    arguments have names of their own, the contract's positional order decides, provided it
    agrees with every name that does say something."""
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


def _holds_arrays(obj):
    return _is_object(obj) and bool(_candidates(obj))


_ONE_PARAMETER = re.compile(r"^([WwBb])_?(\d+)$")


def _parameter_role(name):
    """``"param:W1"`` for an argument that names one parameter array (W1, w_2, b1), else None."""
    match = _ONE_PARAMETER.match(name)
    return f"param:{match.group(1).upper().replace('B', 'b')}{match.group(2)}" if match else None


class _Namespace:
    """A module's globals seen as an object: a script that keeps its weights there (``global
    W1``) has them found, written and read back like an object's attributes."""

    def __init__(self, namespace):
        object.__setattr__(self, "__dict__", namespace)


def _owner(fn):
    """(the callable to inspect, the object holding the parameters or None).

    The object is a bound method's ``self``; or, for ``functools.partial(net.method, ...)``, the
    method's; or, for a lambda, an object it closes over or takes as a default argument
    (``lambda x, y, net=Net(...): net.loss(x, y, reg=0.1)``)."""
    fn = fn.fn if isinstance(fn, Target) else fn
    inner = fn.func if isinstance(fn, functools.partial) else fn
    owner = getattr(inner, "__self__", None)
    if owner is not None and _holds_arrays(owner):
        return fn, owner
    hidden = [c.cell_contents for c in (getattr(inner, "__closure__", None) or ())
              if _cell_filled(c)]
    hidden += list(getattr(inner, "__defaults__", None) or ())
    hidden += list((getattr(inner, "__kwdefaults__", None) or {}).values())
    if isinstance(fn, functools.partial):
        hidden += list(fn.args) + list(fn.keywords.values())
    for value in hidden:
        if _holds_arrays(value):
            return fn, value
    module = getattr(inner, "__globals__", None)
    if isinstance(module, dict) and any(_float_array(v) for v in module.values()):
        return fn, _Namespace(module)
    return fn, None


def _cell_filled(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


@dataclass
class Plan:
    """How to call the code: its roles, where its parameters are, how examples are passed."""

    fn: object
    calls: Calls
    owner: object
    roles: dict
    slots: list
    rows: bool                # the code keeps examples in rows (x @ W)
    call: str                 # batch | example | pairs
    vectors: str              # column | row | flat
    lr_attr: str | None
    labels: str


def plan(net, fn, spec):
    raw, owner = _owner(fn)
    roles, unknown = _roles(raw, spec)
    if unknown:
        raise PluginError(f"{name_of(fn)} takes {', '.join(unknown)}, which gradcheck cannot "
                          "supply; wrap it in a lambda as TARGET (e.g. "
                          f"'lambda x, y: f(x, y, {unknown[0]}=...)')")
    if "x" not in roles.values() and "pairs" not in roles.values():
        raise PluginError(f"{name_of(fn)} takes no batch: none of its arguments is named like "
                          "x, X, inputs, input_vector or mini_batch")
    passes_params = {"weights", "biases", "params"} & set(roles.values()) or any(
        r.startswith("param:") for r in roles.values())
    if passes_params:
        slots = _arg_slots(net, roles)
        named = {r[6:] for r in roles.values() if r.startswith("param:")}
        missing = [p.name for p in net.params if named and p.name not in named]
        if missing:
            raise PluginError(f"{name_of(fn)} takes {', '.join(sorted(named))} but not "
                              f"{', '.join(missing)}, which the config's network has")
        if "weights" in roles.values() and net.bias and "biases" not in roles.values():
            raise PluginError(f"{name_of(fn)} takes weights but no biases, and the config has "
                              "bias = true: set bias = false, or give the code its biases")
    elif owner is not None:
        slots = find_slots(owner, net, spec)
    else:
        raise PluginError(f"{name_of(fn)} is a function that takes no parameters (weights, "
                          "biases or a parameters dict) and is not a method of an object that "
                          "holds them")
    # the code's orientation: its non-square weights as the config has them, or transposed
    weights = [s for s in slots if s.param.kind == "weight" and len(set(s.param.shape)) == 2]
    flipped = any(s.shape == s.param.shape[::-1] for s in weights)
    same = any(s.shape == s.param.shape for s in weights)
    code_rows = (net.layout == "rows") != (flipped and not same)
    lr_attr = None
    if "lr" not in roles.values() and owner is not None:
        names = [spec.lr] if spec.lr else sorted(ROLES["lr"])
        lr_attr = next((n for n in names if isinstance(getattr(owner, n, None), numbers.Real)
                        and not isinstance(getattr(owner, n), bool)), None)
        if spec.lr and lr_attr is None:
            raise PluginError(f"`impl.lr` = {spec.lr!r}: neither an argument of {name_of(fn)} nor "
                              "a number on its object")
    call = spec.call or ("pairs" if "pairs" in roles.values() else "batch")
    return Plan(fn, Calls(raw), owner, roles, slots, code_rows, call, spec.vectors or "",
                lr_attr, spec.labels)


def _example(x, k, rows, vectors):
    """Example k of x (columns layout, (n, m)) as the code wants one example."""
    col = x[:, k:k + 1]
    if vectors == "flat":
        return col[:, 0].copy()
    if vectors == "row" or (not vectors and rows):
        return col.T.copy()
    return col.copy()


def _labels(y):
    """Integer class labels from one-hot (or probability) columns (n, m) -> (m,)."""
    return np.argmax(y, axis=0).astype(np.int64)


def _inputs(p, x, y):
    """[(x, y)] as each call takes them: one call for a batch or for Nielsen's list of pairs,
    one per example otherwise (x, y in the columns layout, (n, m))."""
    if p.call == "pairs":
        return [([(x[:, k:k + 1].copy(), y[:, k:k + 1].copy()) for k in range(x.shape[1])], None)]
    if p.call == "batch":
        xs = np.ascontiguousarray(x.T if p.rows else x)
        ys = _labels(y) if p.labels == "integers" else np.ascontiguousarray(y.T if p.rows else y)
        return [(xs, ys)]
    return [(_example(x, k, p.rows, p.vectors),
             _labels(y[:, k:k + 1]) if p.labels == "integers" else _example(y, k, p.rows, p.vectors))
            for k in range(x.shape[1])]


def _passes_params(roles):
    return bool({"weights", "biases", "params"} & set(roles.values())) or any(
        r.startswith("param:") for r in roles.values())


def _root(p, net):
    """Where the parameters are written: the object, or fresh argument containers."""
    return _fresh_args(net) if _passes_params(p.roles) else p.owner


def _invoke(p, net, x_arg, y_arg, lr):
    """One call with the config's parameters written first: (result, root)."""
    root = _root(p, net)
    values = net.parameters()
    for s in p.slots:
        s.put(root, values[s.param.name])
    kwargs = {}
    for name, role in p.roles.items():
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
    saved = getattr(p.owner, p.lr_attr) if p.lr_attr else None
    if p.lr_attr:
        setattr(p.owner, p.lr_attr, lr)
    try:
        return p.calls(**kwargs), root
    finally:
        if p.lr_attr:
            setattr(p.owner, p.lr_attr, saved)


def _is_scalar(v):
    return isinstance(v, numbers.Number) or (isinstance(v, np.ndarray) and v.ndim == 0)


_PREFIX = re.compile(r"^(d|grad_?|nabla_?|delta_?|g_?)", re.IGNORECASE)


def _key_for(key, slots):
    """The slot a returned dict key names: ``dW1``, ``W1``, ``grad_W1``, ``dwih``, ``wih``."""
    text = str(key)
    for candidate in (text, _PREFIX.sub("", text), re.sub(r"_?grad$", "", text)):
        for s in slots:
            if candidate in (s.param.name, _label(s.path)) or candidate.lower() == s.param.name.lower():
                return s
    return None


def _read_gradient(p, result, what, root=None):
    """{name: array in config layout} from what the code returned, and its loss if it gave one;
    or, where it returned none, the gradients it wrote beside the parameters (``dweights``)."""
    if root is not None and (result is None or _is_scalar(result)):
        beside = [s.gradient_beside(root) for s in p.slots]
        if all(g is not None for g in beside):
            loss = float(result) if result is not None else None
            return {s.param.name: s.to_config(g, what) for s, g in zip(p.slots, beside)}, loss
    loss = None
    if isinstance(result, (tuple, list)) and len(result) == 2 and _is_scalar(result[0]) and \
            not _is_scalar(result[1]):
        loss, result = float(result[0]), result[1]
    if isinstance(result, dict):
        grads = {}
        for key, value in result.items():
            s = _key_for(key, p.slots)
            if s is not None and s.param.name not in grads:
                grads[s.param.name] = s.to_config(value, what)
        missing = [s.param.name for s in p.slots if s.param.name not in grads]
        if missing:
            raise PluginError(f"{what} a dict without {', '.join(missing)} (its keys are "
                              f"{', '.join(map(str, result)) or 'none'})")
        return grads, loss
    if result is None:
        raise PluginError(f"{what} None; a gradient function returns the gradient (a list per "
                          "layer, (nabla_w, nabla_b), a dict keyed dW1, db1, ... or (loss, grads)), "
                          "a step takes a learning rate")
    if isinstance(result, np.ndarray) and len(p.slots) == 1:
        return {p.slots[0].param.name: p.slots[0].to_config(result, what)}, loss
    if not isinstance(result, (tuple, list)):
        raise PluginError(f"{what} a {type(result).__name__}; expected the gradient (a list per "
                          "layer, (nabla_w, nabla_b), a dict keyed dW1, db1, ... or (loss, grads))")
    weights = [s for s in p.slots if s.param.kind == "weight"]
    biases = [s for s in p.slots if s.param.kind == "bias"]
    groups = [list(g) if isinstance(g, (tuple, list)) else g for g in result]
    pairs = len(groups) == 2 and all(isinstance(g, list) for g in groups) and biases
    if pairs:  # the contract's (nabla_w, nabla_b) first, where shapes cannot tell
        for first, second in ((weights, biases), (biases, weights)):  # (w, b) or Nielsen's (b, w)
            if _fits(first, groups[0]) and _fits(second, groups[1]):
                return _assign(first + second, groups[0] + groups[1], what), loss
    if biases and len(groups) == len(weights) and all(
            isinstance(g, list) and len(g) == 2 for g in groups):  # per layer: [(dW1, db1), ...]
        per_layer = [s for pair in zip(weights, biases) for s in pair]
        flat = [a for g in groups for a in g]
        if _fits(per_layer, flat):
            return _assign(per_layer, flat, what), loss
    if pairs:
        if len(groups[0]) != len(weights):
            raise PluginError(f"{what} {len(groups[0])} arrays for nabla_w; the network has "
                              f"{len(weights)} ({', '.join(s.param.name for s in weights)})")
        return _assign(weights + biases, groups[0] + groups[1], what), loss
    if len(groups) == 2 and groups[1] is None and isinstance(groups[0], list):
        if biases:
            raise PluginError(f"{what} nabla_b = None, but the network has biases")
        return _assign(weights, groups[0], what), loss
    flat = [g for g in groups if g is not None]
    if all(isinstance(g, np.ndarray) or np.isscalar(g) for g in flat):
        if len(flat) == len(p.slots):
            order = sorted(p.slots, key=lambda s: (s.param.layer, s.param.kind != "weight"))
            if _fits(order, flat):
                return _assign(order, flat, what), loss
            return _assign(p.slots, flat, what), loss
        raise PluginError(f"{what} {len(flat)} arrays; the network has {len(p.slots)} "
                          f"({', '.join(s.param.name for s in p.slots)})")
    if len(groups) == 2 and all(isinstance(g, list) for g in groups):
        return _assign(weights, groups[0], what), loss
    raise PluginError(f"{what}: cannot read a gradient from a {type(result).__name__} of "
                      f"{len(groups)} items")


def _fits(slots, arrays):
    return len(slots) == len(arrays) and all(
        np.shape(a) in [s.param.shape, s.shape] + ([(max(s.param.shape),)] if s.param.kind == "bias"
                                                   else []) for s, a in zip(slots, arrays))


def _assign(slots, arrays, what):
    if len(slots) != len(arrays):
        raise PluginError(f"{what} {len(arrays)} arrays; the network has {len(slots)}")
    return {s.param.name: s.to_config(a, what) for s, a in zip(slots, arrays)}


def _read_params(p, root, result, what):
    """The parameters after a step: read from their slots, or from returned new parameters."""
    if result is not None and not _is_scalar(result):
        try:
            grads, _ = _read_gradient(p, result, what)
            return grads
        except PluginError:
            pass
    return {s.param.name: s.to_config(s.get(root), what) for s in p.slots}


def collect(p, net, x, y, lr, kind):
    """The code's gradient on (x, y) (columns layout), summed over its calls: for a step, each
    call's (before - after) / lr, every call from the same parameters.  Returns (gradient,
    rounding, arrays seen for the precision, loss or None)."""
    what = f"{name_of(p.fn)} returned"
    before = net.parameters()
    total, rounding, seen, losses = None, None, [], []
    for x_arg, y_arg in _inputs(p, x, y):
        result, root = _invoke(p, net, x_arg, y_arg, lr)
        if kind == "gradient":
            grads, loss = _read_gradient(p, result, what, root)
            losses.append(loss)
            seen.extend(grads.values())
            part, part_rounding = grads, None
        else:
            after = _read_params(p, root, result, what)
            seen.extend(after.values())
            part, part_rounding = {}, {}
            for name, value in after.items():
                b, a = before[name], np.asarray(value, dtype=float)
                part[name] = (b - a) / lr
                # before - after is exact to u max(|w|, |w'|); / lr (a power of two) is exact
                part_rounding[name] = np.maximum(np.abs(b), np.abs(a)) / lr
            seen.extend(part.values())
            losses.append(None)
        part = {n: np.asarray(v, dtype=float) for n, v in part.items()}
        total = part if total is None else {n: total[n] + part[n] for n in total}
        if part_rounding is not None:
            rounding = part_rounding if rounding is None else {
                n: rounding[n] + part_rounding[n] for n in rounding}
    if kind == "step" and all(np.array_equal(total[n], np.zeros_like(total[n])) for n in total) \
            and any(np.any(v != 0) for v in before.values()):
        raise PluginError(f"{name_of(p.fn)} returned no gradient and did not change the "
                          "parameters: is it a gradient or a step, and can gradcheck set its "
                          "learning rate (an argument, or an attribute named in [impl] lr = ...)?")
    loss = None if any(v is None for v in losses) else float(sum(losses))
    if p.call == "example" and x.shape[1] > 1:
        total = combine_examples(net, total, x.shape[1])
        if rounding is not None:
            ratio = net.scale(x.shape[1]) / net.scale(1)
            rounding = {n: ratio * r for n, r in rounding.items()}
    return total, rounding, seen, loss


def combine_examples(net, total, m):
    """One example per call: each call's gradient is that of the config's C for a batch of one,
    r(1) grad C_x + 2 l2 W.  The batch's C combines the examples as its reduction says:
    r(m) sum_x grad C_x + 2 l2 W, so the L2 term of the m calls counts once and the rest is
    scaled by r(m) / r(1) (1 for "sum", 1/m for "batch_mean" and "mean")."""
    ratio = net.scale(m) / net.scale(1)
    weights = {p.name: w for p, w in zip([q for q in net.params if q.kind == "weight"],
                                         net.weights)}
    out = {}
    for name, g in total.items():
        penalty = 2 * net.l2 * weights[name] if net.l2 and name in weights else 0.0
        out[name] = ratio * (g - m * penalty) + penalty
    return out


def _returns_gradient(p, net, x, y):
    """Whether one call returns a gradient (else it is a step): the call shows its kind."""
    x_arg, y_arg = _inputs(p, x, y)[0]
    result, root = _invoke(p, net, x_arg, y_arg, 1.0)
    try:
        _read_gradient(p, result, f"{name_of(p.fn)} returned", root)
        return True
    except PluginError:
        if "lr" in p.roles.values() or p.lr_attr:
            return False
        raise


def _forms(p, spec):
    """The ways to call the code, in the order tried: the batch, then one example per call (a
    column or a row, then a flat vector); only what the [impl] table or the signature allows."""
    if spec.call == "example" or (spec.call is None and spec.vectors):
        return [("example", spec.vectors)] if spec.vectors else [("example", ""), ("example", "flat")]
    if spec.call is not None or p.call == "pairs":
        return [(spec.call or p.call, spec.vectors or "")]
    return [("batch", ""), ("example", ""), ("example", "flat")]


def _first_that_works(p, net, x, y, kind, spec):
    """(kind, probe gradient) from the first call form the code accepts and answers with the
    right shapes; the kind is what the call shows where it was not given."""
    errors = []
    for call, vectors in _forms(p, spec):
        p.call, p.vectors = call, vectors
        try:
            k = kind or ("gradient" if _returns_gradient(p, net, x[:, :1], y[:, :1]) else "step")
            return k, collect(p, net, x, y, 1.0, k)
        except PluginError as e:
            errors.append(str(e))
    hint = ""
    if net.loss.targets == "one_hot" and spec.labels != "integers" and any(
            "IndexError" in e or "indices" in e for e in errors):
        hint = " (if the code takes integer class labels, add [impl] labels = \"integers\")"
    if len(errors) > 1 and errors[1] != errors[0]:
        raise PluginError(f"{errors[0]}; called one example at a time: {errors[-1]}{hint}")
    raise PluginError(errors[0] + hint)


def impl_gradient(net, x, y, fn, kind=None, spec=None):
    """The ``AnalyticGradient`` of the user's code on the batch (x, y) in the network's layout.

    kind: "gradient", "step", or None to let the call show it.  spec: an ``ImplSpec``.
    """
    spec = spec or ImplSpec()
    kind = kind or spec.kind
    if kind is not None and kind not in IMPL_KINDS:
        raise ValueError(f"`impl_kind` must be one of {', '.join(IMPL_KINDS)}; got {kind!r}")
    if not callable(fn):
        raise TypeError(f"`impl` must be a function; got {fn!r}")
    p = plan(net, fn, spec)
    x, y = net.to_columns(np.asarray(x, dtype=float)), net.to_columns(np.asarray(y, dtype=float))
    kind, first = _first_that_works(p, net, x, y, kind, spec)
    notes = []
    if kind == "gradient":
        grads, _, seen, loss = first
        extra = {}
    else:
        lr = choose_lr(net, first[0])
        grads, rounding, seen, loss = collect(p, net, x, y, lr, kind)
        notes.append(f"step run with lr = 2^{int(np.log2(lr))} = {lr:g} (chosen so the gradient "
                     "is recovered exactly to rounding)")
    precision = detect_precision(seen)
    if kind == "step":
        extra = {n: 2 * precision.eps * r for n, r in rounding.items()}
    if p.call == "example":
        shape = {"flat": "1-D vectors", "row": "rows (1, n)", "column": "columns (n, 1)",
                 "": "rows (1, n)" if p.rows else "columns (n, 1)"}[p.vectors]
        notes.append(f"called once per example ({shape}), each from the same parameters, and "
                     f"combined as the reduction \"{net.reduction}\" combines examples")
    if p.owner is not None and not _passes_params(p.roles):
        found = ", ".join(f"{s.param.name} = {s.label}" for s in p.slots)
        where = ("in the module's globals" if isinstance(p.owner, _Namespace)
                 else f"on the {type(p.owner).__name__} object")
        notes.append(f"parameters found {where}: {found}".replace("self.", "" if isinstance(
            p.owner, _Namespace) else "self."))
    bad = [n for n, g in grads.items() if not np.all(np.isfinite(g))]
    if bad:
        notes.append(f"the code's {', '.join(bad)} hold NaN or inf (overflow?): those entries fail")
    if loss is not None:
        notes.extend(loss_notes(net, x, y, loss))
    notes.extend(p.calls.notes())
    step = {"lr": lr, "per_example": p.call == "example"} if kind == "step" else None
    return AnalyticGradient(grads, f"{name_of(fn)} ({kind})", precision, precision is not FLOAT64,
                            extra, tuple(notes), step)


def choose_lr(net, probe):
    """A power of two with lr |g| >= |w| in every array, from a probe's gradient: then the step's
    recovery loses nothing beyond u |g|."""
    params = net.parameters()
    with np.errstate(all="ignore"):
        ratios = [np.max(np.abs(params[n])) / np.max(np.abs(g)) for n, g in probe.items()
                  if np.isfinite(g).all() and np.max(np.abs(g)) > 0]
    ratios = [r for r in ratios if np.isfinite(r) and r > 0]
    return 2.0 ** int(np.clip(np.ceil(np.log2(max(ratios))), -30, 60)) if ratios else 1.0


def loss_notes(net, x, y, loss):
    """Compare the loss the code returned with the config's C; say how they differ."""
    want = float(net.cost(net.from_columns(x), net.from_columns(y)))
    if not np.isfinite(loss):
        return [f"the code's loss is {loss}"]
    if abs(loss - want) <= 1e-8 * max(abs(want), 1e-300) + 1e-300:
        return []
    m, n = x.shape[1], net.layers[-1]
    data = want - net.penalty()
    if abs(loss - data) <= 1e-8 * max(abs(data), 1e-300) and net.l2:
        return [f"the code's loss {loss:.6g} is the config's C without its L2 term"]
    k = (loss - net.penalty()) / data if data else float("nan")
    named = name_constant(k, m, n) if np.isfinite(k) and k else None
    text = f"the code's loss {loss:.6g} differs from the config's C = {want:.6g}"
    if named:
        text += f" (its data term is {named} times the config's"
        r = matching_reduction(net, k, m)
        if r is not None:
            text += f": the code's reduction looks like \"{r}\""
        text += ")"
    return [text]
