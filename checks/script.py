"""Code as written, under watch: a training script run as it is, or a call that draws its own weights.

``ScriptReader`` runs a script's module code; ``WatchedCall`` runs one call of a callable whose
parameters gradcheck could not find beforehand (a ``fit()`` or ``build_model`` that draws its own
weights, scalar attributes, a no-argument method of an object that keeps its batch in attributes).
Both watch the user's code (``checks.watch``) with one observer, ``Training``, that decides from
what the code does, as it does it:

- **the batch**: inputs of the config's input width and targets of its output width, holding the
  same number of examples (in either orientation, a stack of columns, a list, Nielsen's (x, y)
  pairs, integer labels where ``[impl] labels = "integers"``), are replaced by the config's batch
  where the code first uses them together (not where it fills them in).  Once training has begun,
  only a selection of the batch's own examples (a minibatch drawn with ``np.random.choice``) is
  replaced, by the batch itself;
- **the parameters**: once the batch is found, the arrays the code reads with the config's
  parameter shapes (or float scalars ``w1`` ... ``b3``, or scalar objects' ``.data`` nested layer
  by layer as micrograd's) are the parameters, in forward order; each is overwritten with the
  config's value just before that first read, where it lives (an attribute, a list, a dict, a
  global, a local);
- **the step**: the first completed update of every parameter (in place or rebound); the run stops
  there, or when the forward pass starts again (a parameter whose gradient is zero left as it is);
- **the learning rate**: a variable, argument or attribute named like one (``lr``, ``eta``,
  ``learning_rate``, ``learn_rate``, ``step_size``, ...) is set to the rate gradcheck asks for as
  it is bound; otherwise the update line says it (``alpha``, ``epsilon``, a literal ``-0.1``: read,
  not set), and where nothing does the rate is an implicit 1, said in a note.

The answer is an ``adapt.Answer`` of kind "step" with the parameters as written and after the
update, so the gradient is recovered in the parent like any step's; it carries the watch's
``Trace``.  Nothing is accepted without evidence: a batch that was not found, a parameter never
read, rates that disagree, are each refused with what was seen.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .call import (FORM_LAYOUT, ROLES, BatchForm, build_batch, examples_of, pairs_form, roles_of,
                   x_forms, y_forms)
from .locate import (HOLDER_ATTRS, Slot, float_array, float_arrays, holder_mapping,
                     is_scalar_name, scalar_mapping, scalars_agree_with_source)
from .usercode import PluginError, Target, describe, guarded, name_of, printable
from .watch import Stop, Watch, assign, chain_of, chain_text, resolve, set_local

__all__ = ["ScriptReader", "WatchedCall", "DataGuard", "Training", "LR_NAMES", "run_script"]

#: names a learning rate goes by (compared without underscores, in lower case): set as bound
LR_NAMES = {"lr", "eta", "learningrate", "learnrate", "lrate", "stepsize", "currentlearningrate"}
#: names that may be a learning rate or something else: read on the update line, never set
MAYBE_LR = {"alpha", "epsilon", "rate", "step", "eps"}
_Y_NAMES = ROLES["y"] | {"ys", "y_batch", "targets_list", "all_y_trues", "labels", "train_y"}
_MISSING = object()


def _lr_key(name):
    return str(name).replace("_", "").lower()


def _is_number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _is_instance(v):
    return (hasattr(v, "__dict__") and not isinstance(v, (type, np.ndarray, functools.partial))
            and not inspect.ismodule(v) and not inspect.isroutine(v))


def _holds_scalar(v):
    table = getattr(v, "__dict__", None)
    return _is_instance(v) and isinstance(table, dict) and any(
        isinstance(table.get(a), float) for a in HOLDER_ATTRS)


# -- where a value lives --------------------------------------------------------------------------
class Binding:
    """Where the code keeps one value: a path of steps from an object, a module's globals, or a
    frame's local."""

    def __init__(self, kind, holder, name, path, label):
        self.kind, self.holder, self.name, self.path, self.label = kind, holder, name, path, label

    def _root(self):
        if self.kind == "object":
            return self.holder
        table = self.holder.f_locals if self.kind == "frame" else self.holder
        return table.get(self.name, _MISSING)

    def get(self):
        value = self._root()
        for kind, key in self.path:
            if value is _MISSING:
                break
            value = _walk(value, kind, key)
        return value

    def set(self, value):
        if not self.path:
            if self.kind == "frame":
                set_local(self.holder, self.name, value)
            else:
                self.holder[self.name] = value
            return
        holder = self._root()
        for kind, key in self.path[:-1]:
            holder = _walk(holder, kind, key)
        kind, key = self.path[-1]
        if kind == "attr":
            setattr(holder, key, value)
        else:
            holder[key] = value


def _walk(value, kind, key):
    if kind == "attr":
        table = getattr(value, "__dict__", None)
        return table.get(key, _MISSING) if isinstance(table, dict) else _MISSING
    try:
        return value[key]
    except (KeyError, IndexError, TypeError):
        return _MISSING


def _label(base, path):
    text = base
    for kind, key in path:
        text += f".{key}" if kind == "attr" else f"[{key!r}]"
    return text


# -- one parameter as the code holds it ---------------------------------------------------------
@dataclass(eq=False)
class Claim:
    """One parameter as the code holds it: an array at one binding, or scalars at many (one per
    entry, in the order of the columns layout's entries).  ``before`` is what gradcheck wrote (the
    code's shape and dtype; for scalars, the config's shape), ``after`` the first update's."""

    param: object
    bindings: list
    shape: tuple              # the code's shape; () for scalars
    dtype: np.dtype
    transposed: bool
    label: str
    flip: bool = False        # scalars: the config's layout is rows
    current: object = None
    before: np.ndarray = None
    after: np.ndarray = None
    moved: np.ndarray = None  # scalars: the entries that have moved so far
    latest: np.ndarray = None
    where: str = ""
    lr: tuple = ()

    @property
    def scalars(self):
        return self.shape == ()

    def slot(self):
        shape = self.param.shape if self.scalars else self.shape
        return Slot(self.param, (("attr", self.label),), shape, self.dtype, self.transposed)

    def value_now(self):
        """The value the code holds now (for scalars, assembled in the config's shape)."""
        if not self.scalars:
            return self.bindings[0].get()
        flat = []
        for b in self.bindings:
            v = b.get()
            try:
                flat.append(float(np.asarray(v, dtype=float).reshape(-1)[0]))
            except (TypeError, ValueError, IndexError):
                return _MISSING
        p = self.param.shape
        grid = np.array(flat).reshape(p[::-1] if self.flip else p)
        return grid.T if self.flip else grid


