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

import ast
import functools
import inspect
import re
from dataclasses import dataclass

import numpy as np

from .usercode import PluginError, Target

__all__ = ["Slot", "Args", "arg_slots", "fresh_args", "find_slots", "owner_of", "Namespace",
           "float_arrays", "float_array", "ParamsNotFound", "Holder", "scalar_mapping",
           "holder_mapping", "is_scalar_name", "scalars_agree_with_source", "HOLDER_ATTRS"]


class ParamsNotFound(PluginError):
    """The parameters are not where the code can be seen to keep them before a call: they may be
    drawn inside it (``checks.script`` watches one call instead)."""


def _singletons_apart(shape, target):
    return len(shape) != len(target) and [d for d in shape if d != 1] == [
        d for d in target if d != 1]


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
        code = self.shape if not self.transposed else self.shape[::-1]
        if _singletons_apart(a.shape, target) or _singletons_apart(a.shape, code):
            return a.reshape(target)     # keepdims: the same values, axes of length 1 aside
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
    """An instance that may hold parameters: not a class, a module, a function or a method (a
    callable instance, a Keras-like layer with ``__call__``, is one)."""
    return hasattr(v, "__dict__") and not isinstance(v, (type, np.ndarray, functools.partial)) \
        and not inspect.ismodule(v) and not inspect.isroutine(v)


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


def find_slots(owner, net, spec, only=None):
    """Slots for every parameter of the config on the object, or a PluginError naming the key;
    ``only``: ids of the arrays the code was seen to read (its parameters are among them)."""
    cands = _parameters_only(float_arrays(owner))
    if only is not None:
        cands = [(path, v) for path, v in cands if id(v) in only]
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
    where = ("the module's globals" if isinstance(owner, Namespace) else
             f"{', '.join(vars(owner))} (handed to the call)" if isinstance(owner, Holder)
             else f"the {type(owner).__name__} object")
    return ParamsNotFound(f"cannot find {p.name} (shape {shapes}) on {where}; its arrays are "
                          f"{have}: name them in the config's [impl] table, e.g. {key} = "
                          f"[...]{extra}")


# -- whose parameters ---------------------------------------------------------------------------------
class Namespace:
    """A module's globals seen as an object: a script that keeps its weights there (``global
    W1``) has them found, written and read back like an object's attributes."""

    def __init__(self, namespace):
        object.__setattr__(self, "__dict__", namespace)


def _holds_arrays(obj):
    return _is_object(obj) and bool(float_arrays(obj))


class Holder:
    """Containers a callable is handed, closes over or takes as a default (a list of layer
    objects, ``partial(train, network, ...)``), seen as an object whose attributes are their
    names."""

    def __init__(self, named):
        self.__dict__.update(named)


def _hidden(fn, inner):
    """(name, value) of what a callable carries with it: its closure, its defaults, and for a
    ``partial`` its bound arguments (named after the function's parameters)."""
    out = []
    code = getattr(inner, "__code__", None)
    cells = getattr(inner, "__closure__", None) or ()
    for name, cell in zip(getattr(code, "co_freevars", ()), cells):
        try:
            out.append((name, cell.cell_contents))
        except ValueError:  # an empty cell
            pass
    defaults = getattr(inner, "__defaults__", None) or ()
    if code is not None and defaults:
        names = code.co_varnames[code.co_argcount - len(defaults):code.co_argcount]
        out += list(zip(names, defaults))
    out += list((getattr(inner, "__kwdefaults__", None) or {}).items())
    if isinstance(fn, functools.partial):
        try:
            names = list(inspect.signature(fn.func).parameters)
        except (TypeError, ValueError):
            names = []
        out += [(names[k] if k < len(names) else f"arg{k}", v) for k, v in enumerate(fn.args)]
        out += list(fn.keywords.items())
    return out


def _container_of_arrays(value):
    """A list, tuple or dict whose items are objects holding float arrays (layer objects)."""
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, (list, tuple, dict)) and 0 < len(value) <= 1000 and any(
        _holds_arrays(v) for v in items)


def owner_of(fn):
    """(the callable to inspect, the object holding the parameters or None).

    The object is a bound method's ``self``; or, for ``functools.partial(net.method, ...)``, the
    method's; or an object a function closes over, takes as a default argument (``lambda x, y,
    net=Net(...): net.loss(x, y, reg=0.1)``) or is handed by a ``partial``; or a list of layer
    objects in one of those places (``partial(train, network, ...)``, as a ``Holder``); or the
    function's module globals, when they hold float arrays or objects that do."""
    fn = fn.fn if isinstance(fn, Target) else fn
    inner = fn.func if isinstance(fn, functools.partial) else fn
    owner = getattr(inner, "__self__", None)
    if owner is not None and _holds_arrays(owner):
        return fn, owner
    hidden = _hidden(fn, inner)
    for _, value in hidden:
        if _holds_arrays(value):
            return fn, value
    containers = {name: value for name, value in hidden if _container_of_arrays(value)}
    if containers:
        return fn, Holder(containers)
    module = getattr(inner, "__globals__", None)
    if isinstance(module, dict) and float_arrays(Namespace(module)):
        return fn, Namespace(module)
    return fn, None


