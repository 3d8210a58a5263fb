# CS231n assignment 2, cs231n/optim.py (vanilla SGD), reproduced for gradcheck's corpus: the
# learning rate lives in a per-parameter config dict.
import numpy as np


def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)

    w -= config["learning_rate"] * dw
    return w, config
