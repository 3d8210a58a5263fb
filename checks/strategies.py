"""Hypothesis strategies for networks and batches: use them in your own property tests.

>>> from hypothesis import given
>>> from checks.strategies import networks_with_batches
>>> @given(networks_with_batches(max_width=4))
... def test_my_backprop(problem):
...     net, x, y = problem
...     assert gradcheck(net, x, y, impl=my_backprop).passed      # doctest: +SKIP

Weights and inputs are kept in a range that cannot overflow (|w| <= max_weight, |x| <= 3), which
still reaches saturated sigmoids (z of 30 and more).  ``generic=True`` draws them instead from a
continuous distribution seeded by hypothesis, for claims that hold for networks in general
position (no exact cancellations), with magnitudes in [min_weight, max_weight].
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop import ACTIVATIONS, LOSSES, Network
from backprop.network import LAYOUTS

__all__ = ["layer_sizes", "hidden_activations", "output_activations", "losses", "layouts",
           "networks", "batches", "networks_with_batches"]

HIDDEN = tuple(name for name, act in ACTIVATIONS.items() if act.elementwise)
OUTPUT = tuple(ACTIVATIONS)
#: outputs whose values lie in (0, 1), as the cross-entropies need
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")


def layer_sizes(*, min_layers=1, max_layers=4, min_width=1, max_width=6):
    """Layer sizes n_0 ... n_L with L weight layers in [min_layers, max_layers].

    >>> layer_sizes(max_layers=2).example()  # doctest: +SKIP
    [3, 1, 2]
    """
    return st.integers(min_layers, max_layers).flatmap(
        lambda L: st.lists(st.integers(min_width, max_width), min_size=L + 1, max_size=L + 1))


def hidden_activations(names=HIDDEN):
    """Names of elementwise activations (any layer)."""
    return st.sampled_from(tuple(names))


def output_activations(names=OUTPUT):
    """Names of activations allowed on the output layer (softmax too)."""
    return st.sampled_from(tuple(names))


def losses(names=tuple(LOSSES)):
    return st.sampled_from(tuple(names))


def layouts():
    return st.sampled_from(LAYOUTS)


def _values(draw, shape, low, high, generic, lo_mag=0.0):
    """An array of the shape with entries in [low, high] (or magnitudes in [lo_mag, high])."""
    if generic:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        magnitude = rng.uniform(max(lo_mag, 0.0), high, size=shape)
        return magnitude * rng.choice([-1.0, 1.0], size=shape) if low < 0 else magnitude
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_subnormal=False)))


@st.composite
def networks(draw, *, min_layers=1, max_layers=4, min_width=1, max_width=6, hidden=HIDDEN,
             outputs=OUTPUT, loss_names=tuple(LOSSES), layout_names=LAYOUTS, bias=None,
             min_weight=0.0, max_weight=2.0, generic=False):
    """A ``Network`` whose loss suits its output (cross-entropies get outputs in (0, 1)).

    >>> networks(max_layers=2, hidden=["tanh"]).example()  # doctest: +SKIP
    Network([2, 3, 1], activations=['tanh', 'identity'], loss='squared_error', ...)
    """
    sizes = draw(layer_sizes(min_layers=min_layers, max_layers=max_layers, min_width=min_width,
                             max_width=max_width))
    L = len(sizes) - 1
    loss = draw(losses(loss_names))
    # cross-entropies need outputs in (0, 1): a sigmoid for binary, a softmax for categorical
    # (a softmax over one unit is the constant 1, so one-output nets get a sigmoid)
    allowed = [o for o in outputs if o != "softmax" or sizes[-1] > 1]
    if loss == "binary_cross_entropy":
        allowed = ["sigmoid"]
    elif loss == "categorical_cross_entropy":
        allowed = ["softmax"] if sizes[-1] > 1 and "softmax" in outputs else ["sigmoid"]
    out = draw(st.sampled_from(allowed or ["sigmoid"]))
    acts = [draw(hidden_activations(hidden)) for _ in range(L - 1)] + [out]
    with_bias = draw(st.booleans()) if bias is None else bias
    layout = draw(st.sampled_from(tuple(layout_names)))
    net = Network(sizes, acts, loss, bias=with_bias, layout=layout, seed=0)
    for name in net.names:
        view = net.parameters()[name]
        view[...] = _values(draw, view.shape, -max_weight, max_weight, generic, min_weight)
    return net


@st.composite
def batches(draw, net, *, min_size=1, max_size=4, generic=False, min_input=0.0):
    """(x, y) for ``net`` in its layout: inputs in [-3, 3], targets that suit its loss."""
    m = draw(st.integers(min_size, max_size))
    n_0, n_L = net.layers[0], net.layers[-1]
    x = _values(draw, (n_0, m), -3.0, 3.0, generic, min_input)
    loss = net.loss.name
    if loss == "categorical_cross_entropy":
        y = np.eye(n_L)[:, draw(st.lists(st.integers(0, n_L - 1), min_size=m, max_size=m))]
    elif loss == "binary_cross_entropy":
        y = _values(draw, (n_L, m), 0.0, 1.0, generic)
    else:
        y = _values(draw, (n_L, m), -2.0, 2.0, generic)
    return net.from_columns(x), net.from_columns(y)


@st.composite
def networks_with_batches(draw, *, min_size=1, max_size=4, **network_bounds):
    """(net, x, y): a network from ``networks(**network_bounds)`` and a batch for it."""
    net = draw(networks(**network_bounds))
    x, y = draw(batches(net, min_size=min_size, max_size=max_size,
                        generic=network_bounds.get("generic", False)))
    return net, x, y
