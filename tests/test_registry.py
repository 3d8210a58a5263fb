"""One lookup for every registry: the object, or one message naming the field and the choices."""

import pytest

from gradcheck.backprop import ACTIVATIONS, LOSSES, VARIANTS
from gradcheck.backprop.activations import Activation
from gradcheck.backprop.registry import lookup, suggest
from gradcheck.checks.differentiate import SCHEMES
from gradcheck.checks.formats import FORMATS


@pytest.mark.parametrize("registry", [ACTIVATIONS, LOSSES, VARIANTS, SCHEMES, FORMATS])
def test_every_registry_maps_each_name_to_its_object(registry):
    for name, value in registry.items():
        assert lookup(registry, name, "field") is value


def test_an_unknown_name_gets_the_field_the_choices_and_the_closest_one():
    with pytest.raises(ValueError) as info:
        lookup(ACTIVATIONS, "sigmod", "activations[1]")
    message = str(info.value)
    assert message.startswith("`activations[1]` must be one of sigmoid, tanh")
    assert message.endswith("got 'sigmod' (did you mean 'sigmoid'?)")


def test_an_object_of_the_registrys_kind_passes_through_and_a_non_string_is_a_type_error():
    sigmoid = ACTIVATIONS["sigmoid"]
    assert lookup(ACTIVATIONS, sigmoid, "activations", kind=Activation) is sigmoid
    with pytest.raises(TypeError, match="`loss` must be a name"):
        lookup(LOSSES, 3, "loss")


def test_no_suggestion_for_a_name_like_nothing():
    assert suggest("zzzzzz", ["sigmoid", "tanh"]) == ""
