"""Where the user's code keeps its parameters.

A ``Slot`` is one parameter's place: a path of steps (``("attr", "params"), ("item", "W1")``)
from a root, with the shape and dtype the code keeps it in.  The root is the object a method
belongs to (or one found in a lambda's defaults, a closure or a ``partial``), a module's globals
seen as an object, or ``Args``: the containers gradcheck passes to a function that takes its
parameters as arguments (``weights``, ``biases`` lists, a ``parameters`` dict, ``W1, b1, ...``).

On an object, the parameters are found by the shapes the config gives, in either orientation
(a bias also flat), among its attributes, the lists, tuples and dicts they hold, and the
attributes of the objects it holds (a model's layers); names break ties (a ``W``-like name for a
weight, the layer's number, the position in a list).
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass

import numpy as np

from .usercode import PluginError, Target

__all__ = ["Slot", "Args", "arg_slots", "fresh_args", "find_slots", "owner_of", "Namespace",
           "float_arrays", "float_array"]


def float_array(v):
    return isinstance(v, np.ndarray) and v.dtype.kind == "f"


@dataclass(frozen=True)
class Slot:
    """Where the code keeps one parameter: a path of steps from the root, ``("attr", name)`` or
    ``("item", key)``, and the shape and dtype it uses."""

    param: object             # the Parameter record
    path: tuple               # (("attr", "params"), ("item", "W1")), (("attr", "dense1"), ...)
    shape: tuple              # the shape the code uses
    dtype: np.dtype
    transposed: bool = False  # the code keeps this weight in the other layout than the config

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
        if self.transposed:
            value = value.T
        if value.shape != self.shape:
            value = value.reshape(self.shape)
        return np.array(value, dtype=self.dtype)

    def to_config(self, value, what):
        """A value in the code's shape (or any shape a gradient of it may have) in config layout,
        its dtype kept."""
        a = np.asarray(value)
        target = self.param.shape
        if a.dtype.kind not in "biuf" or a.dtype == bool:
            raise PluginError(f"{what} {self.param.name} with dtype {a.dtype}; expected real "
                              "numbers")
        if self.transposed and a.ndim == 2 and a.T.shape == target:
            return a.T
        if a.shape == target:
            return a
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
            return next((v for name in names if float_array(v := getattr(holder, name, None))),
                        None)
        parent = self.walk(root, self.path[:-2]) if len(self.path) > 1 else None
        for grads in ("grads", "gradients", "grad", "dparams"):
            table = getattr(parent, grads, None) if parent is not None else None
            if isinstance(table, dict):
                found = next((table[n] for n in [key] + names if float_array(table.get(n))), None)
                if found is not None:
                    return found
        return None

    @property
    def label_name(self):
        """The name the code gives the array: the last step of its path."""
        return str(self.path[-1][1])

    @property
    def label(self):
        text = "self"
        for kind, key in self.path:
            text += f".{key}" if kind == "attr" else f"[{key!r}]"
        return text


# -- parameters passed as arguments ---------------------------------------------------------------
class Args:
    """Containers the code takes as arguments (``weights``, ``biases`` lists, a ``parameters``
    dict), laid out like an object so ``Slot`` paths work on them."""


def arg_slots(net, roles):
    """Slots for parameters passed as arguments, in the config's layout and shapes."""
    given = set(roles.values())
    separate = {r[6:] for r in given if r.startswith("param:")}
    slots = []
    for p in net.params:
        if p.name in separate or "params" in given:
            path = (("attr", "params"), ("item", p.name))
        elif p.kind == "weight" and "weights" in given:
            path = (("attr", "weights"), ("item", p.layer - 1))
        elif p.kind == "bias" and "biases" in given:
            path = (("attr", "biases"), ("item", p.layer - 1))
        else:
            continue
        slots.append(Slot(p, path, p.shape, np.dtype(float)))
    return slots


def fresh_args(net):
    """New argument containers holding copies of the network's parameters."""
    args = Args()
    args.weights = [w.copy() for w in net.weights]
    args.biases = [b.copy() for b in net.biases] if net.bias else None
    args.params = {name: v.copy() for name, v in net.parameters().items()}
    return args


# -- parameters on the user's object ----------------------------------------------------------------
def _is_object(v):
    return hasattr(v, "__dict__") and not isinstance(v, (type, np.ndarray)) and not callable(v) \
        and not inspect.ismodule(v)


def float_arrays(owner, depth=2):
    """(path, array) for every float array on the object: its attributes, the lists, tuples and
    dicts they hold, and the attributes of objects it holds (a model's layers), in order."""
    out, seen = [], set()

    def visit(obj, path, level):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        for name, value in list(vars(obj).items()):
            here = path + (("attr", name),)
            if float_array(value):
                out.append((here, value))
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if float_array(v):
                        out.append((here + (("item", i),), v))
                    elif level < depth and _is_object(v):
                        visit(v, here + (("item", i),), level + 1)
            elif isinstance(value, dict):
                out.extend((here + (("item", k),), v) for k, v in value.items() if float_array(v))
            elif level < depth and _is_object(value):
                visit(value, here, level + 1)

    visit(owner, (), 1)
    return out


def _shapes(p):
    """The shapes the code may give the parameter: either orientation; a bias also flat."""
    out = [p.shape, p.shape[::-1]]
    if p.kind == "bias":
        out.append((max(p.shape),))
    return list(dict.fromkeys(out))


def _name(path):
    return str(path[-1][1])


