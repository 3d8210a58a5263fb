"""The numeric side and the check: differentiator, comparison, report, command."""

from .check import gradcheck
from .differentiate import Derivative, derivative
from .numeric import directional, numeric_gradient
from .plugin import PluginError, load_plugin
from .report import Entry, ParameterCheck, Report
from .testing import assert_gradients_match

__all__ = ["gradcheck", "Report", "ParameterCheck", "Entry", "Derivative", "derivative",
           "numeric_gradient", "directional", "PluginError", "load_plugin", "assert_gradients_match"]
