"""A layer's code, as the check sees it: its forward evaluated at points, its backward at the base.

``check_layer`` needs three things from a CS231n-style layer ``forward(*inputs) -> (out, cache)``,
``backward(dout, cache) -> grads``: the outputs at the inputs (their shapes, and that a second call
gives the same), the backward's gradients for upstream gradients ``douts``, and the loss
L = sum(out * dout) at perturbed inputs, for the numeric side.  ``InProcessLayer`` calls the
user's functions here (the Python API); ``ChildLayer`` asks a child process (the command,
``checks.runner``) and checks what comes back.  A perturbation is sparse, ``{name: (flat
indices, values)}`` added to the base inputs, so a request carries only what moves.

``losses`` may also be asked for L split by a ``Grouping`` of the outputs: every output
(flattened, the outputs in order) carries a bin for each move, and the move's difference and
size are summed per bin.  That is how one evaluation that moves many entries, whose outputs do
not overlap, is read entry by entry (``checks.structure``).
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass

import numpy as np

from .usercode import Calls, PluginError, Target, describe, guarded, name_of, printable

__all__ = ["InProcessLayer", "ChildLayer", "Grouping", "outputs_of", "layer_signature",
           "signature_of"]


@dataclass(frozen=True)
class Grouping:
    """How each move's difference is split: move k sums output j into bin ``labels[which[k], j]``
    (the outputs flattened and concatenated in order), ``bins`` bins per move."""

    labels: np.ndarray        # int64 (labelings, outputs)
    which: np.ndarray         # int64 (moves,): the labeling of each move
    bins: int

    def validate(self, moves, outputs):
        if not (isinstance(self.labels, np.ndarray) and self.labels.ndim == 2
                and self.labels.dtype.kind == "i" and self.labels.shape[1] == outputs):
            raise ValueError(f"grouping.labels must be integers of shape (k, {outputs})")
        if not (isinstance(self.which, np.ndarray) and self.which.shape == (moves,)
                and self.which.dtype.kind == "i"):
            raise ValueError(f"grouping.which must be {moves} integers")
        if type(self.bins) is not int or self.bins < 1:
            raise ValueError(f"grouping.bins must be a positive integer; got {self.bins!r}")
        if self.which.size and (self.which.min() < 0 or self.which.max() >= len(self.labels)):
            raise ValueError("grouping.which names a labeling that is not there")
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= self.bins):
            raise ValueError(f"grouping.labels must lie in [0, {self.bins})")


def outputs_of(result):
    """(outputs, cache) from what forward returned: ``out``, ``(out, cache)``, or several outputs
    and a cache, ``(next_h, next_c, cache)`` as an LSTM step gives (backward then takes
    ``(dnext_h, dnext_c, cache)``)."""
    outs, cache = [result], None
    if isinstance(result, tuple) and len(result) >= 2:
        *parts, last = result
        if all(isinstance(o, np.ndarray) or np.isscalar(o) for o in parts):
            outs, cache = parts, last
    if any(o is None or np.asarray(o).dtype.kind not in "biufc" for o in outs):
        shown = type(result).__name__ if len(outs) == 1 and outs[0] is result else (
            ", ".join(type(o).__name__ for o in outs) + " and a cache")
        raise TypeError(
            f"forward returned {shown}, not numbers: out or (out, cache); a layer object whose "
            "forward keeps self.output and returns nothing (nnfs.io) can be wrapped: "
            "check_layer(lambda x: (layer.forward(x), (layer.output, None))[1], "
            "lambda dout, cache: (layer.backward(dout), layer.dinputs)[1], x)")
    return [np.asarray(o) for o in outs], cache


def argument_names(forward, count):
    fn = forward.fn if isinstance(forward, Target) else forward
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input{i}" for i in range(count)]


def moved_values(base, move):
    """The base arrays plus a sparse move, each in its own precision (a float32 input stays
    float32; the steps are chosen to be representable in it); every array complex when the
    move is (a complex step through code whose buffers take their dtype from several inputs must
    not lose it): complex64 for a float32 input, complex128 otherwise."""
    complex_ = any(np.iscomplexobj(d) for _, d in move.values())
    values = {n: (a.astype(np.result_type(a, np.complex64)) if complex_ else a)
              for n, a in base.items()}
    for name, (index, delta) in move.items():
        moved = values[name].copy()
        moved.flat[index] += np.asarray(delta).astype(moved.dtype)
        values[name] = moved
    return values


def signature_of(forward):
    """[{"name", "default"}] for the forward's positional parameters."""
    fn = forward.fn if isinstance(forward, Target) else forward
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        raise PluginError(f"cannot read the parameters of {getattr(fn, '__name__', fn)!r}") from None
    return [{"name": p.name, "default": p.default is not p.empty} for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def layer_signature(child, target, forward):
    """The forward's positional parameters, asked of the child that loads the layer file."""
    reply, _ = child.request("layer.signature", {"file": str(target.file), "forward": forward,
                                                 "shown": target.shown})
    params = reply.get("parameters")
    if not (isinstance(params, list) and all(
            isinstance(p, dict) and set(p) == {"name", "default"} and isinstance(p["name"], str)
            and type(p["default"]) is bool for p in params)):
        raise PluginError(f"{target.shown}: its process gave an unexpected answer")
    return params


def _validate_array(name, a):
    if not np.all(np.isfinite(a)):
        raise ValueError(f"`{name}` contains NaN or inf")
    return a


_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), np.generic)


