"""The way Nielsen's book runs network.py (chapter 1), as a standalone script, for gradcheck's
corpus: load the data with mnist_loader, build network.Network([784, 30, 10]) and call
net.SGD(training_data, 30, 10, 3.0, test_data=test_data), all at module level.

    gradcheck nielsen_run_network.toml --impl nielsen_slip/run_network.py

This folder, nielsen_slip/, is nielsen/ with one line changed in network.py (the weights step
with eta, not eta / len(mini_batch)) and one in network2.py (the L2 decay applied to the
biases too).
"""
import mnist_loader
training_data, validation_data, test_data = mnist_loader.load_data_wrapper()

import network
net = network.Network([784, 30, 10])
net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
