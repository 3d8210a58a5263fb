"""A reproduction, in its own words, of the NeuralNetwork class of python-course.eu's machine
learning tutorial (Bernd Klein), chapter "Training a Neural Network with Python", AS PUBLISHED:
NeuralNetwork(no_of_in_nodes, no_of_out_nodes, no_of_hidden_nodes, learning_rate) with
separately named arrays weights_in_hidden (hidden, in) and weights_hidden_out (out, hidden), no
biases, and train(input_vector, target_vector) taking one online step on one example, the
error written target - output, the learning rate an attribute. The data and the training loop
over the samples are at module level.

The published train() has two departures from backpropagation, kept here on purpose:
  * weights_hidden_out is updated BEFORE the hidden errors are computed from it, and
  * the hidden errors are weights_hidden_out.T @ output_error, the raw output error without the
    output layer's sigma' (the `tmp` it has just computed is not used).
So its step on weights_in_hidden is not the gradient of the network's loss (the step on
weights_hidden_out is right). python_course_eu_corrected.py is the same file with both fixed.

    gradcheck python_course_eu.toml --impl "python_course_eu.py:NeuralNetwork(no_of_in_nodes=2, no_of_out_nodes=3, no_of_hidden_nodes=5, learning_rate=0.3).train"
    gradcheck python_course_eu_script.toml --impl python_course_eu.py
"""
import numpy as np


def activation_function(x):
    """The sigmoid (the site imports it as scipy.special.expit)."""
    return 1 / (1 + np.exp(-x))


class truncated_normal:
    """A numpy stand-in for the site's truncated_normal(mean, sd, low, upp), which wraps
    scipy.stats.truncnorm: .rvs(shape) draws normals kept inside [low, upp]."""

    def __init__(self, mean=0, sd=1, low=0, upp=10):
        self.mean, self.sd, self.low, self.upp = mean, sd, low, upp

    def rvs(self, shape):
        out = np.empty(int(np.prod(shape)))
        filled = 0
        while filled < out.size:
            draw = np.random.normal(self.mean, self.sd, out.size)
            draw = draw[(draw >= self.low) & (draw <= self.upp)][:out.size - filled]
            out[filled:filled + draw.size] = draw
            filled += draw.size
        return out.reshape(shape)


class NeuralNetwork:

    def __init__(self, no_of_in_nodes, no_of_out_nodes, no_of_hidden_nodes, learning_rate):
        self.no_of_in_nodes = no_of_in_nodes
        self.no_of_out_nodes = no_of_out_nodes
        self.no_of_hidden_nodes = no_of_hidden_nodes
        self.learning_rate = learning_rate
        self.create_weight_matrices()

    def create_weight_matrices(self):
        """A method to initialize the weight matrices of the neural network."""
        rad = 1 / np.sqrt(self.no_of_in_nodes)
        X = truncated_normal(mean=0, sd=1, low=-rad, upp=rad)
        self.weights_in_hidden = X.rvs((self.no_of_hidden_nodes, self.no_of_in_nodes))
        rad = 1 / np.sqrt(self.no_of_hidden_nodes)
        X = truncated_normal(mean=0, sd=1, low=-rad, upp=rad)
        self.weights_hidden_out = X.rvs((self.no_of_out_nodes, self.no_of_hidden_nodes))

    def train(self, input_vector, target_vector):
        """input_vector and target_vector can be tuples, lists or ndarrays."""
        # make sure that the vectors have the right shape
        input_vector = np.array(input_vector)
        input_vector = input_vector.reshape(input_vector.size, 1)
        target_vector = np.array(target_vector).reshape(target_vector.size, 1)

        output_vector_hidden = activation_function(self.weights_in_hidden @ input_vector)
        output_vector_network = activation_function(self.weights_hidden_out @ output_vector_hidden)

        output_error = target_vector - output_vector_network
        tmp = output_error * output_vector_network * (1.0 - output_vector_network)
        self.weights_hidden_out += self.learning_rate * (tmp @ output_vector_hidden.T)

        # calculate hidden errors:
        hidden_errors = self.weights_hidden_out.T @ output_error
        # update the weights:
        tmp = hidden_errors * output_vector_hidden * (1.0 - output_vector_hidden)
        self.weights_in_hidden += self.learning_rate * (tmp @ input_vector.T)

    def run(self, input_vector):
        """Running the network with an input vector (tuple, list or ndarray)."""
        input_vector = np.array(input_vector, ndmin=2).T
        input4hidden = activation_function(self.weights_in_hidden @ input_vector)
        output_vector_network = activation_function(self.weights_hidden_out @ input4hidden)
        return output_vector_network

    def evaluate(self, data, labels):
        corrects, wrongs = 0, 0
        for i in range(len(data)):
            res = self.run(data[i])
            res_max = res.argmax()
            if res_max == labels[i].argmax():
                corrects += 1
            else:
                wrongs += 1
        return corrects, wrongs


def make_blobs(n_samples, centers, random_state=None):
    """A numpy stand-in for sklearn.datasets.make_blobs: isotropic Gaussian blobs of sd 1."""
    rng = np.random.RandomState(random_state)
    centers = np.asarray(centers, dtype=float)
    labels = rng.randint(len(centers), size=n_samples)
    return centers[labels] + rng.normal(size=(n_samples, centers.shape[1])), labels


n_samples = 300
blob_centers = ([2, 6], [6, 2], [7, 7])
n_classes = len(blob_centers)
data, labels = make_blobs(n_samples=n_samples, centers=blob_centers, random_state=7)

# one-hot targets
labels = (np.arange(n_classes) == labels.reshape(labels.size, 1))
labels = labels.astype(np.float64)

size_of_learn_sample = int(n_samples * 0.8)
learn_data, test_data = data[:size_of_learn_sample], data[size_of_learn_sample:]
learn_labels, test_labels = labels[:size_of_learn_sample], labels[size_of_learn_sample:]

np.random.seed(42)
simple_network = NeuralNetwork(no_of_in_nodes=2,
                               no_of_out_nodes=3,
                               no_of_hidden_nodes=5,
                               learning_rate=0.3)

for i in range(size_of_learn_sample):
    simple_network.train(learn_data[i], learn_labels[i])

print(simple_network.evaluate(learn_data, learn_labels))
print(simple_network.evaluate(test_data, test_labels))
