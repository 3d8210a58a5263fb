# A Keras-like numpy library in the style of the many "deep learning from scratch, inspired by the
# Keras API" repositories (e.g. MoazAshraf/Deep-Learning-From-Scratch), written for gradcheck's
# corpus: activation objects looked up by name, each with its derivative at the layer's z.
import numpy as np


class Sigmoid(object):
    def __call__(self, z):
        return 1 / (1 + np.exp(-z))

    def derivative(self, z):
        s = self(z)
        return s * (1 - s)


class Tanh(object):
    def __call__(self, z):
        return np.tanh(z)

    def derivative(self, z):
        return 1 - np.tanh(z) ** 2


class ReLU(object):
    def __call__(self, z):
        return np.maximum(0, z)

    def derivative(self, z):
        return (z > 0).astype(z.dtype)


ACTIVATIONS = {'sigmoid': Sigmoid, 'tanh': Tanh, 'relu': ReLU}
