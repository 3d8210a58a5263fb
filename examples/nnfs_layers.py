"""Layer objects in the style of "Neural Networks from Scratch" (nnfs.io), written for gradcheck's
examples: Layer_Dense keeps weights (n_inputs, n_neurons) and biases (1, n_neurons), and its
backward(dvalues) writes self.dweights and self.dbiases; a softmax with the categorical
cross-entropy, averaged over the batch, takes integer labels.  A small Model holds the layers;
its backward writes the gradients and returns nothing.

    gradcheck examples/nnfs.toml --impl "examples/nnfs_layers.py:lambda X, y, model=Model(4, 8, 3): model.backward(model.forward(X, y), y)"
    gradcheck examples/nnfs.toml --impl "examples/nnfs_layers.py:lambda X, y, model=Model(4, 8, 3, slip=True): model.backward(model.forward(X, y), y)"
"""

import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.01 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_Tanh:
    def forward(self, inputs):
        self.output = np.tanh(inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output ** 2)


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def forward(self, inputs, y_true):
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        clipped = self.output[range(len(inputs)), y_true]
        return np.mean(-np.log(clipped))

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class Model:
    def __init__(self, n_inputs, n_hidden, n_classes, slip=False):
        self.dense1 = Layer_Dense(n_inputs, n_hidden)
        self.activation1 = Activation_Tanh()
        self.dense2 = Layer_Dense(n_hidden, n_classes)
        self.loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
        self.slip = slip

    def forward(self, X, y):
        self.dense1.forward(X)
        self.activation1.forward(self.dense1.output)
        self.dense2.forward(self.activation1.output)
        return self.loss_activation.forward(self.dense2.output, y)

    def backward(self, loss, y):
        self.loss_activation.backward(self.loss_activation.output, y)
        self.dense2.backward(self.loss_activation.dinputs)
        if self.slip:  # the planted bug: the activation's backward skipped
            self.dense1.backward(self.dense2.dinputs)
            return
        self.activation1.backward(self.dense2.dinputs)
        self.dense1.backward(self.activation1.dinputs)
