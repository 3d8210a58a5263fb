"""The child process of ``checks.runner``: a generic runner of requests on the user's code.

Started as ``python -I -c ...`` with gradcheck's folder first on sys.path, it imports every
module it needs before any of the user's (so nothing in the user's folder can stand in for them),
then answers one frame at a time (``checks.protocol``) until the parent closes the pipe:

- ``gradient``: build the network, call ``FILE.py:TARGET`` through ``checks.adapt`` and give back
  what it returned (or its parameters after the step), one set of arrays per call;
- ``layer.open``: load a layer's forward and backward and return its outputs' shapes;
- ``layer.outputs``: the forward's outputs at the base point;
- ``layer.losses``: sum_k <dout_k, out_k> of the forward at each of a batch of moved points
  (with a grouping, one sum per bin of outputs: ``checks.structure``);
- ``layer.backward``: run the backward on the upstream gradients at the base point;
- ``script``: run ``FILE.py`` as a program, watched (``checks.script``), and give back its
  parameters as written and after its first update, with the trace of the run.

It computes no tolerance and no verdict: it only gives the user's numbers back.  Nothing imports
this module but the child itself.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

import numpy as np

from ..backprop import Network
from .adapt import CodeReader
from .script import ScriptReader
from .layers import InProcessLayer, grouping_from_arrays, moves_from_arrays, signature_of
from .protocol import ProtocolError, read_frame, write_frame
from .usercode import PluginError, UserTarget, describe, load, printable, raised_in_user_code

__all__ = ["serve"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """SIGKILL this process when the parent ends (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _State:
    """What the child keeps between requests: the user's code, loaded once."""

    def __init__(self):
        self.readers = {}
        self.layer = None

    def reader(self, header):
        key = (header["file"], header["expression"], header["kind"], repr(header["spec"]))
        if key not in self.readers:
            _, fn = load(UserTarget(Path(header["file"]), header["expression"], header["shown"]))
            self.readers[key] = CodeReader(fn, header["kind"], header["spec"])
        return self.readers[key]


def _gradient(state, header, arrays):
    net = Network(**header["network"])
    net.theta[...] = arrays["theta"]
    answer = state.reader(header).answer(net, arrays["x"], arrays["y"], header["lr"])
    if answer.watched:
        return _watched_reply(answer)
    out = {f"written:{n}": a for n, a in answer.written.items()}
    for k, call in enumerate(answer.calls):
        out.update({f"call{k}:{n}": a for n, a in call.items()})
    loss, notes = answer.loss, list(answer.notes)
    if loss is not None and not np.isfinite(loss):
        loss, notes = None, notes + [f"the code's loss is {answer.loss}"]
    reply = {"kind": answer.kind, "form": answer.form, "per_example": answer.per_example,
             "calls": len(answer.calls), "lr": answer.lr, "loss": loss,
             "storage": list(answer.storage), "notes": notes}
    if answer.trace is not None:  # the first call's trace (checks.watch)
        reply["trace"], traced = answer.trace.to_wire()
        out.update(traced)
    return reply, out


def _watched_reply(answer):
    """The reply for an answer read by watching the code run: one step, its own learning rate,
    and the trace (``Trace.to_wire``: a JSON list and arrays trace0, trace1, ...)."""
    out = {f"written:{n}": a for n, a in answer.written.items()}
    out.update({f"call0:{n}": a for n, a in answer.calls[0].items()})
    items, traced = answer.trace.to_wire() if answer.trace is not None else ([], {})
    out.update(traced)
    return {"kind": answer.kind, "form": answer.form, "per_example": False, "calls": 1,
            "lr": answer.lr, "loss": None, "storage": list(answer.storage),
            "notes": list(answer.notes), "watched": True, "trace": items}, out


def _script(state, header, arrays):
    net = Network(**header["network"])
    net.theta[...] = arrays["theta"]
    reader = ScriptReader(header["file"], header["spec"], header["shown"])
    return _watched_reply(reader.answer(net, arrays["x"], arrays["y"], header["lr"]))


def _layer_signature(state, header, arrays):
    _, forward = load(UserTarget(Path(header["file"]), header["forward"], header["shown"]))
    return {"parameters": signature_of(forward)}, {}


def _layer_open(state, header, arrays):
    file, shown = Path(header["file"]), header["shown"]
    _, forward = load(UserTarget(file, header["forward"], shown))
    _, backward = load(UserTarget(file, header["backward"], shown))
    inputs = [arrays[f"input{i}"] if f"input{i}" in arrays else value
              for i, value in enumerate(header["inputs"])]
    state.layer = InProcessLayer(forward, backward, inputs)
    return {"names": list(state.layer.arg_names)}, {}


def _layer_outputs(state, header, arrays):
    outs = state.layer.base_outputs()
    return {"count": len(outs)}, {f"out{k}": o for k, o in enumerate(outs)}


def _layer_losses(state, header, arrays):
    moves = moves_from_arrays(arrays, header["moves"], state.layer.names)
    douts = [arrays[f"dout{k}"] for k in range(header["outputs"])]
    grouping = grouping_from_arrays(header, arrays)
    if grouping is not None:
        loss, size = state.layer.losses(moves, douts, grouping)
        return {}, {"loss": loss, "size": np.asarray(size, dtype=float)}
    pairs = state.layer.losses(moves, douts)
    return {}, {"loss": np.array([p[0] for p in pairs]), "size": np.array([p[1] for p in pairs],
                                                                         dtype=float)}


def _layer_backward(state, header, arrays):
    douts = [arrays[f"dout{k}"] for k in range(header["outputs"])]
    grads = state.layer.backward(douts, moves_from_arrays(arrays, 1, state.layer.names)[0])
    if not isinstance(grads, (list, tuple)) or not all(isinstance(g, np.ndarray) for g in grads):
        raise PluginError(f"{header.get('shown', 'backward')}: backward must return arrays, one "
                          "per float-array input")
    return {"count": len(grads)}, {f"grad{k}": g for k, g in enumerate(grads)}


def _error_line(e, header):
    """The one line that says what went wrong: the message of a ``PluginError`` (or a
    ValueError/TypeError of ours about the request); for anything raised in the user's own code
    (KeyboardInterrupt, MemoryError, an exception whose message itself raises), that it raised
    it, where; else an error of gradcheck's, to report."""
    if isinstance(e, (PluginError, ValueError, TypeError)) and not raised_in_user_code(e):
        return printable(_message(e), 1000)
    if raised_in_user_code(e):
        return printable(f"{header.get('shown', 'the code')} raised {describe(e)}", 1000)
    return printable(f"unexpected {type(e).__name__} in the child: {_message(e)} (please report "
                     "this)", 1000)


def _message(e):
    try:
        return str(e)
    except BaseException:  # noqa: BLE001
        return type(e).__name__


HANDLERS = {"gradient": _gradient, "layer.signature": _layer_signature, "layer.open": _layer_open,
            "layer.outputs": _layer_outputs, "layer.losses": _layer_losses,
            "layer.backward": _layer_backward, "script": _script}


def serve(rfd, wfd):
    """Answer the parent's requests on the pipes ``rfd`` and ``wfd`` until it closes them."""
    _die_with_parent()
    state = _State()
    while True:
        try:
            header, arrays = read_frame(rfd)
        except ProtocolError:
            os._exit(0)
        op = header.get("op")
        try:
            reply, out = HANDLERS[op](state, header, arrays)
        except BaseException as e:  # noqa: BLE001 - whatever is raised, the answer is one line
            reply, out = {"error": _error_line(e, header)}, {}
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            write_frame(wfd, {"op": op, **reply}, {n: np.asarray(a) for n, a in out.items()})
        except (ProtocolError, ValueError, TypeError):
            os._exit(3)
