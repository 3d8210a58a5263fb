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

import difflib
import operator
from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS, Activation
from .losses import LOSSES, Loss

__all__ = ["Network", "Forward", "LAYOUTS", "suggest"]

LAYOUTS = ("columns", "rows")


def suggest(name, choices):
    """`` (did you mean 'sigmoid'?)`` for a misspelt registry name, or an empty string."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _lookup(registry, name, field, what):
    if isinstance(name, (Activation, Loss)):
        return name
    if not isinstance(name, str):
        raise TypeError(f"`{field}` must be {what} name (a string); got {name!r}")
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"`{field}` must be one of {', '.join(registry)}; got {name!r}"
                         f"{suggest(name, registry)}") from None


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
        if n_weight_layers > 1 and getattr(_lookup(ACTIVATIONS, activations[0], field, "an activation"),
                                           "elementwise", True) is False:
            raise ValueError(f"`{field}` = {activations[0]!r} names a softmax for every layer; softmax "
                             "is allowed on the output layer only: give a list, e.g. "
                             f"{['sigmoid'] * (n_weight_layers - 1) + ['softmax']!r}")
    elif not isinstance(activations, (list, tuple)):
        raise TypeError(f"`{field}` must be a name or a list of names; got {activations!r}")
    if len(activations) != n_weight_layers:
        raise ValueError(f"`{field}` must have one name per weight layer (len(layers) - 1 = "
                         f"{n_weight_layers}); got {len(activations)}")
    sigmas = tuple(_lookup(ACTIVATIONS, name, f"{field}[{i}]", "an activation")
                   for i, name in enumerate(activations))
    for i, sigma in enumerate(sigmas[:-1]):
        if not sigma.elementwise:
            raise ValueError(f"`{field}[{i}]` = {sigma.name!r}: softmax is allowed on the output layer only")
    return sigmas


def validate_loss(loss, field="loss"):
    return _lookup(LOSSES, loss, field, "a loss")


def validate_layout(layout, field="layout"):
    if layout not in LAYOUTS:
        raise ValueError(f"`{field}` must be 'columns' or 'rows'; got {layout!r}{suggest(layout, LAYOUTS)}")
    return layout


@dataclass(frozen=True)
class Forward:
    """The forward pass in the columns layout: ``z[l]`` and ``a[l]`` for l = 0 ... L (z[0] is None)."""

    z: list
    a: list


class Network:
    """A multilayer perceptron with its loss.

    >>> net = Network([2, 3, 1], activations="sigmoid", seed=0)
    >>> [w.shape for w in net.weights], [b.shape for b in net.biases]
    ([(3, 2), (1, 3)], [(3, 1), (1, 1)])
    >>> net.names
    ('W1', 'b1', 'W2', 'b2')
    """

    def __init__(self, layers, activations="sigmoid", loss="half_squared_error", *, bias=True,
                 layout="columns", seed=None, weights=None, biases=None):
        self.layers = validate_layers(layers)
        self.L = len(self.layers) - 1
        self.sigmas = validate_activations(activations, self.L)
        self.loss = validate_loss(loss)
        if not self.sigmas[-1].elementwise and self.layers[-1] < 2:
            raise ValueError(f"`activations[{self.L - 1}]` = 'softmax' over a single output unit is the "
                             "constant 1; use 'sigmoid' for one output")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"`bias` must be true or false; got {bias!r}")
        self.bias = bool(bias)
        self.layout = validate_layout(layout)

        shapes = []
        for l in range(1, self.L + 1):
            n_in, n_out = self.layers[l - 1], self.layers[l]
            shapes.append(("W", l, (n_out, n_in) if layout == "columns" else (n_in, n_out)))
            if self.bias:
                shapes.append(("b", l, (n_out, 1) if layout == "columns" else (1, n_out)))
        self.names = tuple(f"{kind}{l}" for kind, l, _ in shapes)
        self.shapes = {f"{kind}{l}": shape for kind, l, shape in shapes}
        self.theta = np.zeros(sum(int(np.prod(s)) for _, _, s in shapes))
        self._views = {}
        offset = 0
        for name in self.names:
            size = int(np.prod(self.shapes[name]))
            self._views[name] = self.theta[offset:offset + size].reshape(self.shapes[name])
            offset += size
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
        arrays = {f"W{l}": w for l, w in enumerate(weights, start=1)}
        if self.bias:
            if biases is None or len(biases) != self.L:
                raise ValueError(f"expected {self.L} bias arrays b1..b{self.L}")
            arrays.update({f"b{l}": b for l, b in enumerate(biases, start=1)})
        for name, value in arrays.items():
            value = np.asarray(value)
            if value.shape != self.shapes[name]:
                raise ValueError(f"`{name}` must have shape {self.shapes[name]} for layers "
                                 f"{list(self.layers)} in the {self.layout} layout; got {value.shape}")
            self._views[name][...] = value

    def describe(self, name):
        """``'W2: layer 1 -> layer 2'``: which layers a parameter array connects."""
        l = int(name[1:])
        if name[0] == "W":
            return f"{name}: layer {l - 1} -> layer {l}"
        return f"{name}: bias of layer {l}"

    def copy(self):
        return Network(self.layers, [s.name for s in self.sigmas], self.loss.name, bias=self.bias,
                       layout=self.layout, weights=[w.copy() for w in self.weights],
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
        return Forward(z, a)

    def feedforward(self, x):
        """The output a^L, in the network's layout."""
        return self.from_columns(self.forward(x).a[-1])

    def cost(self, x, y, weights=None, biases=None):
        """C for the batch (x, y), summed over outputs and examples."""
        f = self.forward(x, weights, biases)
        return self.loss.value(f.z[-1], f.a[-1], self.to_columns(np.asarray(y)), self.sigmas[-1])

    def __repr__(self):
        """The constructor call; small networks (up to 60 parameters) include their parameters,
        so that a printed counterexample can be rebuilt by copying it."""
        text = (f"Network({list(self.layers)}, activations={[s.name for s in self.sigmas]!r}, "
                f"loss={self.loss.name!r}, bias={self.bias}, layout={self.layout!r}")
        if self.theta.size <= 60:
            text += f", weights={[w.tolist() for w in self.weights]!r}"
            if self.bias:
                text += f", biases={[b.tolist() for b in self.biases]!r}"
        return text + ")"
