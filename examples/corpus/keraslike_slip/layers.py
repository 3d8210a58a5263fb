# The Keras-like library's Dense layer (see activations.py): weights are made by build(), which
# the model calls when it is constructed; one example per row, weights (n_in, units), biases
# (1, units). update_params REPLACES the arrays (self.weights = self.weights - ...).
import numpy as np
from activations import ACTIVATIONS


class Dense(object):
    def __init__(self, units, activation=None, input_shape=None):
        self.units = units
        if isinstance(activation, str):
            self.activation = ACTIVATIONS[activation]()
        else:
            self.activation = activation
        self.input_shape = input_shape
        self.output_shape = (self.units,)

    def build(self, input_shape):
        self.input_shape = input_shape
        self.weights = np.random.randn(input_shape[0], self.units) * 0.5
        self.biases = np.zeros((1, self.units))

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def call(self, X, cache=False):
        z = X @ self.weights + self.biases
        a = self.activation(z) if self.activation is not None else z
        if cache:
            self.cache = {'linear': z}
        return a

    def compute_gradients(self, dL_da, X):
        if self.activation is not None:
            dL_dz = dL_da * self.activation.derivative(self.cache['linear'])
        else:
            dL_dz = dL_da
        dL_dw = X.T @ dL_dz
        dL_db = np.sum(dL_dz, axis=0, keepdims=True)
        dL_dX = dL_dz @ self.weights.T
        return dL_dw, dL_db, dL_dX

    def update_params(self, dL_dw, dL_db, learning_rate):
        self.weights = self.weights - learning_rate * dL_dw
        self.biases = self.biases - learning_rate * dL_db
