# The Keras-like library's losses (see activations.py): 'mse' is Keras' mean squared error, the
# mean over every output of every example, and its derivative with respect to the predictions.
# The planted bug (one line): the derivative written 2 (y_true - y_pred), the sign flipped (as in
# MoazAshraf/Deep-Learning-From-Scratch's losses.py at commit 033c5882).
import numpy as np


class Loss(object):
    def __call__(self, y_true, y_pred):
        return self.call(y_true, y_pred)


class MSE(Loss):
    def call(self, y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2)

    def derivative(self, y_true, y_pred):
        return 2 * (y_true - y_pred) / y_true.size   # the slip: the sign of the error


class BinaryCrossentropy(Loss):
    def call(self, y_true, y_pred):
        return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))

    def derivative(self, y_true, y_pred):
        return -(y_true / y_pred - (1 - y_true) / (1 - y_pred)) / y_true.size


LOSSES = {'mse': MSE, 'mean_squared_error': MSE, 'binary_crossentropy': BinaryCrossentropy}
