"""The analytic side: activations, losses, the Network, and its backward passes."""

if __name__ == "backprop":  # the import root before gradcheck: the same modules
    from gradcheck._legacy import alias
    alias(__name__)


from .activations import ACTIVATIONS, Activation
from .config import ConfigError, load_config, save_config
from .losses import LOSSES, Loss
from .network import REDUCTIONS, Forward, Network, Parameter
from .variants import VARIANTS, BackwardPass, backward

__all__ = ["ACTIVATIONS", "Activation", "LOSSES", "Loss", "Network", "Forward", "Parameter",
           "REDUCTIONS", "VARIANTS", "BackwardPass", "backward", "ConfigError", "load_config",
           "save_config"]