def _fresh(value):
    """A copy of a non-differentiated input for one call: a dict of plain numbers (conv_param,
    bn_param before its first call) needs only a new dict; anything else a deep copy."""
    if isinstance(value, _IMMUTABLE):
        return value
    if type(value) is dict and all(isinstance(v, _IMMUTABLE) for v in value.values()):
        return dict(value)
    return copy.deepcopy(value)


class InProcessLayer:
    """The user's forward and backward, called in this process with fresh copies of the inputs
    each time (a forward that writes into its inputs or its options dict changes nothing)."""

    def __init__(self, forward, backward, inputs):
        self.forward, self.backward_fn = Calls(forward), Calls(backward)
        self.arg_names = argument_names(forward, len(inputs))
        self.positions = [i for i, v in enumerate(inputs)
                          if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
        if not self.positions:
            raise ValueError("check_layer needs at least one float-array input to differentiate")
        self.inputs = [np.array(v, copy=True) if i in self.positions else v
                       for i, v in enumerate(inputs)]
        for i in self.positions:
            _validate_array(self.arg_names[i], self.inputs[i])
        self.names = tuple(self.arg_names[i] for i in self.positions)
        self.base = {n: self.inputs[i] for n, i in zip(self.names, self.positions)}
        self._slot = dict(zip(self.positions, self.names))
        self._where = {n: i for i, n in zip(self.positions, self.names)}
        self._complex_base = None
        self._flat0 = None
        self._kinds = None

    def _args(self, values):
        """The forward's arguments at ``values`` (name -> array), what each needs worked out once
        per layer: a differentiated input copied, an immutable one passed as it is, any other a
        fresh copy (``_fresh``)."""
        if self._kinds is None:
            self._kinds = [(0, self._slot[i]) if i in self._slot else
                           ((1, v) if isinstance(v, _IMMUTABLE) else (2, v))
                           for i, v in enumerate(self.inputs)]
        return [values[v].copy() if k == 0 else v if k == 1 else _fresh(v)
                for k, v in self._kinds]

    def _run(self, values):
        return self.forward(*self._args(values))

    def outputs(self, values):
        """The forward's outputs at ``values`` (name -> array) for the differentiated inputs."""
        return outputs_of(self._run(values))[0]

    def base_outputs(self):
        """The forward's outputs at the base inputs (a fresh call each time; the first one's are
        kept, as copies, for the losses' base)."""
        outs = self.outputs(self.base)
        if self._flat0 is None:
            flat = np.concatenate([np.ravel(o) for o in outs]).astype(float)
            self._flat0 = (flat, [o.shape for o in outs], np.abs(flat))
        return outs

    def _base_flat(self):
        """(the base outputs flattened into one float vector, their shapes, |that vector|)."""
        if self._flat0 is None:
            self.base_outputs()
        return self._flat0

    def _moved_args(self, move):
        """The forward's arguments at the base plus ``move``: every array a fresh copy, the moved
        ones written; every array complex where the move is (``moved_values``)."""
        move = [(name, np.asarray(index), np.asarray(delta)) for name, (index, delta) in move.items()]
        if any(d.dtype.kind == "c" for _, _, d in move):
            if self._complex_base is None:
                self._complex_base = {n: a.astype(np.result_type(a, np.complex64))
                                      for n, a in self.base.items()}
            args = self._args(self._complex_base)
        else:
            args = self._args(self.base)
        for name, index, delta in move:
            args[self._where[name]].reshape(-1)[index] += delta
        return args

    def losses(self, moves, douts, grouping=None):
        """For each perturbation {name: (indices, values)}: (L - L0, the size of the terms it
        differs by), where L = sum over the outputs of out * dout (complex where the values are)
        and L0 is L at the base inputs.  With a ``Grouping``: (differences, sizes), two arrays
        of shape (moves, bins), each move's sums split by its labels.

        The difference is summed over the outputs that changed only: an output the move cannot
        reach is computed from the same numbers as at the base and comes out the same, so its
        rounding cancels exactly.  What is left is rounded at the size of the outputs the move
        reaches (``_Sums``), not at the size of all of L: a step in one entry of an elementwise
        layer is judged at one output's rounding.

        The forward is called under one guard for the whole batch (``usercode.guarded``: stdout
        to stderr, warnings recorded, numpy's state restored); its error state is restored after
        every call that changed it."""
        o0, shapes, abs0 = self._base_flat()
        d = np.concatenate([np.ravel(x) for x in douts]).astype(float)
        if grouping is not None:
            grouping.validate(len(moves), o0.size)
        outs = self._evaluate(moves, shapes)
        sums = _Sums(o0, d, abs0)
        if grouping is None:
            return [pair for block in _blocks(outs, o0.size) for pair in sums.totals(block)]
        parts = [sums.split(block, grouping.labels[grouping.which[start:start + len(block)]],
                            grouping.bins) for start, block in _starts(_blocks(outs, o0.size))]
        if not parts:
            return np.zeros((0, grouping.bins)), np.zeros((0, grouping.bins))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _evaluate(self, moves, shapes):
        """The outputs, flattened, at each move, the forward called under one guard for the whole
        batch (``usercode.guarded``: stdout to stderr, warnings recorded, numpy's state restored),
        its error state restored after every call that changed it."""
        outs = []
        fn = self.forward.fn
        with guarded(self.forward.warnings):
            err = np.geterr()
            for move in moves:
                args = self._moved_args(move)
                try:
                    result = fn(*args)
                except BaseException as e:
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    raise PluginError(f"{printable(name_of(fn), 200)} raised {describe(e)}") from None
                if np.geterr() != err:
                    np.seterr(**err)
                outs.append(_flat_outputs(result, shapes))
        return outs

    def backward(self, douts, move=None):
        """The backward's gradients at the base inputs (moved by ``move``, a sparse
        perturbation, where given), for the upstream gradients ``douts``."""
        _, cache = outputs_of(self._run(moved_values(self.base, move or {})))
        grads = self.backward_fn(*[d.copy() for d in douts], cache)
        return [grads] if isinstance(grads, np.ndarray) else grads


def _flat_outputs(result, shapes):
    """The outputs of one call as one flat vector, after checking they have the base's shapes."""
    if (type(result) is tuple and len(result) == 2 and type(result[0]) is np.ndarray
            and len(shapes) == 1 and result[0].shape == shapes[0]):
        return result[0].ravel()      # (out, cache), out as at the base: what the rest gives
    outs = outputs_of(result)[0]
    if [o.shape for o in outs] != shapes:
        raise ValueError(f"forward's outputs change shape with its inputs' values: "
                         f"{[o.shape for o in outs]} here, {shapes} at the base")
    return np.concatenate([np.ravel(o) for o in outs]) if len(outs) > 1 else np.ravel(outs[0])


#: output entries per block of moves whose sums are taken at once
BLOCK_ENTRIES = 1 << 20


def _blocks(outs, size):
    """The flat outputs of a batch in blocks of at most BLOCK_ENTRIES entries (one move at least)."""
    per = max(1, BLOCK_ENTRIES // max(size, 1))
    return [outs[k:k + per] for k in range(0, len(outs), per)]


def _starts(blocks):
    start = 0
    for block in blocks:
        yield start, block
        start += len(block)


class _Sums:
    """L - L0 = sum of (o - o0) dout over the outputs that changed, and the size of the terms it
    differs by, for a block of moves at once.  The base is finite (``check_layer_code`` refuses
    it otherwise), so an output that did not change has o - o0 = 0 exactly and adds nothing to
    the first sum.

    The size is what the difference's rounding is measured against: (|o| + |o0|) |dout| summed
    over the outputs that changed; where none did, over all of them (a change smaller than an
    output's rounding, float32's at a saturated unit, leaves it bitwise the same: the move's
    effect is hidden somewhere, at the rounding of what it reaches, unknown here).  The base
    evaluation (no move) so gives the size of all of L."""

    def __init__(self, o0, d, abs0):
        self.o0, self.d, self.abs0, self.absd = o0, d, abs0, np.abs(d)

    def _terms(self, block):
        O = np.stack(block)
        diff = O - self.o0
        return diff * self.d, (np.abs(np.real(O)) + self.abs0) * self.absd, diff != 0

    def totals(self, block):
        delta, size, changed = self._terms(block)
        seen = (size * changed).sum(axis=1)
        size = np.where(changed.any(axis=1), seen, size.sum(axis=1))  # NaN, inf: changed
        return list(zip(delta.sum(axis=1).tolist(), size.tolist()))

    def split(self, block, labels, bins):
        """(moves, bins) each: move k's sums by its own ``labels[k]``; the sizes over the outputs
        that changed (the probes of ``checks.structure`` read a bin's size as "something in it
        changed"; ``blackbox`` sizes a bin where nothing changed itself)."""
        delta, size, changed = self._terms(block)
        size = size * changed
        n = len(block)
        index = (labels + bins * np.arange(n)[:, None]).ravel()
        total = np.bincount(index, np.real(delta).ravel(), n * bins).reshape(n, bins)
        if np.iscomplexobj(delta):
            total = total + 1j * np.bincount(index, np.imag(delta).ravel(), n * bins).reshape(n, bins)
        return total, np.bincount(index, size.ravel(), n * bins).reshape(n, bins)


class ChildLayer:
    """A layer file's forward and backward in a child process (``gradcheck --layer``): the same
    questions as ``InProcessLayer``, asked over ``checks.protocol``, every answer checked."""

    def __init__(self, child, target, forward, backward, inputs):
        self.child, self.shown = child, target.shown
        header = {"file": str(target.file), "forward": forward, "backward": backward,
                  "shown": target.shown,
                  "inputs": [None if isinstance(v, np.ndarray) else v for v in inputs]}
        arrays = {f"input{i}": v for i, v in enumerate(inputs) if isinstance(v, np.ndarray)}
        reply, _ = child.request("layer.open", header, arrays)
        names = reply.get("names")
        if not (isinstance(names, list) and len(names) == len(inputs)
                and all(isinstance(n, str) for n in names)):
            raise PluginError(f"{self.shown}: its process gave an unexpected answer")
        self.arg_names = names
        self.positions = [i for i, v in enumerate(inputs) if isinstance(v, np.ndarray)
                          and v.dtype.kind == "f"]
        if not self.positions:
            raise ValueError("--layer needs at least one float-array input to differentiate")
        self.names = tuple(names[i] for i in self.positions)
        self.base = {n: inputs[i] for n, i in zip(self.names, self.positions)}

    def _unexpected(self):
        return PluginError(f"{self.shown}: its process gave an unexpected answer")

    def base_outputs(self):
        reply, got = self.child.request("layer.outputs", {})
        count = reply.get("count")
        if type(count) is not int or set(got) != {f"out{k}" for k in range(count)}:
            raise self._unexpected()
        return [got[f"out{k}"] for k in range(count)]

    def losses(self, moves, douts, grouping=None):
        """As ``InProcessLayer.losses``, answered by the child; every array of the answer is
        checked for its shape and dtype, and the sizes for being finite and not negative."""
        arrays = _moves_arrays(moves)
        arrays.update({f"dout{k}": d for k, d in enumerate(douts)})
        header = {"moves": len(moves), "outputs": len(douts)}
        rows = (len(moves),)
        if grouping is not None:
            grouping.validate(len(moves), sum(int(np.size(d)) for d in douts))
            arrays.update(labels=grouping.labels.astype(np.int64), which=grouping.which.astype(np.int64))
            header["bins"] = grouping.bins
            rows = (len(moves), grouping.bins)
        _, got = self.child.request("layer.losses", header, arrays)
        loss, size = got.get("loss"), got.get("size")
        if (loss is None or size is None or loss.shape != rows or size.shape != rows
                or size.dtype.kind != "f" or loss.dtype.kind not in "fc" or np.any(size < 0)):
            raise self._unexpected()
        if grouping is not None:
            return loss, size
        return list(zip(loss.tolist(), size.tolist()))

    def backward(self, douts, move=None):
        arrays = {f"dout{k}": d for k, d in enumerate(douts)}
        arrays.update(_moves_arrays([move or {}]))
        reply, got = self.child.request("layer.backward", {"outputs": len(douts)}, arrays)
        count = reply.get("count")
        if type(count) is not int or count < 0 or set(got) != {f"grad{k}" for k in range(count)}:
            raise self._unexpected()
        return [got[f"grad{k}"] for k in range(count)]


def _moves_arrays(moves):
    out = {}
    for k, move in enumerate(moves):
        for name, (index, delta) in move.items():
            out[f"m{k}:{name}:i"] = np.asarray(index, dtype=np.int64)
            out[f"m{k}:{name}:v"] = np.asarray(delta)
    return out


def moves_from_arrays(arrays, count, names):
    """The perturbations of a request, in the child."""
    moves = []
    for k in range(count):
        moves.append({n: (arrays[f"m{k}:{n}:i"], arrays[f"m{k}:{n}:v"]) for n in names
                      if f"m{k}:{n}:i" in arrays})
    return moves


def grouping_from_arrays(header, arrays):
    """The ``Grouping`` of a request, in the child (None where it asks for totals)."""
    if "bins" not in header:
        return None
    return Grouping(np.asarray(arrays["labels"]), np.asarray(arrays["which"]), header["bins"])