def _kind_name(path):
    """The name that says what an array is: the last named step of its path (``weights`` for
    ``self.weights[0]``, ``W1`` for ``self.params["W1"]``)."""
    return next((str(key) for _, key in reversed(path) if isinstance(key, str)), "")


def _layer_of(path):
    """The layer the path names, counted from 1: a number in its last named step (``W2``,
    ``dense1``), else a list position (``weights[0]`` is layer 1); None where it names none."""
    for _, key in reversed(path):
        if isinstance(key, int):
            return key + 1
        number = _number(key)
        if number is not None:
            return number
    return None


def _looks_like(name, kind):
    lower = name.lower().lstrip("_")
    if kind == "bias":
        return lower.startswith("b") or "bias" in lower
    return lower.startswith("w") or "weight" in lower or lower.startswith("theta")


def _number(name):
    found = re.findall(r"\d+", name)
    return int(found[-1]) if found else None


def _parameters_only(cands):
    """The candidates that are not gradients kept beside parameters (``grad*``, or ``dW`` where
    ``W`` is a candidate too)."""
    names = {(path[:-1], _name(path)) for path, _ in cands}
    return [(path, v) for path, v in cands
            if not _name(path).lower().startswith("grad") and not (
                _name(path).startswith("d") and (path[:-1], _name(path)[1:].lstrip("_")) in names)]


def _best(p, cands, used):
    """The candidate for parameter p: of its shape, with a name like its kind (``weights``,
    ``W2``, ``b``), of its layer (``W2``, ``dense2``, the second of a list), then the first."""
    fits = [(path, v) for path, v in cands if path not in used and v.shape in _shapes(p)]
    typed = [c for c in fits if _looks_like(_kind_name(c[0]), p.kind)] or fits
    if len(typed) > 1:
        typed = [c for c in typed if _layer_of(c[0]) == p.layer] or typed
    return typed[0] if typed else None


def _named(p, name, cands, kind):
    match = [(path, v) for path, v in cands if _name(path) == name]
    if not match:
        raise PluginError(f"`impl.{kind}s`: the object has no array {name!r} (it has "
                          f"{', '.join(_name(c[0]) for c in cands) or 'none'})")
    return match[0]


def find_slots(owner, net, spec):
    """Slots for every parameter of the config on the object, or a PluginError naming the key."""
    cands = _parameters_only(float_arrays(owner))
    if spec.params is not None:
        if not isinstance(getattr(owner, spec.params, None), dict):
            raise PluginError(f"`impl.params` = {spec.params!r}: the object has no dict attribute "
                              f"{spec.params!r}")
        cands = [(path, v) for path, v in cands if path[0] == ("attr", spec.params)]
    slots, used = [], set()
    for kind, names in (("weight", spec.weights), ("bias", spec.biases)):
        params = [p for p in net.params if p.kind == kind]
        if names is not None and len(names) != len(params):
            raise PluginError(f"`impl.{kind}s` names {len(names)} arrays; the network has "
                              f"{len(params)}")
        for k, p in enumerate(params):
            found = _named(p, names[k], cands, kind) if names else _best(p, cands, used)
            if found is None:
                raise _not_found(p, owner, cands)
            slots.append(Slot(p, found[0], found[1].shape, found[1].dtype))
            used.add(found[0])
    return slots


def _not_found(p, owner, cands):
    shapes = " or ".join(map(str, _shapes(p)))
    have = ", ".join(f"{_name(path)} {v.shape}" for path, v in cands) or "none"
    key = "weights" if p.kind == "weight" else "biases"
    extra = (" (or set bias = false in the config if the code has no biases)"
             if p.kind == "bias" else "")
    where = ("the module's globals" if isinstance(owner, Namespace)
             else f"the {type(owner).__name__} object")
    return PluginError(f"cannot find {p.name} (shape {shapes}) on {where}; its arrays are {have}: "
                       f"name them in the config's [impl] table, e.g. {key} = [...]{extra}")


# -- whose parameters ---------------------------------------------------------------------------------
class Namespace:
    """A module's globals seen as an object: a script that keeps its weights there (``global
    W1``) has them found, written and read back like an object's attributes."""

    def __init__(self, namespace):
        object.__setattr__(self, "__dict__", namespace)


def _holds_arrays(obj):
    return _is_object(obj) and bool(float_arrays(obj))


def _cell_contents(fn):
    out = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            out.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    return out


def owner_of(fn):
    """(the callable to inspect, the object holding the parameters or None).

    The object is a bound method's ``self``; or, for ``functools.partial(net.method, ...)``, the
    method's; or, for a lambda, an object it closes over or takes as a default argument
    (``lambda x, y, net=Net(...): net.loss(x, y, reg=0.1)``); or the function's module globals,
    when they hold float arrays."""
    fn = fn.fn if isinstance(fn, Target) else fn
    inner = fn.func if isinstance(fn, functools.partial) else fn
    owner = getattr(inner, "__self__", None)
    if owner is not None and _holds_arrays(owner):
        return fn, owner
    hidden = _cell_contents(inner)
    hidden += list(getattr(inner, "__defaults__", None) or ())
    hidden += list((getattr(inner, "__kwdefaults__", None) or {}).values())
    if isinstance(fn, functools.partial):
        hidden += list(fn.args) + list(fn.keywords.values())
    for value in hidden:
        if _holds_arrays(value):
            return fn, value
    module = getattr(inner, "__globals__", None)
    if isinstance(module, dict) and any(float_array(v) for v in module.values()):
        return fn, Namespace(module)
    return fn, None
