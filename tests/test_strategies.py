"""The public hypothesis strategies draw what their docstrings promise."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.backprop import LOSSES
from gradcheck.checks.strategies import (arrays, batches, layer_inputs, layer_sizes, networks,
                               networks_with_batches)


@given(layer_sizes(min_layers=2, max_layers=3, min_width=2, max_width=4))
def test_layer_sizes_respect_their_bounds(sizes):
    assert 3 <= len(sizes) <= 4 and all(2 <= n <= 4 for n in sizes)


@given(networks(max_layers=3))
def test_every_network_pairs_its_output_with_what_its_loss_accepts(net):
    outputs = net.loss.outputs
    assert outputs is None or net.sigmas[-1].name in outputs
    assert net.sigmas[-1].name != "softmax" or net.layers[-1] > 1


@given(st.sampled_from(sorted(LOSSES)), st.data())
def test_batches_give_the_targets_each_loss_takes(loss, data):
    net = data.draw(networks(max_layers=2, min_width=2, loss_names=(loss,)))
    x, y = data.draw(batches(net, min_size=2, max_size=3))
    cols = net.to_columns(y)
    if net.loss.targets == "one_hot":
        assert np.all(cols.sum(axis=0) == 1) and set(np.unique(cols)) <= {0.0, 1.0}
    elif net.loss.targets == "probability":
        assert np.all((cols >= 0) & (cols <= 1))
    assert net.batch_size(x) == net.batch_size(y)


@settings(max_examples=20)
@given(networks_with_batches(reductions=("batch_mean", "mean"), max_l2=0.5))
def test_networks_can_carry_any_reduction_and_an_l2_term(problem):
    net, _, _ = problem
    assert net.reduction in ("batch_mean", "mean") and 0 <= net.l2 <= 0.5


@given(arrays((3, 4), min_magnitude=0.5, max_magnitude=1.0, generic=False))
def test_arrays_stay_away_from_zero(a):
    assert a.shape == (3, 4) and np.all((np.abs(a) >= 0.5) & (np.abs(a) <= 1.0))


@given(layer_inputs(x=(2, 3), w=(3,)))
def test_layer_inputs_give_one_array_per_keyword(inputs):
    assert set(inputs) == {"x", "w"} and inputs["x"].shape == (2, 3)
