"""A fully connected network: layers n_0 ... n_L, weights W^l and biases b^l for l = 1 ... L.

Numbering follows Nielsen's book: W^l maps layer l-1 to layer l, so ``W1`` goes into layer 1.
All parameters live in one flat float64 vector ``theta``; ``weights`` and ``biases`` are views
into it, in the network's layout:

- ``"columns"`` (Nielsen): W^l has shape (n_l, n_{l-1}), b^l (n_l, 1), z^l = W^l a^{l-1} + b^l,
  and a batch x has shape (n_0, m), one example per column;
- ``"rows"`` (``x @ W`` scripts): W^l has shape (n_{l-1}, n_l), b^l (1, n_l), z^l = a^{l-1} W^l +
  b^l, and x has shape (m, n_0), one example per row.

Internally every computation runs in the columns layout on transposed views, so both layouts share
one forward pass and their gradients are exact transposes of each other.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS, Activation
from .losses import LOSSES, Loss
from .registry import lookup

__all__ = ["Network", "ForwardPass", "Parameter", "Reduction", "LAYOUTS", "REDUCTIONS"]

LAYOUTS = ("columns", "rows")


class Reduction(str):
    """How C combines the per-example losses C_x of a batch: C = r(m) sum_x C_x.

    A reduction is its name (it compares and prints as ``"batch_mean"``) and carries its facts:
    the factor r for m examples and n_L outputs, and what code with that convention does.

    >>> REDUCTIONS["batch_mean"].factor(10, 3), REDUCTIONS["mean"] == "mean"
    (0.1, True)
    """

    def __new__(cls, name, words, per_example, per_output):
        self = super().__new__(cls, name)
        self.words, self.per_example, self.per_output = words, per_example, per_output
        return self

    @property
    def name(self):
        return str(self)

    def factor(self, m, n_out):
        """r(m): 1, 1/m or 1/(m n_L)."""
        return 1.0 / ((m if self.per_example else 1) * (n_out if self.per_output else 1))


#: Registry: the reductions a config may name (and who uses each, in the README).
REDUCTIONS = {r: r for r in (
    Reduction("sum", "sums C_x over the batch", False, False),
    Reduction("batch_mean", "averages over the batch (C = 1/m sum C_x)", True, False),
    Reduction("mean", "averages over the batch and the outputs", True, True))}


@dataclass(frozen=True)
class Parameter:
    """One parameter array: its name, what kind it is, the layer it goes into, its shape.

    >>> Parameter("W2", "weight", 2, (3, 4)).connects
    'layer 1 -> layer 2'
    >>> Parameter("x", "input", None, (4, 3)).connects
    'input x'
    """

    name: str                 # "W2", "b2"; for any function, the name the user gave
    kind: str                 # "weight", "bias", or "input" (an array of any function)
    layer: int | None         # the layer it goes into (W2 maps layer 1 to layer 2)
    shape: tuple
    what: str = ""            # for an input, what it is in words ("gradient of input x")

    @property
    def connects(self):
        """What the array connects, in words: ``'layer 1 -> layer 2'``, ``'bias of layer 2'``."""
        if self.what:
            return self.what
        if self.kind == "weight":
            return f"layer {self.layer - 1} -> layer {self.layer}"
        if self.kind == "bias":
            return f"bias of layer {self.layer}"
        return f"input {self.name}"

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))


def validate_layers(layers, field="layers"):
    """The layer sizes as a tuple of positive ints; ValueError/TypeError naming the bad entry."""
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__"):
        raise TypeError(f"`{field}` must be a list of layer sizes; got {layers!r}")
    if len(layers) < 2:
        raise ValueError(f"`{field}` needs at least two sizes (inputs and outputs); got {list(layers)!r}")
    sizes = []
    for i, n in enumerate(layers):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"`{field}[{i}]` must be a positive integer; got {n!r}")
        if n < 1:
            raise ValueError(f"`{field}[{i}]` must be a positive integer; got {n}")
        sizes.append(operator.index(n))
    return tuple(sizes)


def validate_activations(activations, n_weight_layers, field="activations"):
    """One Activation per weight layer; softmax is allowed on the output layer only."""
    if isinstance(activations, (str, Activation)):
        activations = [activations] * n_weight_layers
        if n_weight_layers > 1 and not lookup(ACTIVATIONS, activations[0], field,
                                              kind=Activation).elementwise:
            raise ValueError(f"`{field}` = {activations[0]!r} names a softmax for every layer; softmax "
                             "is allowed on the output layer only: give a list, e.g. "
                             f"{['sigmoid'] * (n_weight_layers - 1) + ['softmax']!r}")
    elif not isinstance(activations, (list, tuple)):
        raise TypeError(f"`{field}` must be a name or a list of names; got {activations!r}")
    if len(activations) != n_weight_layers:
        raise ValueError(f"`{field}` must have one name per weight layer (len(layers) - 1 = "
                         f"{n_weight_layers}); got {len(activations)}")
    sigmas = tuple(lookup(ACTIVATIONS, name, f"{field}[{i}]", kind=Activation)
                   for i, name in enumerate(activations))
    for i, sigma in enumerate(sigmas[:-1]):
        if not sigma.elementwise:
            raise ValueError(f"`{field}[{i}]` = {sigma.name!r}: softmax is allowed on the output layer only")
    return sigmas


def validate_loss(loss, field="loss"):
    return lookup(LOSSES, loss, field, kind=Loss)


def validate_layout(layout, field="layout"):
    return lookup({name: name for name in LAYOUTS}, layout, field)


def validate_reduction(reduction, field="reduction"):
    return lookup(REDUCTIONS, reduction, field)


def validate_l2(l2, field="l2"):
    if isinstance(l2, bool) or not isinstance(l2, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{field}` must be a number; got {l2!r}")
    if not (np.isfinite(l2) and l2 >= 0):
        raise ValueError(f"`{field}` must be a finite number >= 0; got {l2!r}")
    return float(l2)


@dataclass(frozen=True)
class ForwardPass:
    """The forward pass in the columns layout: ``z[l]`` and ``a[l]`` for l = 0 ... L (z[0] is None)."""

    z: list
    a: list


def _validate_output(loss, sigma, n_out, L):
    """The output layer suits the loss: a cross-entropy's log needs outputs in (0, 1), and a
    softmax needs two units at least."""
    if loss.outputs is not None and sigma.name not in loss.outputs:
        raise ValueError(f"loss {loss.name!r} takes a {' or '.join(loss.outputs)} output layer "
                         f"(its log needs outputs in (0, 1)); the output layer here is "
                         f"{sigma.name!r}")
    if not sigma.elementwise and n_out < 2:
        raise ValueError(f"`activations[{L - 1}]` = 'softmax' over a single output unit is the "
                         "constant 1; use 'sigmoid' for one output")


class Network:
    """A multilayer perceptron with its loss and cost conventions.

    C = r(m) * sum over the batch of C_x + l2 * sum_l ||W^l||^2, where r(m) is 1 for
    ``reduction="sum"``, 1/m for ``"batch_mean"`` and 1/(m n_L) for ``"mean"``.

    >>> net = Network([2, 3, 1], activations="sigmoid", seed=0)
    >>> [w.shape for w in net.weights], [b.shape for b in net.biases]
    ([(3, 2), (1, 3)], [(3, 1), (1, 1)])
    >>> net.names
    ('W1', 'b1', 'W2', 'b2')
    """

    def __init__(self, layers, activations="sigmoid", loss="half_squared_error", *, bias=True,
                 layout="columns", reduction="sum", l2=0.0, seed=None, weights=None, biases=None):
        self.layers = validate_layers(layers)
        self.L = len(self.layers) - 1
        self.sigmas = validate_activations(activations, self.L)
        self.loss = validate_loss(loss)
        _validate_output(self.loss, self.sigmas[-1], self.layers[-1], self.L)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"`bias` must be true or false; got {bias!r}")
        self.bias = bool(bias)
        self.layout = validate_layout(layout)
        self.reduction = validate_reduction(reduction)
        self.l2 = validate_l2(l2)

        params = []
        for l in range(1, self.L + 1):
            n_in, n_out = self.layers[l - 1], self.layers[l]
            params.append(Parameter(f"W{l}", "weight", l,
                                    (n_out, n_in) if layout == "columns" else (n_in, n_out)))
            if self.bias:
                params.append(Parameter(f"b{l}", "bias", l,
                                        (n_out, 1) if layout == "columns" else (1, n_out)))
        #: the parameter records, in the order W1, b1, W2, b2, ...
        self.params = tuple(params)
        self.names = tuple(p.name for p in params)
        self.shapes = {p.name: p.shape for p in params}
        self.theta = np.zeros(sum(p.size for p in params))
        self._views = {}
        offset = 0
        for p in params:
            self._views[p.name] = self.theta[offset:offset + p.size].reshape(p.shape)
            offset += p.size
        self.weights = [self._views[f"W{l}"] for l in range(1, self.L + 1)]
        self.biases = [self._views[f"b{l}"] for l in range(1, self.L + 1)] if self.bias else None

        rng = np.random.default_rng(seed)
        for l, W in enumerate(self.weights, start=1):
            # N(0, 1/n_{l-1}): keeps z^l of order 1 so units start away from saturation
            W[...] = rng.standard_normal(W.shape) / np.sqrt(self.layers[l - 1])
        if self.bias:
            for b in self.biases:
                b[...] = rng.standard_normal(b.shape)
        if weights is not None:
            self.set_parameters(weights, biases)

    # -- parameters ---------------------------------------------------------------------------
    def parameters(self):
        """``{"W1": W1, "b1": b1, ...}``: views into ``theta``, in the network's layout."""
        return dict(self._views)

    def set_parameters(self, weights, biases=None):
        """Copy weights (and biases) given in the network's layout into ``theta``."""
        if len(weights) != self.L:
            raise ValueError(f"expected {self.L} weight arrays W1..W{self.L}; got {len(weights)}")
        if self.bias and (biases is None or len(biases) != self.L):
            raise ValueError(f"expected {self.L} bias arrays b1..b{self.L}")
        arrays = self.named(weights, biases if self.bias else None)
        for name, value in arrays.items():
            value = np.asarray(value)
            if value.shape != self.shapes[name]:
                raise ValueError(f"`{name}` must have shape {self.shapes[name]} for layers "
                                 f"{list(self.layers)} in the {self.layout} layout; got {value.shape}")
            self._views[name][...] = value

    def param(self, name):
        """The record of the parameter array called ``name``."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def named(self, nabla_w, nabla_b=None):
        """``{"W1": ..., "b1": ...}`` from per-layer lists (nabla_b None without biases)."""
        out = {f"W{l}": g for l, g in enumerate(nabla_w, start=1)}
        out.update({f"b{l}": g for l, g in enumerate(nabla_b or [], start=1)})
        return out

    def split(self, arrays):
        """``(weights, biases)`` per-layer lists from a dict keyed W1, b1, ... (biases None without)."""
        weights = [arrays[f"W{l}"] for l in range(1, self.L + 1)]
        return weights, [arrays[f"b{l}"] for l in range(1, self.L + 1)] if self.bias else None

    def spec(self):
        """The constructor's fields, as plain values: ``Network(**net.spec())`` is the same
        network with fresh weights.  A config, a copy, the repr and the child process all
        describe a network through this one dict."""
        return {"layers": list(self.layers), "activations": [s.name for s in self.sigmas],
                "loss": self.loss.name, "bias": self.bias, "layout": self.layout,
                "reduction": self.reduction.name, "l2": self.l2}

    def copy(self):
        return Network(**self.spec(), weights=[w.copy() for w in self.weights],
                       biases=None if not self.bias else [b.copy() for b in self.biases])

    # -- layout ---------------------------------------------------------------------------------
    def columns(self, weights=None, biases=None):
        """(W, b) in the columns layout: lists indexed by layer, ``W[0]`` and ``b[0]`` are None."""
        weights = self.weights if weights is None else weights
        biases = self.biases if biases is None else biases
        if self.layout == "rows":
            weights = [w.T for w in weights]
            biases = None if biases is None else [b.T for b in biases]
        W = [None, *weights]
        b = [None, *(biases if biases is not None else [0.0] * self.L)]
        return W, b

    def to_columns(self, x):
        """A batch in the network's layout as columns (a view)."""
        return x if self.layout == "columns" else x.T

    def from_columns(self, g):
        return g if self.layout == "columns" else g.T

    def batch_size(self, x):
        return x.shape[-1] if self.layout == "columns" else x.shape[-2]

    # -- forward --------------------------------------------------------------------------------
    def forward(self, x, weights=None, biases=None):
        """z^l = W^l a^{l-1} + b^l, a^l = sigma(z^l) for l = 1 ... L, kept for every layer."""
        W, b = self.columns(weights, biases)
        a = [self.to_columns(np.asarray(x))]
        z = [None]
        for l in range(1, self.L + 1):
            z.append(W[l] @ a[-1] + b[l])
            a.append(self.sigmas[l - 1](z[-1]))
        return ForwardPass(z, a)

    def feedforward(self, x):
        """The output a^L, in the network's layout."""
        return self.from_columns(self.forward(x).a[-1])

    def scale(self, m):
        """r(m): the factor the reduction puts on the sum of the per-example losses."""
        return self.reduction.factor(m, self.layers[-1])

    def penalty(self, weights=None):
        """The L2 term, l2 * sum_l ||W^l||^2 (weights only, never biases)."""
        weights = self.weights if weights is None else weights
        return self.l2 * sum((w * w).sum() for w in weights) if self.l2 else 0.0

    def cost(self, x, y, weights=None, biases=None):
        """C for the batch (x, y): the reduced per-example losses plus the L2 term."""
        f = self.forward(x, weights, biases)
        per_example = self.loss.per_example(f.z[-1], f.a[-1], self.to_columns(np.asarray(y)),
                                            self.sigmas[-1])
        return self.scale(per_example.shape[-1]) * per_example.sum(axis=-1) + self.penalty(weights)

    def __repr__(self):
        """The constructor call; small networks (up to 60 parameters) include their parameters,
        so that a printed counterexample can be rebuilt by copying it."""
        spec = self.spec()
        text = (f"Network({spec['layers']}, activations={spec['activations']!r}, "
                f"loss={spec['loss']!r}, bias={spec['bias']}, layout={spec['layout']!r}")
        if spec["reduction"] != "sum":
            text += f", reduction={spec['reduction']!r}"
        if spec["l2"]:
            text += f", l2={spec['l2']!r}"
        if self.theta.size <= 60:
            text += f", weights={[w.tolist() for w in self.weights]!r}"
            if self.bias:
                text += f", biases={[b.tolist() for b in self.biases]!r}"
        return text + ")"