# -- parameters kept as scalars ---------------------------------------------------------------------
_SCALAR_NAME = re.compile(r"^([wWbB])_?(\d+)$")
#: the attribute a scalar object (micrograd's Value) keeps its number in
HOLDER_ATTRS = ("data", "value", "val")


def _number_value(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def is_scalar_name(name):
    """Whether a name numbers one scalar parameter: ``w1``, ``w_2``, ``b3``."""
    return bool(_SCALAR_NAME.match(str(name)))


def scalar_mapping(net, table):
    """[(parameter, [names])]: float scalars named w1, w2, ... and b1, b2, ... in ``table`` (an
    object's attributes, a module's globals), taken unit by unit (each unit's incoming weights in
    input order, then the next unit), layer by layer, as victorzhou.com's network numbers them;
    None unless their numbers are exactly the network's.  Each list is in the order of the
    columns layout's entries, (n_out, n_in) row by row."""
    weights, biases = {}, {}
    for name, value in table.items():
        match = _SCALAR_NAME.match(str(name)) if _number_value(value) else None
        if match:
            (weights if match.group(1) in "wW" else biases)[int(match.group(2))] = name
    n_w = sum(net.layers[l - 1] * net.layers[l] for l in range(1, net.L + 1))
    n_b = sum(net.layers[1:]) if net.bias else 0
    if sorted(weights) != list(range(1, n_w + 1)) or sorted(biases) != list(range(1, n_b + 1)):
        return None
    out, w, b = [], 1, 1
    for l in range(1, net.L + 1):
        n_in, n_out = net.layers[l - 1], net.layers[l]
        out.append((net.param(f"W{l}"), [weights[w + k] for k in range(n_in * n_out)]))
        w += n_in * n_out
        if net.bias:
            out.append((net.param(f"b{l}"), [biases[b + k] for k in range(n_out)]))
            b += n_out
    return out


def scalars_agree_with_source(mapping, source):
    """Whether the source shows each unit's weights and bias together in one statement
    (``sum_h1 = self.w1 * x[0] + self.w2 * x[1] + self.b1``): the evidence that the numbering is
    unit by unit."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    groups = [set(map(str, stmt)) for stmt in (
        {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        | {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AugAssign, ast.Return,
                                                        ast.Expr, ast.AnnAssign)))]
    weights = {p.layer: names for p, names in mapping if p.kind == "weight"}
    biases = {p.layer: names for p, names in mapping if p.kind == "bias"}
    for layer, names in weights.items():
        n_out = len(biases[layer]) if layer in biases else None
        if n_out is None:
            continue
        per = len(names) // n_out
        for i in range(n_out):
            unit = set(names[i * per:(i + 1) * per]) | {biases[layer][i]}
            if not any(unit <= g for g in groups):
                return False
    return True


def holder_mapping(net, root, depth=6):
    """[(parameter, [(object, attribute, path)])]: scalar objects (a float in ``.data``, as
    micrograd's ``Value``) nested in lists under ``root`` whose list indices form the network's
    grid, (layer, unit, input) for the weights and (layer, unit) for the biases; None when no
    such structure is there.  Each list is in the columns layout's order of entries."""
    leaves = {}

    def visit(obj, path, index, level):
        if level > depth or len(leaves) > 64:
            return
        if isinstance(obj, (list, tuple)):
            for k, item in enumerate(obj[:4096]):
                visit(item, f"{path}[{k}]", index + (k,), level + 1)
            return
        if not _is_object(obj):
            return
        table = vars(obj)
        for attr in HOLDER_ATTRS:
            if isinstance(table.get(attr), float):
                template = re.sub(r"\[\d+\]", "[*]", path)
                leaves.setdefault(template, {})[index] = (obj, attr, path)
                return
        for name, value in list(table.items())[:50]:
            if isinstance(value, (list, tuple)) or _is_object(value):
                visit(value, f"{path}.{name}", index, level + 1)

    visit(root, "", (), 0)
    return _grid(net, leaves)


def _grid(net, leaves):
    want_w = {(l - 1, i, j) for l in range(1, net.L + 1) for i in range(net.layers[l])
              for j in range(net.layers[l - 1])}
    want_b = {(l - 1, i) for l in range(1, net.L + 1) for i in range(net.layers[l])}
    w = [t for t, found in leaves.items() if set(found) == want_w]
    b = [t for t, found in leaves.items() if set(found) == want_b]
    if len(w) != 1 or (net.bias and len(b) != 1):
        return None
    out = []
    for l in range(1, net.L + 1):
        n_in, n_out = net.layers[l - 1], net.layers[l]
        out.append((net.param(f"W{l}"), [leaves[w[0]][(l - 1, i, j)] for i in range(n_out)
                                        for j in range(n_in)]))
        if net.bias:
            out.append((net.param(f"b{l}"), [leaves[b[0]][(l - 1, i)] for i in range(n_out)]))
    return out