class Examples:
    """The config's examples, to recognise them in what the code reads."""

    def __init__(self, x):
        self.index = {}
        for k in range(x.shape[1]):
            self.index.setdefault(np.asarray(x[:, k], dtype=float).tobytes(), k)

    def match(self, rows):
        """The indices of the examples the rows of ``rows`` are, or None if one is not one."""
        out = []
        for row in np.asarray(rows, dtype=float):
            k = self.index.get(row.tobytes())
            if k is None:
                return None
            out.append(k)
        return out


# -- the observer -------------------------------------------------------------------------------------
class Training:
    """Watches one training run (see the module docstring).  ``mine`` says which frames are the
    user's (the watch's); ``given`` are the batch's arrays as the code was handed them."""

    def __init__(self, net, x, y, lr, labels="one_hot", given=(), mine=None):
        self.net, self.x, self.y, self.lr, self.labels = net, x, y, float(lr), labels
        self.name = "the code"
        self.values = net.parameters()
        self.n0, self.n_out, self.m = net.layers[0], net.layers[-1], x.shape[1]
        self.examples = Examples(x)
        self.mine = mine or (lambda code: True)
        self.claims = {}                    # parameter name -> Claim
        self.claimed = {}                   # id -> object: arrays and scalar holders taken
        self.data = {}                      # id -> (object, example indices): the config's batch
        for value in given:
            self._keep(value)
        self.data_found = bool(given)       # once found, only a selection of it is replaced
        self.undo = None                    # [(holder, key, old)] where replacements are put back
        self.replaced, self.lr_set, self.warnings = [], [], []
        self.lr_read = False
        self.seen = set()
        self.first = None                   # the statement of the first claim
        self.updated = self.finished = False
        self.failure = None
        self.looked_at = {}                 # shapes looked at, for a message when nothing fits
        self.unseen = {}                    # id -> parameter-shaped arrays read before the batch
        self.pending = ()                   # (chain, value before) of the statement running
        self.repeats = {}                   # (statement, chain) -> updates seen without a batch
        self.layout = None                  # how the code lays out examples, where it shows

    # -- hooks ------------------------------------------------------------------------------------
    def on_call(self, frame):
        if self.updated or self.finished:
            return
        code = frame.f_code
        local = frame.f_locals
        for name in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]:
            value = local.get(name)
            if _lr_key(name) in LR_NAMES and _is_number(value) and value > 0:
                if value != self.lr:
                    set_local(frame, name, self.lr)
                self._said_lr(f"{name} (an argument of {code.co_name})")

    def before(self, frame, statement):
        if self.finished:
            return
        try:
            if self.updated and statement is self.first:
                self._stop()
            local = frame.f_locals
            values = [(chain[:depth], value) for chain, (value, depth) in
                      ((c, resolve(frame, c, local)) for c in statement.reads) if depth]
            self._batch(frame, statement, values)
            if not self.data_found:
                self._before_found(frame, statement, values)
            elif not _passes_on(statement.node):
                self._claim(frame, statement, values)
            if self.claims:
                self._seen_in(values)
        except PluginError as e:
            self._fail(str(e))
        except Exception as e:  # a slip of gradcheck's own: never blamed on the user's code
            self._fail(_own_slip(e, statement))

    def after(self, frame, statement):
        if self.finished:
            return
        try:
            if not self.updated:
                self._set_lr(frame, statement)
            if self.claims:
                self._check_updates(frame, statement)
            elif not self.data_found and self.pending:
                self._trains_unseen(frame, statement)
        except PluginError as e:
            self._fail(str(e))
        except Exception as e:
            self._fail(_own_slip(e, statement))

    # -- the batch --------------------------------------------------------------------------------
    @staticmethod
    def _candidates(values):
        """(chain, value) the statement reads, with the items of the dicts it reads."""
        for chain, value in values:
            yield chain, value
            if isinstance(value, dict) and len(value) <= 64:
                for key, item in list(value.items()):
                    if isinstance(key, (str, int)):
                        yield chain + (("item", key),), item

    def _batch(self, frame, statement, values):
        modified = statement.modified
        if _packs(statement.node):
            return  # examples put into a container are filled in, not used: the container is
        for chain, value in list(self._candidates(values)):
            if id(value) in self.data or id(value) in self.claimed or any(
                    chain[:len(c)] == c for c in modified):
                continue
            pairs = pairs_form(value, self.n0, self.n_out, self.labels)
            if pairs is not None:
                self._replace_pairs(frame, statement, chain, value, pairs)
                continue
            for form in x_forms(value, self.n0, self.layout or self.net.layout):
                if self.data_found and not self._redrawn(value, form):
                    continue    # found already: only a minibatch drawn from it is replaced
                self._look(chain, value)
                partner = self._partner(frame, values, chain, form, modified)
                if partner is not None:
                    self._replace(frame, statement, (chain, value, form), partner)
                    break

    def _look(self, chain, value):
        if len(self.looked_at) < 12:
            self.looked_at.setdefault(chain_text(chain), _shape_text(value))

    def _partner(self, frame, values, x_chain, x_form, modified=()):
        """The targets that go with inputs ``x_chain``: as many examples, a form that goes with
        the inputs', the best name; None when there are none, or several alike.  Targets the
        statement writes into (``y[label] = 1``) are being filled in, not used."""
        found = []
        for chain, value in self._near(frame, values, x_chain):
            if id(value) in self.claimed or chain == x_chain or any(
                    chain[:len(c)] == c for c in modified):
                continue
            for form in y_forms(value, self.n_out, self.labels):
                if x_form.pairs_with(form):
                    found.append((_score(chain, x_chain, values), chain, value, form))
                    break
        found.sort(key=lambda f: -f[0])
        if not found or found[0][0] < 1 or (len(found) > 1 and found[0][0] == found[1][0]):
            return None
        return found[0][1:]

    def _near(self, frame, values, x_chain):
        """Where targets are looked for: what the statement reads, the inputs' holder, the frame's
        locals, the module's globals."""
        out = list(self._candidates(values))
        if len(x_chain) > 1:
            holder, depth = resolve(frame, x_chain[:-1])
            if depth == len(x_chain) - 1:
                if _is_instance(holder):
                    out += [(x_chain[:-1] + (("attr", k),), v) for k, v in list(vars(holder).items())[:200]]
                elif isinstance(holder, dict):
                    out += [(x_chain[:-1] + (("item", k),), v) for k, v in list(holder.items())[:200]
                            if isinstance(k, (str, int))]
        if frame.f_locals is not frame.f_globals:
            out += [((("name", k),), v) for k, v in list(frame.f_locals.items())[:200]]
        out += [((("name", k),), v) for k, v in list(frame.f_globals.items())[:500]
                if not k.startswith("__")]
        seen = set()
        for chain, value in out:
            if id(value) not in seen:
                seen.add(id(value))
                yield chain, value

    def _replace(self, frame, statement, x_part, y_part):
        (x_chain, x_value, x_form), (y_chain, y_value, y_form) = x_part, y_part
        if self.data_found and not self._redrawn(x_value, x_form, (y_value, y_form)):
            return
        self._put(frame, x_chain, x_value, x_form, statement)
        self._put(frame, y_chain, y_value, y_form, statement)
        self.layout = FORM_LAYOUT.get(x_form.kind, self.layout)

    def _replace_pairs(self, frame, statement, chain, value, form):
        if self.data_found and not self._redrawn(value, form):
            return
        self._put(frame, chain, value, form, statement)
        self.layout = "rows" if form.example and form.example[0] == (1, self.n0) else "columns"

    def _redrawn(self, value, form, targets=None):
        """Whether inputs read once the batch is found are a minibatch the code drew from it, to
        be replaced by the batch itself: as many examples or more, each one of the batch's, not
        the batch in order (drawn with replacement, or shuffled), and targets drawn the same way
        (``y[idx]`` for ``X[idx]``).  Fewer examples are left alone (one example at a time,
        chunks of a sum)."""
        picked = self._picked(value, form)
        if picked is None or len(picked) < self.m or picked == list(range(self.m)):
            return False
        return targets is None or self._targets_at(targets[0], targets[1], picked)

    def _targets_at(self, value, form, picked):
        """Whether ``value`` holds the batch's targets of the examples ``picked``, in order."""
        want = build_batch(replace(form, listed=""), self.x[:, picked], self.y[:, picked])
        got = np.asarray(value)
        return got.shape == np.shape(want) and np.array_equal(got, want)

    def _picked(self, value, form):
        rows = examples_of(value, form)
        return None if rows is None else self.examples.match(rows)

    def _put(self, frame, chain, value, form, statement):
        new = build_batch(form, self.x, self.y)
        holder, key = _holder_of(frame, chain)
        if not assign(frame, chain, new):
            self._fail(f"{statement.where}: gradcheck cannot put the config's batch in place of "
                       f"{chain_text(chain)}")
        if self.undo is not None and holder is not None:
            self.undo.append((holder, key, value))
            if holder is frame.f_globals and form.role == "x":
                self.undo += _derived_counts(holder, chain[0][1], form.M, self.m)
        self._keep(new)
        self.data_found = True
        if len(self.replaced) < 6:
            self.replaced.append(f"{chain_text(chain)} {_shape_text(value)} ({form.describe()}, "
                                 f"{statement.where})")

    def _keep(self, new):
        """Remember the config's batch as handed to the code, and which examples each part holds."""
        whole = set(range(self.m))
        self.data[id(new)] = (new, whole)
        if isinstance(new, list):
            for k, part in enumerate(new):
                for p in (part if isinstance(part, tuple) else (part,)):
                    self.data[id(p)] = (p, {k})

    def _seen_in(self, values):
        """Mark the batch's examples the code reads together with its parameters (the forward
        pass) once training has begun."""
        claimed = self.claimed
        if not any(id(v) in claimed or (isinstance(v, list) and v and id(v[0]) in claimed)
                   for _, v in values):
            return
        for _, value in values:
            found = self.data.get(id(value))
            if found is not None and found[0] is value:
                self.seen.update(found[1])
                continue
            if isinstance(value, np.ndarray) and value.ndim <= 2 and self.n0 in value.shape:
                for form in x_forms(value, self.n0):
                    picked = self._picked(value, form)
                    if picked is not None:
                        self.seen.update(picked)
                        break

    # -- training on a batch that was not found -----------------------------------------------
    def _before_found(self, frame, statement, values):
        """Remember parameter-shaped arrays read before the batch is found, and what the
        statement is about to rebind: an update of one means the code trains on a batch
        gradcheck did not find (it is stopped there, not run to its end)."""
        shapes = self._param_shapes
        for _, value in values:
            if float_array(value) and value.shape in shapes and len(self.unseen) < 64:
                self.unseen[id(value)] = value
        if self.unseen and (statement.targets or statement.modified):
            local = frame.f_locals
            self.pending = tuple((c, resolve(frame, c, local)) for c in
                                 statement.modified + statement.targets)

    def _trains_unseen(self, frame, statement):
        """A statement that updates a parameter-shaped array read before (``W += ...``, ``W = W
        - ...``) a second time: a training loop is running on a batch gradcheck did not find."""
        local = frame.f_locals
        for chain, (old, depth) in self.pending:
            if depth != len(chain) or self.unseen.get(id(old)) is not old:
                continue
            new, depth = resolve(frame, chain, local)
            in_place = isinstance(statement.node, ast.AugAssign) and new is old
            rebound = (depth == len(chain) and float_array(new) and new is not old and
                       new.shape == old.shape and chain in statement.reads)
            if not (in_place or rebound):
                continue
            key = (statement, chain)
            self.repeats[key] = self.repeats.get(key, 0) + 1
            self.unseen[id(new)] = new
            if self.repeats[key] > 1:
                self._fail(f"{self._no_batch(self.name)} (the code updated {chain_text(chain)} "
                           f"at {statement.where} again and again without it)")
        self.pending = ()

    @property
    def _param_shapes(self):
        shapes = getattr(self, "_shapes_cache", None)
        if shapes is None:
            shapes = self._shapes_cache = {s for p in self.net.params for s in _shapes(p)}
        return shapes

    # -- the parameters ---------------------------------------------------------------------------
    def _claim(self, frame, statement, values):
        for chain, value in values:
            if _lr_key(chain[-1][1]) in LR_NAMES | MAYBE_LR and _is_number(value) and (
                    float(value) == self.lr):
                self.lr_read = True
            for path, item in _parameter_like(chain, value):
                if id(item) in self.claimed or id(item) in self.data:
                    continue
                if float_array(item):
                    self._claim_array(frame, statement, path, item)
                elif _is_number(item) and path and is_scalar_name(path[-1][1]):
                    self._claim_scalars(frame, statement, path)
                elif _holds_scalar(item) or (isinstance(item, list) and item and
                                             _holds_scalar(item[0])):
                    self._claim_holders(frame, statement)

    def _param_for(self, shape, path):
        """The unclaimed parameter an array of ``shape`` read at ``path`` is: by shape, then by its
        name (W or b, its layer's number, its place in a list), then the first in forward order."""
        fits = [p for p in self.net.params if p.name not in self.claims and shape in _shapes(p)
                and self._agrees(p, shape)]
        if len(fits) > 1:
            names = [str(k) for _, k in reversed(path) if isinstance(k, str)]
            kind = [p for p in fits if names and _looks_like(names[0], p.kind)]
            fits = kind or fits
            layer = _layer_of(path)
            fits = [p for p in fits if p.layer == layer] or fits
        return fits[0] if fits else None

    def _agrees(self, param, shape):
        """Whether ``shape`` agrees with the layout the parameters taken so far show (a weight
        of the other orientation is then an activation, not this weight)."""
        layout = self._claimed_layout()
        if layout is None or len(shape) != 2 or shape == shape[::-1]:
            return True
        if param.kind == "weight":
            return (shape == param.shape) == (layout == self.net.layout)
        return (shape[0] == 1) == (layout == "rows") or max(shape) == 1

    def _claimed_layout(self):
        """The layout the parameters taken so far show, or None."""
        other = "rows" if self.net.layout == "columns" else "columns"
        for c in self.claims.values():
            if c.param.kind == "weight" and len(c.shape) == 2 and c.shape != c.shape[::-1]:
                return other if c.transposed else self.net.layout
            if c.param.kind == "bias" and len(c.shape) == 2 and max(c.shape) > 1:
                return "rows" if c.shape[0] == 1 else "columns"
        return None

    def _claim_array(self, frame, statement, path, array):
        names = [str(k) for _, k in path if isinstance(k, str)]
        if names and _data_name(names[-1]):
            return      # X_norm, inputs: the batch as the code transformed it, never a parameter
        param = self._param_for(array.shape, path)
        if param is None:
            return
        transposed = self._transposed(param, array.shape)
        binding = self._binding(frame, path, array)
        value = self.values[param.name]
        value = (value.T if transposed else value).reshape(array.shape)
        if array.flags.writeable:
            array[...] = value.astype(array.dtype)
            current = array
        else:
            current = np.array(value, dtype=array.dtype)
            binding.set(current)
        self._add(Claim(param, [binding], array.shape, array.dtype, transposed, binding.label,
                        current=current, before=np.array(current, copy=True)), statement)

    def _transposed(self, param, shape):
        """Whether the code keeps the weight ``param`` in the other layout than the config's: by
        its shape; for a square weight, by the layout its other weights, its biases or its batch
        show, else the config's."""
        if param.kind != "weight" or len(shape) != 2:
            return False
        if shape != shape[::-1]:
            return shape != param.shape
        return self._code_layout() != self.net.layout

    def _code_layout(self):
        return self._claimed_layout() or self.layout or self.net.layout

    def _add(self, claim, statement):
        self.claims[claim.param.name] = claim
        self.claimed[id(claim.current)] = claim.current
        if self.first is None:
            self.first = statement

    def _binding(self, frame, path, value):
        """The most lasting place ``value`` is kept: an object's attribute (seen from this frame,
        its callers, the module), a global, the outermost caller's local holding the same
        container, else this frame's local."""
        steps = _steps(frame, path)
        root, _ = resolve(frame, path[:1])
        name = path[0][1]
        if _is_instance(root):
            return Binding("object", root, None, steps[1:],
                           _label(self._name_for(frame, root, name), steps[1:]))
        found = self._on_an_object(frame, value)
        if found is not None:
            return found
        if frame.f_locals is frame.f_globals or name not in frame.f_locals:
            return Binding("globals", frame.f_globals, name, steps[1:], _label(name, steps[1:]))
        outer, outer_name = self._outermost(frame, root, name)
        return Binding("frame", outer, outer_name, steps[1:],
                       f"{_label(outer_name, steps[1:])} (a local of {outer.f_code.co_name})")

    def _frames(self, frame):
        """This frame and its callers that are the user's code, innermost first."""
        while frame is not None:
            if self.mine(frame.f_code) or frame.f_locals is frame.f_globals:
                yield frame
            frame = frame.f_back

    def _on_an_object(self, frame, value):
        for f in self._frames(frame):
            for name, held in list(f.f_locals.items())[:100]:
                if _is_instance(held):
                    for path, array in float_arrays(held, depth=3):
                        if array is value:
                            return Binding("object", held, None, path,
                                           _label(self._name_for(f, held, name), path))
        return None

    def _outermost(self, frame, value, name):
        best = (frame, name)
        for f in list(self._frames(frame))[1:]:
            if f.f_locals is f.f_globals:
                break
            for other, held in list(f.f_locals.items())[:100]:
                if held is value:
                    best = (f, other)
                    break
        return best

    def _name_for(self, frame, obj, default):
        """What the user calls ``obj`` at the outermost level: a global (``net``), an item of one
        (``network[0]``), else ``default``."""
        frames = list(self._frames(frame))
        for f in reversed(frames):
            for name, held in list(f.f_locals.items())[:300]:
                if name.startswith("__"):
                    continue
                if held is obj:
                    return name
                if isinstance(held, (list, tuple)) and len(held) <= 256:
                    for k, item in enumerate(held):
                        if item is obj:
                            return f"{name}[{k}]"
        return default

    def _claim_scalars(self, frame, statement, path):
        """Parameters kept as float scalars w1, w2, ..., b1, ... (victorzhou.com's network)."""
        if any(c.scalars for c in self.claims.values()):
            return
        holder = resolve(frame, path[:-1])[0] if len(path) > 1 else None
        table = vars(holder) if _is_instance(holder) else frame.f_globals
        mapping = scalar_mapping(self.net, table)
        if mapping is None:
            return
        source = "".join(_source_of(frame))
        if not scalars_agree_with_source(mapping, source):
            self._fail(f"{statement.where}: the scalars {', '.join(n for _, ns in mapping for n in ns)} "
                       "are not numbered unit by unit (each unit's weights and bias in one "
                       "statement): gradcheck cannot tell which entry of which array each is")
        base = chain_text(path[:-1]) + "." if len(path) > 1 else ""
        for param, names in mapping:
            bindings = [Binding("object", holder, None, (("attr", n),), n) if holder is not None
                        else Binding("globals", table, n, (), n) for n in names]
            self._add_scalars(param, bindings, f"{base.replace('self.', '')}" +
                              _matrix_text(param, names, self.net.layout), statement)

    def _claim_holders(self, frame, statement):
        """Parameters kept as scalar objects (micrograd's ``Value``: ``.data``) nested in lists
        layer by layer, unit by unit, found from the objects the user's frames hold."""
        if any(c.scalars for c in self.claims.values()):
            return
        for f in reversed(list(self._frames(frame))):
            for name, root in list(f.f_locals.items())[:100]:
                mapping = holder_mapping(self.net, root) if _is_instance(root) else None
                if mapping is None:
                    continue
                for param, leaves in mapping:
                    bindings = [Binding("object", obj, None, (("attr", attr),),
                                        f"{name}{path}.{attr}") for obj, attr, path in leaves]
                    self._add_scalars(param, bindings, f"{bindings[0].label} ... "
                                      f"{bindings[-1].label}", statement)
                    for obj, _, _ in leaves:
                        self.claimed[id(obj)] = obj
                return

    def _add_scalars(self, param, bindings, label, statement):
        flip = self.net.layout == "rows"
        value = self.values[param.name]
        for b, v in zip(bindings, np.asarray(value.T if flip else value, dtype=float).reshape(-1)):
            b.set(float(v))
        claim = Claim(param, bindings, (), np.dtype(float), False, label, flip=flip)
        claim.current = claim.value_now()
        claim.before = np.array(claim.current, copy=True)
        self._add(claim, statement)

    # -- the step ---------------------------------------------------------------------------------
    def _check_updates(self, frame, statement):
        for claim in self.claims.values():
            if claim.after is None and self._moved(claim):
                claim.where = statement.where
                claim.lr = _lr_of(frame, statement, self.lr)
                self.updated = True
        if all(c.after is not None for c in self.claims.values()):
            self._stop()

    def _moved(self, claim):
        """Whether the parameter's first update is complete; sets ``claim.after``."""
        now = claim.value_now()
        if now is _MISSING or (now is claim.current and np.array_equal(now, claim.before)):
            return False
        value = np.asarray(now)
        if claim.scalars:
            if np.array_equal(value, claim.before):
                return False
            moved = value != claim.before
            claim.moved = moved if claim.moved is None else claim.moved | moved
            claim.latest = value
            if not np.all(claim.moved):
                return False     # scalars are updated one by one: wait for every entry
        elif value.shape == claim.before.shape and np.array_equal(value, claim.before):
            self._retarget(claim, now)      # the same values anew (a deep copy)
            return False
        elif self._recast(claim, value):
            self._retarget(claim, now)      # the same values in the code's dtype (an astype)
            return False
        claim.after = np.array(value, copy=True)
        return True

    def _retarget(self, claim, now):
        claim.current = now
        self.claimed[id(now)] = now

    @staticmethod
    def _recast(claim, value):
        if value.shape != claim.before.shape or value.dtype == claim.before.dtype:
            return False
        if value.dtype.kind != "f" or not np.array_equal(value, claim.before.astype(value.dtype)):
            return False
        claim.before = np.array(value, copy=True)
        claim.dtype = value.dtype
        return True

    def _set_lr(self, frame, statement):
        """Set a learning rate the statement binds by name (a local, a global, an attribute, a
        dict item) to the rate gradcheck asks for."""
        for chain in statement.targets:
            kind, key = chain[-1]
            if kind == "index" or _lr_key(key) not in LR_NAMES:
                continue
            value, depth = resolve(frame, chain)
            if depth == len(chain) and _is_number(value) and value > 0:
                if value != self.lr and not assign(frame, chain, self.lr):
                    continue
                self._said_lr(f"{chain_text(chain)} ({statement.where})")

    def _said_lr(self, where):
        if where not in self.lr_set and len(self.lr_set) < 4:
            self.lr_set.append(where)

    def _stop(self):
        self.finished = True
        raise Stop()

    def _fail(self, message):
        self.failure = message
        self.finished = True
        raise Stop(message)

    # -- the outcome ------------------------------------------------------------------------------
    def result(self, what):
        """(before, after, lr, notes): the parameters as written and after the first update (the
        config's layout, the code's dtype), the step's learning rate and the notes; a PluginError
        saying what was seen otherwise."""
        if self.failure:
            raise PluginError(self.failure)
        if not self.data_found:
            raise PluginError(self._no_batch(what))
        missing = [p.name for p in self.net.params if p.name not in self.claims]
        if missing:
            raise PluginError(self._unclaimed(what, missing))
        for claim in self.claims.values():
            if claim.after is None and claim.latest is not None:
                claim.after = claim.latest
        if not any(c.after is not None for c in self.claims.values()):
            raise PluginError(f"{what} read its parameters ({self._found()}) but did not update "
                              "them: is it a training step?")
        if self.m > 1 and self.seen and len(self.seen) < self.m:
            raise PluginError(f"{what} takes its first step on {len(self.seen)} of the batch's "
                              f"{self.m} examples (one at a time?): set batch = {len(self.seen)} "
                              "in the config")
        lr, lr_note = self._rate(what)
        before, after = {}, {}
        for name, claim in self.claims.items():
            slot = claim.slot()
            before[name] = slot.to_config(claim.before, what)
            after[name] = slot.to_config(claim.before if claim.after is None else claim.after, what)
        return before, after, lr, self._notes(lr_note)

    def _rate(self, what):
        said = [c.lr for c in self.claims.values() if c.after is not None and c.lr]
        values = {s[1:] for s in said if s[0] in ("read", "literal")}
        if len({v[0] for v in values}) > 1:
            lines = "; ".join(f"{v[1]} = {v[0]:g}" for v in sorted(values))
            raise PluginError(f"{what} updates its parameters with different learning rates "
                              f"({lines}): gradcheck cannot recover one gradient from them")
        if values:
            value, source = next(iter(values))
            if any(s[0] == "set" for s in said):
                raise PluginError(f"{what} updates some parameters with the learning rate "
                                  f"gradcheck set and others with {source} = {value:g}")
            word = "a number written" if source.endswith(")") else f"`{source}`"
            return value, f"the learning rate is {word} in the update, {value:g} (read, not set)"
        if any(s[0] == "set" for s in said) or self.lr_read:
            where = ", ".join(self.lr_set) or "its argument"
            return self.lr, f"learning rate set to {self.lr:g} ({where})"
        return 1.0, ("no learning rate in the code (no lr, eta, learning_rate, ... and no factor "
                     "in the update line): the step is taken as an implicit rate of 1")

    def _notes(self, lr_note):
        notes = [f"parameters found as the code ran: {self._found()}"]
        if self.replaced:
            notes.append("the code's batch replaced by the config's: " + "; ".join(self.replaced))
        notes.append(lr_note)
        where = sorted({c.where for c in self.claims.values() if c.where})
        if where:
            notes.append(f"the run stopped after the first update ({', '.join(where[:4])})")
        still = [n for n, c in self.claims.items() if c.after is None]
        if still:
            notes.append(f"{', '.join(still)} did not change in the first step (a zero gradient)")
        return notes

    def _found(self):
        return ", ".join(f"{n} = {self.claims[n].label}" for n in self.net.names if n in self.claims)

    def _no_batch(self, what):
        seen = ", ".join(f"{k} {v}" for k, v in self.looked_at.items()) or "none of the input width"
        n0, n = self.n0, self.n_out
        y = "(M,) integer labels" if self.labels == "integers" else f"(M, {n}) or ({n}, M)"
        hint = ""
        if self.labels != "integers" and self.net.loss.targets == "one_hot":
            hint = "; if the code takes integer class labels, add [impl] labels = \"integers\""
        return (f"{what}: gradcheck could not find the batch the code trains on: it looks for "
                f"inputs (M, {n0}) or ({n0}, M) used together with targets {y}; the arrays of "
                f"the input width it saw were {seen}{hint}")

    def _unclaimed(self, what, missing):
        want = ", ".join(f"{n} {' or '.join(map(str, _shapes(self.net.param(n))))}" for n in missing)
        hint = (" (set bias = false in the config if the code has no biases)"
                if all(n.startswith("b") for n in missing) else "")
        return (f"{what}: once it used the batch, the code never read arrays of the shapes of "
                f"{want} (found {self._found() or 'none'}){hint}")


