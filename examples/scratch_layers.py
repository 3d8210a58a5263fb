"""Layer classes in the style of the popular "neural network from scratch" tutorials, written for
gradcheck's examples: FCLayer keeps weights (input_size, output_size) and bias (1, output_size),
each layer's backward_propagation(output_error, learning_rate) updates it in place, and
Network.fit(x_train, y_train, epochs, learning_rate) steps through the samples one at a time
with the mean squared error over the outputs.  One sample per call ([impl] call = "example")
makes every step start from the same weights:

    gradcheck examples/scratch.toml --impl "examples/scratch_layers.py:lambda x_train, y_train, lr, net=build(): net.fit(x_train[:, None, :], y_train[:, None, :], 1, lr)"
    gradcheck examples/scratch.toml --impl "examples/scratch_layers.py:lambda x_train, y_train, lr, net=build(mse_prime_bug): net.fit(x_train[:, None, :], y_train[:, None, :], 1, lr)"
"""

import numpy as np

class FCLayer:
    def __init__(self, input_size, output_size):
        self.weights = np.random.rand(input_size, output_size) - 0.5
        self.bias = np.random.rand(1, output_size) - 0.5
    def forward_propagation(self, input_data):
        self.input = input_data
        return np.dot(self.input, self.weights) + self.bias
    def backward_propagation(self, output_error, learning_rate):
        input_error = np.dot(output_error, self.weights.T)
        weights_error = np.dot(self.input.T, output_error)
        self.weights -= learning_rate * weights_error
        self.bias -= learning_rate * output_error
        return input_error

class ActivationLayer:
    def __init__(self, activation, activation_prime):
        self.activation, self.activation_prime = activation, activation_prime
    def forward_propagation(self, input_data):
        self.input = input_data
        return self.activation(self.input)
    def backward_propagation(self, output_error, learning_rate):
        return self.activation_prime(self.input) * output_error

def tanh(x): return np.tanh(x)
def tanh_prime(x): return 1 - np.tanh(x) ** 2
def mse_prime_bug(y_true, y_pred):
    """The planted bug: the derivative of the mean squared error without its 2."""
    return (y_pred - y_true) / y_true.size


def mse(y_true, y_pred): return np.mean(np.power(y_true - y_pred, 2))
def mse_prime(y_true, y_pred): return 2 * (y_pred - y_true) / y_true.size

class Network:
    def __init__(self, loss_prime=None):
        self.layers = []
        self.loss_prime = loss_prime or mse_prime
    def add(self, layer):
        self.layers.append(layer)
    def fit(self, x_train, y_train, epochs, learning_rate):
        for i in range(epochs):
            for j in range(len(x_train)):
                output = x_train[j]
                for layer in self.layers:
                    output = layer.forward_propagation(output)
                error = self.loss_prime(y_train[j], output)
                for layer in reversed(self.layers):
                    error = layer.backward_propagation(error, learning_rate)

def build(loss_prime=None):
    net = Network(loss_prime)
    net.add(FCLayer(3, 4)); net.add(ActivationLayer(tanh, tanh_prime))
    net.add(FCLayer(4, 2)); net.add(ActivationLayer(tanh, tanh_prime))
    return net
