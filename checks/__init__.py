"""The numeric side and the check: differentiator, error model, comparison, report, command."""

if __name__ == "checks":  # the import root before gradcheck: the same modules
    from gradcheck._legacy import alias
    alias(__name__)


from .check import gradcheck
from .differentiate import SCHEMES, Derivative, derivative
from .functions import check_function, check_layer
from .numeric import directional, numeric_gradient
from .usercode import PluginError, load_plugin
from .report import Entry, ParameterCheck, Report
from .verdict import Undecidable
from .testing import (assert_function_gradients, assert_gradients_match, assert_layer_gradients,
                      assert_passed)

__all__ = ["gradcheck", "check_function", "check_layer", "Report", "Undecidable", "ParameterCheck", "Entry", "Derivative", "derivative", "SCHEMES",
           "numeric_gradient", "directional", "PluginError", "load_plugin", "assert_gradients_match",
           "assert_layer_gradients", "assert_function_gradients", "assert_passed"]