# -- helpers of the observer ----------------------------------------------------------------------
#: calls that only put examples together: a statement made of these and names fills a container
PACKING = {"append", "extend", "insert", "appendleft", "zip", "list", "tuple", "dict",
           "enumerate", "array", "asarray", "stack", "hstack", "vstack", "column_stack",
           "concatenate"}


def _packs(node):
    """Whether a statement only puts values into a container: ``data.append((x, y))``, ``pairs
    = list(zip(xs, ys))``, ``X = np.array(xs)``, ``batch = (x, y)``: a PACKING call or a tuple or
    list, of names, literals and more of the same.  Examples met there are being filled in; the
    batch is where the container is used.  (``n = X.shape[0]`` or ``a = X`` packs nothing.)"""
    if isinstance(node, ast.Expr):
        value = node.value
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and value.func.attr in ("append", "extend", "insert", "appendleft")):
            return False
    elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        value = node.value
        if not isinstance(value, (ast.Tuple, ast.List, ast.Call)):
            return False
    else:
        return False
    return _pure_packing(value)


def _pure_packing(node):
    """Names, literals, plain subscripts, and tuples, lists and PACKING calls of them."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        key = node.slice if isinstance(node, ast.Subscript) else None
        plain = key is None or isinstance(key, (ast.Name, ast.Constant))
        return plain and _pure_packing(node.value)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_pure_packing(e) for e in node.elts)
    if isinstance(node, ast.Starred):
        return _pure_packing(node.value)
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else (
            node.func.id if isinstance(node.func, ast.Name) else None)
        return (name in PACKING and not node.keywords
                and all(_pure_packing(a) for a in node.args))
    return False


def _passes_on(node):
    """``return parameters`` (or a tuple of names): the values are only handed to the caller,
    which will read them itself."""
    if not isinstance(node, ast.Return) or node.value is None:
        return False
    parts = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
    return all(chain_of(p) is not None for p in parts)


def _holder_of(frame, chain):
    """(the dict or object a chain's last step writes into, its key): for putting it back."""
    if len(chain) == 1:
        local = frame.f_locals
        if local is frame.f_globals or chain[0][1] not in local:
            return frame.f_globals, chain[0][1]
        return None, None
    holder, depth = resolve(frame, chain[:-1])
    if depth != len(chain) - 1:
        return None, None
    kind, key = chain[-1]
    if kind == "index":
        key = frame.f_locals.get(key, frame.f_globals.get(key))
    return holder, key


def _shape_text(value):
    if isinstance(value, np.ndarray):
        return str(value.shape)
    if isinstance(value, (list, tuple)):
        return f"(a list of {len(value)})"
    return type(value).__name__


def _own_slip(e, statement):
    return (f"gradcheck could not follow the code at {statement.where} ({type(e).__name__}: "
            f"{printable(e, 200)}); please report this")


def _score(chain, x_chain, values):
    """How well a name says it holds the targets of the inputs ``x_chain``: a name of targets
    (``y``, ``labels``, ``y_train``), the inputs' own suffix (``X_batch``, ``y_batch``), read in
    the same statement; a name of parameters (``syn1``, ``W2``) never does.  Below 1, nothing
    says so."""
    name, x_name = str(chain[-1][1]), str(x_chain[-1][1])
    lower = name.lower()
    if _looks_like(name, "weight") or _looks_like(name, "bias"):
        return -1
    score = 3 if name in _Y_NAMES else 2 if ("label" in lower or "target" in lower
                                             or lower.startswith("y") or lower.endswith("y")) else 0
    x_tail, tail = x_name.partition("_")[2], name.partition("_")[2]
    if x_tail and x_tail == tail:
        score += 2
    if any(c == chain for c, _ in values):
        score += 1
    return score


_DATA_NAMES = ROLES["x"] | ROLES["y"] | {"ys", "batch", "X_batch", "y_batch", "images"}


def _data_name(name):
    """A name that says it holds the batch (``X``, ``X_norm``, ``x_train``, ``inputs``, ``y``)."""
    head = re.split(r"[_\d]", name, maxsplit=1)[0]
    return name in _DATA_NAMES or head in {"X", "x", "y", "Y", "inputs", "targets", "labels"}


def _parameter_like(chain, value):
    """(path, item): the value itself, or the float arrays of a list, tuple or dict it is."""
    yield chain, value
    if isinstance(value, (list, tuple)) and 0 < len(value) <= 64:
        for k, item in enumerate(value):
            if float_array(item):
                yield chain + (("item", k),), item
    elif isinstance(value, dict) and 0 < len(value) <= 64:
        for key, item in list(value.items()):
            if isinstance(key, (str, int)) and float_array(item):
                yield chain + (("item", key),), item


def _steps(frame, path):
    out = []
    for kind, key in path:
        if kind == "index":
            key = frame.f_locals.get(key, frame.f_globals.get(key))
            kind = "item"
        out.append((kind, key))
    return tuple(out)


def _shapes(p):
    out = [p.shape, p.shape[::-1]]
    if p.kind == "bias":
        out.append((max(p.shape),))
    return list(dict.fromkeys(out))


def _looks_like(name, kind):
    lower = name.lower().lstrip("_")
    if kind == "bias":
        return lower.startswith("b") or "bias" in lower
    return lower.startswith(("w", "theta", "syn")) or "weight" in lower


def _layer_of(path):
    for _, key in reversed(path):
        if isinstance(key, int):
            return key + 1
        found = re.findall(r"\d+", str(key))
        if found:
            return int(found[-1])
    return None


def _matrix_text(param, names, layout):
    """``W1 = [[w1, w2], [w3, w4]]`` for the note (columns: one row per unit)."""
    if param.kind == "bias":
        return f"{param.name} = [{', '.join(names)}]"
    units = param.shape[0] if layout == "columns" else param.shape[1]
    per = len(names) // units
    rows = ["[" + ", ".join(names[i * per:(i + 1) * per]) + "]" for i in range(units)]
    text = "[" + ", ".join(rows) + "]"
    return f"{param.name} = {text}" + ("" if layout == "columns" else " (transposed)")


def _source_of(frame):
    import linecache
    return linecache.getlines(frame.f_code.co_filename)


def _lr_of(frame, statement, asked):
    """What an update statement says of its learning rate: ("set",) where it multiplies by a name
    holding the rate gradcheck set, ("read", value, name) where it holds another, ("literal",
    value, where) for a number written there, ("none",) where it shows none."""
    for node in _rate_factors(statement.node):
        if isinstance(node, ast.Constant):
            return ("literal", abs(float(node.value)), f"{statement.where})")
        chain = chain_of(node)
        value, depth = resolve(frame, chain) if chain else (None, 0)
        if chain and depth == len(chain) and _is_number(value) and value > 0:
            if float(value) == asked:
                return ("set",)
            return ("read", float(value), chain_text(chain))
    return ("none",)


def _rate_factors(node):
    """The factors of the products in ``node`` that name a learning rate (``eta`` in ``(eta /
    len(mini_batch)) * nw``), then numbers multiplying something else (``-0.1 * p.grad``)."""
    named, literal = [], []
    for sub in ast.walk(node):
        if not (isinstance(sub, ast.BinOp) and isinstance(sub.op, (ast.Mult, ast.Div))):
            continue
        for side in ([sub.left, sub.right] if isinstance(sub.op, ast.Mult) else [sub.left]):
            inner = side.operand if isinstance(side, ast.UnaryOp) and isinstance(
                side.op, (ast.USub, ast.UAdd)) else side
            while isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Div):
                inner = inner.left
            last = _last_name(inner)
            if last is not None and _lr_key(last) in LR_NAMES | MAYBE_LR:
                named.append(inner)
            elif isinstance(inner, ast.Constant) and _is_number(inner.value) and inner.value:
                other = sub.right if side is sub.left else sub.left
                if isinstance(sub.op, ast.Mult) and not isinstance(other, ast.Constant):
                    literal.append(inner)
    return named + literal


