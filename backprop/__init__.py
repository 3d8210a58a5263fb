"""The analytic side: activations, losses, the Network, and its backward passes."""

from .activations import ACTIVATIONS, Activation
from .config import ConfigError, load_config, save_config
from .losses import LOSSES, Loss
from .network import REDUCTIONS, Forward, Network, Parameter
from .variants import VARIANTS, BackwardPass, backward

__all__ = ["ACTIVATIONS", "Activation", "LOSSES", "Loss", "Network", "Forward", "Parameter",
           "REDUCTIONS", "VARIANTS", "BackwardPass", "backward", "ConfigError", "load_config",
           "save_config"]
