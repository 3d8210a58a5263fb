"""The way Nielsen's book runs network2.py (chapter 3), as a standalone script, for gradcheck's
corpus: mnist_loader, network2.Network([784, 30, 10], cost=network2.CrossEntropyCost),
large_weight_initializer() (the weights are drawn a second time), and SGD with eta = 0.5,
lmbda = 5.0 and monitoring, all at module level.

    gradcheck nielsen_run_network2.toml --impl nielsen_slip/run_network2.py

This folder, nielsen_slip/, is nielsen/ with one line changed in network.py (the weights step
with eta, not eta / len(mini_batch)) and one in network2.py (the L2 decay applied to the
biases too).
"""
import mnist_loader
training_data, validation_data, test_data = mnist_loader.load_data_wrapper()

import network2
net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
net.large_weight_initializer()
net.SGD(training_data, 30, 10, 0.5,
        lmbda=5.0,
        evaluation_data=validation_data,
        monitor_evaluation_accuracy=True,
        monitor_evaluation_cost=True,
        monitor_training_accuracy=True,
        monitor_training_cost=True)
