"""A NeuralNetwork class in the style of python-course.eu's (and of "Make Your Own Neural
Network"), written for gradcheck's examples: separately named arrays self.wih and self.who, no
biases, and train(input_vector, target_vector): one online SGD step on one example, with the
learning rate an attribute and the error written target - output.

    gradcheck examples/python_course.toml --impl "examples/python_course.py:NeuralNetwork(3, 2, 5, learning_rate=0.1).train"
    gradcheck examples/python_course.toml --impl "examples/python_course.py:UpdateFirst(3, 2, 5, learning_rate=0.1).train"
"""

import numpy as np


def activation_function(x):
    return 1 / (1 + np.e ** -x)


class NeuralNetwork:
    def __init__(self, no_of_in_nodes, no_of_out_nodes, no_of_hidden_nodes, learning_rate):
        self.no_of_in_nodes = no_of_in_nodes
        self.no_of_out_nodes = no_of_out_nodes
        self.no_of_hidden_nodes = no_of_hidden_nodes
        self.learning_rate = learning_rate
        self.create_weight_matrices()

    def create_weight_matrices(self):
        rng = np.random.default_rng(0)
        self.wih = rng.normal(0, self.no_of_in_nodes ** -0.5,
                              (self.no_of_hidden_nodes, self.no_of_in_nodes))
        self.who = rng.normal(0, self.no_of_hidden_nodes ** -0.5,
                              (self.no_of_out_nodes, self.no_of_hidden_nodes))

    def train(self, input_vector, target_vector):
        input_vector = np.array(input_vector, ndmin=2).T
        target_vector = np.array(target_vector, ndmin=2).T
        output_vector1 = np.dot(self.wih, input_vector)
        output_hidden = activation_function(output_vector1)
        output_vector2 = np.dot(self.who, output_hidden)
        output_network = activation_function(output_vector2)
        output_errors = target_vector - output_network
        tmp = output_errors * output_network * (1.0 - output_network)
        hidden_errors = np.dot(self.who.T, tmp)
        self.who += self.learning_rate * np.dot(tmp, output_hidden.T)
        tmp = hidden_errors * output_hidden * (1.0 - output_hidden)
        self.wih += self.learning_rate * np.dot(tmp, input_vector.T)

    def run(self, input_vector):
        input_vector = np.array(input_vector, ndmin=2).T
        output_vector = activation_function(np.dot(self.wih, input_vector))
        return activation_function(np.dot(self.who, output_vector))


class UpdateFirst(NeuralNetwork):
    """The planted bug: who is updated before the hidden errors are computed from it."""

    def train(self, input_vector, target_vector):
        input_vector = np.array(input_vector, ndmin=2).T
        target_vector = np.array(target_vector, ndmin=2).T
        output_hidden = activation_function(np.dot(self.wih, input_vector))
        output_network = activation_function(np.dot(self.who, output_hidden))
        output_errors = target_vector - output_network
        tmp = output_errors * output_network * (1.0 - output_network)
        self.who += self.learning_rate * np.dot(tmp, output_hidden.T)
        hidden_errors = np.dot(self.who.T, tmp)            # <- the slip: uses the updated who
        tmp = hidden_errors * output_hidden * (1.0 - output_hidden)
        self.wih += self.learning_rate * np.dot(tmp, input_vector.T)
