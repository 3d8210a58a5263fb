"""The training loop of Karpathy's micrograd lecture ("The spelled-out intro to neural networks
and backpropagation: building micrograd"), as a module-level script, for gradcheck's corpus:
n = MLP(3, [4, 4, 1]) of tanh neurons, four examples, the summed squared error, zero the grads,
loss.backward(), and p.data += -0.1 * p.grad for every parameter (the learning rate a literal).

    gradcheck micrograd_mlp.toml --impl micrograd_demo/train.py
"""
import random

from micrograd.nn import MLP

random.seed(1337)
n = MLP(3, [4, 4, 1])

xs = [
    [2.0, 3.0, -1.0],
    [3.0, -1.0, 0.5],
    [0.5, 1.0, 1.0],
    [1.0, 1.0, -1.0],
]
ys = [1.0, -1.0, -1.0, 1.0]  # desired targets

for k in range(20):

    # forward pass
    ypred = [n(x) for x in xs]
    loss = sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))

    # backward pass
    for p in n.parameters():
        p.grad = 0.0
    loss.backward()

    # update
    for p in n.parameters():
        p.data += -0.1 * p.grad

    print(k, loss.data)