def _last_name(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(
            node.slice.value, str):
        return node.slice.value
    return None


# -- running ---------------------------------------------------------------------------------------
def _folders(path):
    """The user's folders for a file: its own, or inside a package the package's root."""
    folder = Path(path).resolve().parent
    top = folder
    while (top / "__init__.py").is_file():
        top = top.parent
    return (str(top),)


@dataclass
class _Main:
    """The script's module, run as the program (``__name__ == "__main__"``)."""

    path: Path

    def __enter__(self):
        self.saved = (sys.modules.get("__main__"), list(sys.argv))
        module = type(sys)("__main__")
        module.__dict__.update({"__file__": str(self.path), "__builtins__": builtins})
        sys.modules["__main__"] = module
        sys.argv[:] = [str(self.path)]
        folder = str(self.path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        os.environ.setdefault("MPLBACKEND", "Agg")      # a plot's show() must not block
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.show = lambda *a, **k: None
        return module

    def __exit__(self, *exc):
        main, argv = self.saved
        if main is not None:
            sys.modules["__main__"] = main
        sys.argv[:] = argv


def run_script(path, observer, record=True):
    """Run the module code of ``path`` as a program, watched: (the Watch, whether an observer
    stopped it).  Output goes to stderr and numpy's state is restored (``usercode.guarded``)."""
    path = Path(path).resolve()
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    watch = Watch(_folders(path), [observer], record=record)
    observer.mine = watch.is_users
    with _Main(path) as module, guarded(observer.warnings):
        stopped, _ = watch.run(exec, code, module.__dict__)
    return watch, stopped


def _answer(observer, watch, name, form):
    from .adapt import Answer
    before, after, lr, notes = observer.result(name)
    if watch.recorder is not None:
        for param_name, claim in observer.claims.items():
            if claim.after is not None and not claim.scalars:
                watch.recorder.mark_updated(param_name, claim.bindings[0].get())
    warned = [f"the code warned: {printable(w.message, 200)}" for w in observer.warnings[:2]]
    storage = tuple(sorted({c.dtype.name for c in observer.claims.values()}))
    return Answer("step", form, False, (after,), before, float(lr), None, storage,
                  tuple(notes + warned), watch.trace(), True)


def _raised(name, e, observer):
    if observer.failure:
        return PluginError(observer.failure)
    where = ""
    if observer.claims:
        where = " (after gradcheck found its parameters, before their first update)"
    elif observer.data_found:
        where = " (after gradcheck put the config's batch in place of its own)"
    return PluginError(f"{name} raised {describe(e)}{where}")


class ScriptReader:
    """A training script read as it runs (``gradcheck CONFIG --impl FILE.py``)."""

    def __init__(self, path, spec=None, shown=None):
        from .spec import ImplSpec
        self.path = Path(path)
        self.spec = ImplSpec.from_table(spec)
        self.name = shown or self.path.name

    def answer(self, net, x, y, lr):
        """The ``Answer`` (kind "step") of the script's first update, run on the batch (x, y) in
        the network's layout with learning rate ``lr`` where the script names one."""
        x, y = net.to_columns(np.asarray(x, dtype=float)), net.to_columns(np.asarray(y, dtype=float))
        observer = Training(net, x, y, lr, self.spec.labels)
        observer.name = self.name
        try:
            watch, _ = run_script(self.path, observer)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            raise _raised(self.name, e, observer) from None
        return _answer(observer, watch, self.name, "the script run as written")


class WatchedCall:
    """A callable whose parameters gradcheck cannot find before the call (drawn inside, kept as
    scalars, its batch kept in attributes or globals), read by watching one call."""

    def __init__(self, fn, spec):
        self.fn, self.spec = fn, spec
        self.raw = fn.fn if isinstance(fn, Target) else fn

    @property
    def name(self):
        return name_of(self.fn)

    def answer(self, net, x, y, lr):
        x, y = net.to_columns(np.asarray(x, dtype=float)), net.to_columns(np.asarray(y, dtype=float))
        roles, unknown = roles_of(self.raw, self.spec)
        if unknown:
            raise PluginError(f"{self.name} takes {', '.join(unknown)}, which gradcheck cannot "
                              "supply")
        errors = []
        for form in self._forms(net, roles):
            try:
                return self._once(net, x, y, lr, roles, form)
            except PluginError as e:
                if str(e) not in errors:
                    errors.append(str(e))
        raise PluginError(errors[0] if len(errors) == 1 else f"{errors[0]}; as "
                          f"{'rows' if net.layout == 'columns' else 'columns'}: {errors[-1]}")

    def _forms(self, net, roles):
        """(x form, y form) to hand the batch over in: the config's layout first, then the other
        orientation; targets flat for one output; labels where the config says integers."""
        takes = set(roles.values())
        if "pairs" in takes:
            return [("pairs", None)]
        if "x" not in takes:
            return [(None, None)]
        out = []
        for layout in (net.layout, "rows" if net.layout == "columns" else "columns"):
            ys = (["labels"] if self.spec.labels == "integers" else
                  [layout] + (["targets"] if net.layers[-1] == 1 else []))
            out += [(BatchForm("x", layout, 0), BatchForm("y", k, 0, "", "int64")) for k in ys]
        return out

    def _given(self, net, x, y, form):
        x_form, y_form = form
        if x_form == "pairs":
            example = ((net.layers[0], 1), () if self.spec.labels == "integers" else
                       (net.layers[-1], 1))
            return [build_batch(BatchForm("pairs", "pairs", x.shape[1], "pairs", "float64", example),
                                x, y)]
        if x_form is None:
            return []
        return [build_batch(x_form, x, y), build_batch(y_form, x, y)]

    def _once(self, net, x, y, lr, roles, form):
        given = self._given(net, x, y, form)
        kwargs = {}
        for name, role in roles.items():
            if role in ("x", "pairs", "y"):
                kwargs[name] = given[1 if role == "y" else 0]
            elif role == "lr":
                kwargs[name] = lr
        observer = Training(net, x, y, lr, self.spec.labels, given=given)
        observer.name = self.name
        watch = Watch(user_folders(self.raw), [observer], record=True)
        observer.mine = watch.is_users
        owner = getattr(self.raw.func if isinstance(self.raw, functools.partial) else self.raw,
                        "__self__", None)
        saved = _set_rates(owner, lr, observer)
        observer.undo = []
        try:
            with guarded(observer.warnings):
                watch.run(self.raw, **kwargs)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            raise _raised(self.name, e, observer) from None
        finally:
            for holder, key, value in reversed(saved + observer.undo):
                _put_back(holder, key, value)
        what = "one call" if form[0] is None else "one call, the batch as " + (
            "pairs" if form[0] == "pairs" else f"{form[0].kind}")
        return _answer(observer, watch, self.name, what)


def _innermost(fn):
    while True:
        if isinstance(fn, functools.partial):
            fn = fn.func
        elif hasattr(fn, "__func__"):
            fn = fn.__func__
        else:
            return fn


def user_folders(fn):
    """The folders of the user's code a callable runs: its own file's, and those of the classes of
    the object it is a method of, closes over or takes as a default (a lambda in one file calling
    a model defined in another)."""
    from .locate import owner_of
    files = []
    inner = _innermost(fn)
    path = getattr(getattr(inner, "__code__", None), "co_filename", None)
    if path is None or path.startswith("<"):
        module = sys.modules.get(getattr(inner, "__module__", None) or "")
        path = getattr(module, "__file__", None)
    files.append(path)
    try:
        owner = owner_of(fn)[1]
    except Exception:  # noqa: BLE001 - only a hint of where the user's code is
        owner = None
    for held in ([owner] + list(vars(owner).values())[:50]) if _is_instance(owner) else []:
        for cls in type(held).__mro__[:-1] if _is_instance(held) else ():
            files += [getattr(getattr(v, "__code__", None), "co_filename", None)
                      for v in vars(cls).values() if inspect.isfunction(v)][:3]
    folders = []
    for f in files:
        if f and not f.startswith("<"):
            for folder in _folders(f):
                if folder not in folders:
                    folders.append(folder)
    if not folders:
        raise PluginError(f"{name_of(fn)}: gradcheck cannot tell which file it comes from")
    return tuple(folders)


def _set_rates(owner, lr, observer):
    """Set, for one call, the learning rates an object keeps by name (``self.learning_rate``);
    [(object, name, old value)] to put back."""
    saved = []
    if owner is None or not _is_instance(owner):
        return saved
    for name, value in list(vars(owner).items()):
        if _lr_key(name) in LR_NAMES and _is_number(value) and value > 0:
            saved.append((owner, name, value))
            setattr(owner, name, lr)
            observer._said_lr(f"self.{name}")
    return saved


def _derived_counts(module, data_name, old, new):
    """Module-level ints the module's own code computed from the batch (``num_examples =
    len(X)``) that still hold its old size: set to the new one; [(module, name, old)]."""
    saved = []
    try:
        tree = ast.parse(Path(module.get("__file__", "")).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return saved
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            name = node.targets[0].id
            reads = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            if data_name in reads and type(module.get(name)) is int and module[name] == old:
                saved.append((module, name, old))
                module[name] = new
    return saved


def _put_back(holder, key, value):
    if isinstance(holder, dict):
        holder[key] = value
    else:
        setattr(holder, key, value)


_SAMPLERS = {"choice", "permutation", "shuffle", "randint", "sample", "permuted", "integers"}
_SAMPLING = {}      # code object -> whether it draws random samples


def _draws_samples(code):
    """Whether a function's source calls a random sampler (``np.random.choice``,
    ``permutation``, ``shuffle``, ``randint``): only such code can draw its own minibatch."""
    try:
        source = inspect.getsource(code)
    except (OSError, TypeError):
        return False
    return any(f"{name}(" in source for name in _SAMPLERS)


class DataGuard:
    """Watches a call read the usual way (``checks.adapt``): where the code draws its own
    minibatch from the batch it was given (``X[np.random.choice(...)]``), the minibatch is
    replaced by the batch itself.  ``replaced`` says where (empty when nothing was)."""

    def __init__(self, net, x, y, labels, given, track_reads=False):
        self.training = Training(net, x, y, 1.0, labels, given=given)
        self.read_ids = {} if track_reads else None

    @property
    def replaced(self):
        return self.training.replaced

    @property
    def failure(self):
        return self.training.failure

    @staticmethod
    def _samples(code):
        found = _SAMPLING.get(code)
        if found is None:
            found = _SAMPLING[code] = _draws_samples(code)
        return found

    def before(self, frame, statement):
        t = self.training
        samples = self._samples(frame.f_code)
        if t.finished or not (samples or self.read_ids is not None) or not statement.reads:
            return
        local = frame.f_locals
        values = [(chain[:depth], value) for chain, (value, depth) in
                  ((c, resolve(frame, c, local)) for c in statement.reads) if depth]
        if self.read_ids is not None:
            for _, value in values:
                for _, item in _parameter_like((), value):
                    if float_array(item) and len(self.read_ids) < 10_000:
                        self.read_ids[id(item)] = item
        if not samples:
            return
        try:
            t._batch(frame, statement, values)
        except PluginError as e:
            t._fail(str(e))
        except Exception as e:  # a slip of gradcheck's own: never blamed on the user's code
            t._fail(_own_slip(e, statement))
