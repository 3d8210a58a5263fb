"""Hypothesis strategies for networks and batches: use them in your own property tests.

>>> from hypothesis import given, settings
>>> from checks import gradcheck
>>> @settings(max_examples=10)
... @given(networks_with_batches(max_width=4))
... def test_the_correct_pass(problem):
...     net, x, y = problem
...     assert gradcheck(net, x, y).passed
>>> test_the_correct_pass()

Weights and inputs are kept in a range that cannot overflow (|w| <= max_weight, |x| <= 3), which
still reaches saturated sigmoids (z of 30 and more).  ``generic=True`` draws them instead from a
continuous distribution seeded by hypothesis, for claims that hold for networks in general
position (no exact cancellations), with magnitudes in [min_weight, max_weight].  What suits a
loss (its outputs, its targets) comes from the loss itself (``backprop.losses``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..backprop import ACTIVATIONS, LOSSES, Network
from ..backprop.network import LAYOUTS

__all__ = ["layer_sizes", "hidden_activations", "output_activations", "losses", "layouts",
           "networks", "batches", "networks_with_batches", "arrays", "layer_inputs"]

HIDDEN = tuple(name for name, act in ACTIVATIONS.items() if act.elementwise)
OUTPUT = tuple(ACTIVATIONS)


def layer_sizes(*, min_layers=1, max_layers=4, min_width=1, max_width=6):
    """Layer sizes n_0 ... n_L with L weight layers in [min_layers, max_layers].

    >>> from hypothesis import find
    >>> find(layer_sizes(min_layers=2, max_layers=3), lambda sizes: len(sizes) == 4)
    [1, 1, 1, 1]
    """
    return st.integers(min_layers, max_layers).flatmap(
        lambda L: st.lists(st.integers(min_width, max_width), min_size=L + 1, max_size=L + 1))


def hidden_activations(names=HIDDEN):
    """Names of elementwise activations (any layer).

    >>> sorted(set(HIDDEN)) == sorted(n for n, a in ACTIVATIONS.items() if a.elementwise)
    True
    """
    return st.sampled_from(tuple(names))


def output_activations(names=OUTPUT):
    """Names of activations allowed on the output layer (softmax too)."""
    return st.sampled_from(tuple(names))


def losses(names=tuple(LOSSES)):
    """Names of losses."""
    return st.sampled_from(tuple(names))


def layouts():
    """``"columns"`` or ``"rows"``."""
    return st.sampled_from(LAYOUTS)


def _values(draw, shape, low, high, generic, lo_mag=0.0):
    """An array of the shape with entries in [low, high] (or magnitudes in [lo_mag, high])."""
    if generic:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        magnitude = rng.uniform(max(lo_mag, 0.0), high, size=shape)
        return magnitude * rng.choice([-1.0, 1.0], size=shape) if low < 0 else magnitude
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_subnormal=False)))


def _outputs_for(loss, n_out, outputs):
    allowed = [o for o in outputs if o != "softmax" or n_out > 1]
    if loss.outputs is not None:
        allowed = [o for o in allowed if o in loss.outputs]
        if loss.pairs_with in allowed and (loss.pairs_with != "softmax" or n_out > 1):
            allowed = [loss.pairs_with]  # the pairing the loss is written for
    return allowed or ["sigmoid"]


@st.composite
def networks(draw, *, min_layers=1, max_layers=4, min_width=1, max_width=6, hidden=HIDDEN,
             outputs=OUTPUT, loss_names=tuple(LOSSES), layout_names=LAYOUTS, bias=None,
             reductions=("sum",), max_l2=0.0, min_weight=0.0, max_weight=2.0, generic=False):
    """A ``Network`` whose output suits its loss (``Loss.outputs``, ``Loss.pairs_with``).

    >>> from hypothesis import find
    >>> net = find(networks(max_layers=2, hidden=["tanh"]), lambda net: net.L == 2)
    >>> net.L, net.sigmas[0].name
    (2, 'tanh')
    """
    sizes = draw(layer_sizes(min_layers=min_layers, max_layers=max_layers, min_width=min_width,
                             max_width=max_width))
    L = len(sizes) - 1
    loss = LOSSES[draw(losses(loss_names))]
    out = draw(st.sampled_from(_outputs_for(loss, sizes[-1], outputs)))
    acts = [draw(hidden_activations(hidden)) for _ in range(L - 1)] + [out]
    with_bias = draw(st.booleans()) if bias is None else bias
    layout = draw(st.sampled_from(tuple(layout_names)))
    reduction = draw(st.sampled_from(tuple(reductions)))
    l2 = draw(st.floats(0.0, max_l2)) if max_l2 > 0 else 0.0
    net = Network(sizes, acts, loss.name, bias=with_bias, layout=layout, reduction=reduction,
                  l2=l2, seed=0)
    for name in net.names:
        view = net.parameters()[name]
        view[...] = _values(draw, view.shape, -max_weight, max_weight, generic, min_weight)
    return net


@st.composite
def batches(draw, net, *, min_size=1, max_size=4, generic=False, min_input=0.0, max_input=3.0):
    """(x, y) for ``net`` in its layout: inputs in [-max_input, max_input], targets as its loss
    takes them (``Loss.targets``: real, probability or one-hot).

    >>> from hypothesis import find
    >>> net = Network([2, 3], ["softmax"], "categorical_cross_entropy")
    >>> x, y = find(batches(net, min_size=2), lambda batch: True)
    >>> x.shape, y.sum(axis=0).tolist()
    ((2, 2), [1.0, 1.0])
    """
    m = draw(st.integers(min_size, max_size))
    n_0, n_L = net.layers[0], net.layers[-1]
    x = _values(draw, (n_0, m), -max_input, max_input, generic, min_input)
    kind = net.loss.targets
    if kind == "one_hot":
        y = np.eye(n_L)[:, draw(st.lists(st.integers(0, n_L - 1), min_size=m, max_size=m))]
    elif kind == "probability":
        y = _values(draw, (n_L, m), 0.0, 1.0, generic)
    else:
        y = _values(draw, (n_L, m), -2.0, 2.0, generic)
    return net.from_columns(x), net.from_columns(y)


@st.composite
def networks_with_batches(draw, *, min_size=1, max_size=4, max_input=3.0, **network_bounds):
    """(net, x, y): a network from ``networks(**network_bounds)`` and a batch for it."""
    net = draw(networks(**network_bounds))
    x, y = draw(batches(net, min_size=min_size, max_size=max_size, max_input=max_input,
                        generic=network_bounds.get("generic", False)))
    return net, x, y


def arrays(shape, *, min_magnitude=0.1, max_magnitude=2.0, generic=True):
    """A float64 array of ``shape`` whose entries have magnitudes in [min_magnitude,
    max_magnitude], with random signs: away from 0, where ReLUs, max-pool ties and np.abs have
    their kinks.  ``generic`` draws from a continuous distribution seeded by hypothesis (no two
    entries equal, so no max-pool ties); otherwise hypothesis picks the floats and shrinks them.

    >>> from hypothesis import find
    >>> a = find(arrays((2, 3)), lambda a: True)
    >>> a.shape, bool(np.all(np.abs(a) >= 0.1))
    ((2, 3), True)
    """
    shape = tuple(shape)
    if generic:
        return st.integers(0, 2**32 - 1).map(lambda seed: _signed(
            np.random.default_rng(seed), shape, min_magnitude, max_magnitude))
    magnitude = st.floats(min_magnitude, max_magnitude, allow_subnormal=False)
    return hnp.arrays(np.float64, shape, elements=st.one_of(magnitude, magnitude.map(lambda v: -v)))


def _signed(rng, shape, low, high):
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


@st.composite
def layer_inputs(draw, *, min_magnitude=0.1, max_magnitude=2.0, generic=True, **shapes):
    """A dict name -> array, one per keyword ``name=shape``, for property tests of a layer.

    >>> from hypothesis import given, settings
    >>> from checks import check_layer
    >>> def scale_forward(x, w):
    ...     return x * w, (x, w)
    >>> def scale_backward(dout, cache):
    ...     x, w = cache
    ...     return dout * w, (dout * x).sum(axis=0)
    >>> @settings(max_examples=5)
    ... @given(layer_inputs(x=(4, 3), w=(3,)))
    ... def test_scale(inputs):
    ...     assert check_layer(scale_forward, scale_backward, inputs["x"], inputs["w"]).passed
    >>> test_scale()
    """
    return {name: draw(arrays(shape, min_magnitude=min_magnitude, max_magnitude=max_magnitude,
                              generic=generic)) for name, shape in shapes.items()}
