"""A layer's code, as the check sees it: its forward evaluated at points, its backward at the base.

``check_layer`` needs three things from a CS231n-style layer ``forward(*inputs) -> (out, cache)``,
``backward(dout, cache) -> grads``: the outputs at the inputs (their shapes, and that a second call
gives the same), the backward's gradients for upstream gradients ``douts``, and the loss
L = sum(out * dout) at perturbed inputs, for the numeric side.  ``InProcessLayer`` calls the
user's functions here (the Python API); ``ChildLayer`` asks a child process (the command,
``checks.runner``) and checks what comes back.  A perturbation is sparse, ``{name: (flat
indices, values)}`` added to the base inputs, so a request carries only what moves.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

from .usercode import Calls, PluginError, Target

__all__ = ["InProcessLayer", "ChildLayer", "outputs_of", "layer_signature", "signature_of"]


def outputs_of(result):
    """(outputs, cache) from what forward returned: ``out``, ``(out, cache)``, or several outputs
    and a cache, ``(next_h, next_c, cache)`` as an LSTM step gives (backward then takes
    ``(dnext_h, dnext_c, cache)``)."""
    if isinstance(result, tuple) and len(result) >= 2:
        *outs, cache = result
        if all(isinstance(o, np.ndarray) or np.isscalar(o) for o in outs):
            return [np.asarray(o) for o in outs], cache
    return [np.asarray(result)], None


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

    def _run(self, values):
        args = [values[self.names[self.positions.index(i)]].copy() if i in self.positions
                else copy.deepcopy(v) for i, v in enumerate(self.inputs)]
        return self.forward(*args)

    def outputs(self, values):
        """The forward's outputs at ``values`` (name -> array) for the differentiated inputs."""
        return outputs_of(self._run(values))[0]

    def base_outputs(self):
        """The forward's outputs at the base inputs (a fresh call each time)."""
        return self.outputs(self.base)

    def losses(self, moves, douts):
        """For each perturbation {name: (indices, values)}: (L - L0, the size of the terms it
        differs by), where L = sum over the outputs of out * dout (complex where the values are)
        and L0 is L at the base inputs.

        The difference is summed over the outputs that changed only: an output the move cannot
        reach is computed from the same numbers as at the base and comes out the same, so its
        rounding cancels exactly.  What is left is rounded at the size of the outputs that did
        change, (|out| + |out0|) |dout| summed over them, not at the size of all of L: a step in
        one entry of an elementwise layer is judged at one output's rounding."""
        base = self._base_outputs()
        out = []
        for move in moves:
            outs = self.outputs(moved_values(self.base, move))
            diff, size = 0.0, 0.0
            for o, o0, d in zip(outs, base, douts):
                changed = o != o0
                delta = np.where(changed, o - o0, 0)
                diff = diff + np.sum(delta * d)
                size += float(np.sum(np.where(changed, (np.abs(np.real(o)) + np.abs(o0)) * np.abs(d),
                                              0.0)))
            out.append((diff, size))
        return out

    def _base_outputs(self):
        if getattr(self, "_outs0", None) is None:
            self._outs0 = self.base_outputs()
        return self._outs0

    def backward(self, douts, move=None):
        """The backward's gradients at the base inputs (moved by ``move``, a sparse
        perturbation, where given), for the upstream gradients ``douts``."""
        _, cache = outputs_of(self._run(moved_values(self.base, move or {})))
        grads = self.backward_fn(*[d.copy() for d in douts], cache)
        return [grads] if isinstance(grads, np.ndarray) else grads


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

    def base_outputs(self):
        reply, got = self.child.request("layer.outputs", {})
        count = reply.get("count")
        if type(count) is not int or set(got) != {f"out{k}" for k in range(count)}:
            raise PluginError(f"{self.shown}: its process gave an unexpected answer")
        return [got[f"out{k}"] for k in range(count)]

    def losses(self, moves, douts):
        arrays = _moves_arrays(moves)
        arrays.update({f"dout{k}": d for k, d in enumerate(douts)})
        reply, got = self.child.request("layer.losses", {"moves": len(moves),
                                                         "outputs": len(douts)}, arrays)
        loss = got.get("loss")
        size = got.get("size")
        if loss is None or size is None or loss.shape != (len(moves),) or size.shape != (
                len(moves),) or size.dtype.kind != "f" or loss.dtype.kind not in "fc":
            raise PluginError(f"{self.shown}: its process gave an unexpected answer")
        return list(zip(loss.tolist(), size.tolist()))

    def backward(self, douts, move=None):
        arrays = {f"dout{k}": d for k, d in enumerate(douts)}
        arrays.update(_moves_arrays([move or {}]))
        reply, got = self.child.request("layer.backward", {"outputs": len(douts)}, arrays)
        count = reply.get("count")
        if type(count) is not int or count < 0 or set(got) != {f"grad{k}" for k in range(count)}:
            raise PluginError(f"{self.shown}: its process gave an unexpected answer")
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
