"""A reproduction, in its own words, of James Loy's "How to build your own Neural Network from
scratch in Python" (Towards Data Science, 2018): the data are handed to the constructor and kept
as attributes (self.input, self.y), the weights are drawn there from their shapes, and the
methods feedforward() and backprop() take no arguments. No biases, one example per row, the
sum of squared errors (the derivative written 2 * (self.y - self.output)) and the update written
+= with no learning rate (an implicit 1). The loop is at module level.

The planted bug (one line): d_weights1 backpropagates the raw output error, dropping the output
layer's sigmoid derivative.

    gradcheck jamesloy_nn.toml --impl jamesloy_nn_slip.py
    gradcheck jamesloy_nn.toml --impl "jamesloy_nn_slip.py:lambda: (nn.feedforward(), nn.backprop())"
"""
import numpy as np


def sigmoid(x):
    return 1.0 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    return x * (1.0 - x)


class NeuralNetwork:
    def __init__(self, x, y):
        self.input = x
        self.weights1 = np.random.rand(self.input.shape[1], 4)
        self.weights2 = np.random.rand(4, 1)
        self.y = y
        self.output = np.zeros(self.y.shape)

    def feedforward(self):
        self.layer1 = sigmoid(np.dot(self.input, self.weights1))
        self.output = sigmoid(np.dot(self.layer1, self.weights2))

    def backprop(self):
        # application of the chain rule to find the derivative of the loss function with
        # respect to weights2 and weights1
        d_weights2 = np.dot(self.layer1.T, (2 * (self.y - self.output) * sigmoid_derivative(self.output)))
        d_weights1 = np.dot(self.input.T, (np.dot(2 * (self.y - self.output), self.weights2.T) * sigmoid_derivative(self.layer1)))   # the slip

        # update the weights with the derivative (slope) of the loss function
        self.weights1 += d_weights1
        self.weights2 += d_weights2


X = np.array([[0, 0, 1],
              [0, 1, 1],
              [1, 0, 1],
              [1, 1, 1]])
y = np.array([[0], [1], [1], [0]])
nn = NeuralNetwork(X, y)

for i in range(1500):
    nn.feedforward()
    nn.backprop()

print(nn.output)
