"""The way Nielsen's book runs network.py (chapter 1), as a standalone script, for gradcheck's
corpus: load the data with mnist_loader, build network.Network([784, 30, 10]) and call
net.SGD(training_data, 30, 10, 3.0, test_data=test_data), all at module level.

    gradcheck nielsen_run_network.toml --impl nielsen/run_network.py
"""
import mnist_loader
training_data, validation_data, test_data = mnist_loader.load_data_wrapper()

import network
net = network.Network([784, 30, 10])
net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
