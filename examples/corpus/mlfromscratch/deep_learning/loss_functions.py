# ML-From-Scratch, mlfromscratch/deep_learning/loss_functions.py, reproduced for gradcheck's
# corpus. CrossEntropy is the binary cross-entropy of every output; its gradient times the
# softmax's diagonal p (1 - p) gives p - y, which for one-hot y is exactly the gradient of the
# categorical cross-entropy of a softmax layer (the loss it reports is not the one it follows).
from __future__ import division
import numpy as np
from mlfromscratch.utils import accuracy_score


class Loss(object):
    def loss(self, y_true, y_pred):
        return NotImplementedError()

    def gradient(self, y, y_pred):
        raise NotImplementedError()

    def acc(self, y, y_pred):
        return 0


class SquareLoss(Loss):
    def __init__(self): pass

    def loss(self, y, y_pred):
        return 0.5 * np.power((y - y_pred), 2)

    def gradient(self, y, y_pred):
        return -(y - y_pred)


class CrossEntropy(Loss):
    def __init__(self): pass

    def loss(self, y, p):
        # Avoid division by zero
        p = np.clip(p, 1e-15, 1 - 1e-15)
        return - y * np.log(p) - (1 - y) * np.log(1 - p)

    def acc(self, y, p):
        return accuracy_score(np.argmax(y, axis=1), np.argmax(p, axis=1))

    def gradient(self, y, p):
        # Avoid division by zero
        p = np.clip(p, 1e-15, 1 - 1e-15)
        return - (y / p) + (1 - y) / (1 - p)
