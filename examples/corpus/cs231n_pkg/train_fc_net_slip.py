"""A training script in the style of CS231n assignment 2's FullyConnectedNets notebook, written
for gradcheck's corpus: build a FullyConnectedNet and hand it to a Solver with
update_rule="sgd" and optim_config={"learning_rate": ...}; the Solver samples minibatches with
np.random.choice (with replacement), calls model.loss, and steps every entry of model.params.
Run from examples/corpus; the script sits in the folder that holds the `cs231n` package.

    gradcheck cs231n_fc_net_solver.toml --impl cs231n_pkg/train_fc_net_slip.py

The planted bug: the model comes from fc_net_slip.py (hidden layers' L2 gradient forgotten).
"""
import numpy as np

from cs231n.classifiers.fc_net_slip import FullyConnectedNet
from cs231n.solver import Solver

np.random.seed(231)
num_train, num_val, input_dim, num_classes = 50, 10, 4, 3
data = {
    "X_train": np.random.randn(num_train, input_dim),
    "y_train": np.random.randint(num_classes, size=num_train),
    "X_val": np.random.randn(num_val, input_dim),
    "y_val": np.random.randint(num_classes, size=num_val),
}

learning_rate = 1e-2
weight_scale = 0.5
model = FullyConnectedNet([6, 5], input_dim=input_dim, num_classes=num_classes, reg=0.1,
                          weight_scale=weight_scale, dtype=np.float64)
solver = Solver(model, data,
                print_every=10, num_epochs=20, batch_size=5,
                update_rule="sgd",
                optim_config={"learning_rate": learning_rate})
solver.train()
