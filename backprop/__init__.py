"""The analytic side: activations, losses, the Network, and its backward passes."""

if __name__ == "backprop":  # the import root before gradcheck: the same modules
    from gradcheck._legacy import alias
    alias(__name__)


from .activations import ACTIVATIONS, Activation
from .config import ConfigError, load_config, save_config
from .losses import LOSSES, Loss
from .network import REDUCTIONS, ForwardPass, Network, Parameter, Reduction
from .variants import VARIANTS, BackwardPass, UpdateFirst, backward

__all__ = ["ACTIVATIONS", "Activation", "LOSSES", "Loss", "Network", "ForwardPass", "Parameter", "Reduction",
           "REDUCTIONS", "VARIANTS", "BackwardPass", "UpdateFirst", "backward", "ConfigError", "load_config",
           "save_config"]
