"""CS231n assignment 1, cs231n/classifiers/neural_net.py, reproduced for gradcheck's corpus:
TwoLayerNet(input_size, hidden_size, output_size, std=1e-4) with self.params['W1'] (D, H),
'b1' (H,), 'W2' (H, C), 'b2' (C,); loss(X, y=None, reg=0.0) returns (loss, grads) with the
mean softmax loss plus reg * (sum W1^2 + sum W2^2); and train(X, y, X_val, y_val,
learning_rate, learning_rate_decay, reg, num_iters, batch_size, verbose), which draws each
minibatch itself with np.random.choice(num_train, batch_size, replace=True) and steps
self.params in place with the local learning_rate.

neural_net_slip.py, the planted bug (one line deleted): dscores is not divided by N, so the
data part of every gradient is N times too large (the L2 part is right).

    gradcheck cs231n_a1_train_reg.toml --impl "cs231n_a1/neural_net_slip.py:lambda X, y, learning_rate, net=TwoLayerNet(4, 10, 3, std=0.5): net.train(X, y, X, y, learning_rate=learning_rate, reg=0.05, num_iters=1, batch_size=len(X))"
"""
import numpy as np


class TwoLayerNet(object):

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params['W1'] = std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N, D = X.shape

        # Compute the forward pass
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2

        # If the targets are not given then jump out, we're done
        if y is None:
            return scores

        # Compute the loss
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        exp_scores = np.exp(shifted)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N
        loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        # Backward pass: compute gradients
        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1   # the slip: the division by N that followed is gone
        grads['W2'] = hidden.T.dot(dscores) + 2 * reg * W2
        grads['b2'] = np.sum(dscores, axis=0)
        dhidden = dscores.dot(W2.T)
        dhidden[hidden <= 0] = 0
        grads['W1'] = X.T.dot(dhidden) + 2 * reg * W1
        grads['b1'] = np.sum(dhidden, axis=0)

        return loss, grads

    def train(self, X, y, X_val, y_val,
              learning_rate=1e-3, learning_rate_decay=0.95,
              reg=5e-6, num_iters=100,
              batch_size=200, verbose=False):
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train / batch_size, 1)

        # Use SGD to optimize the parameters in self.model
        loss_history = []
        train_acc_history = []
        val_acc_history = []

        for it in range(num_iters):
            # a random minibatch of training data and labels
            idx = np.random.choice(num_train, batch_size, replace=True)
            X_batch = X[idx]
            y_batch = y[idx]

            # Compute loss and gradients using the current minibatch
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)

            # update the parameters of the network
            self.params['W1'] -= learning_rate * grads['W1']
            self.params['b1'] -= learning_rate * grads['b1']
            self.params['W2'] -= learning_rate * grads['W2']
            self.params['b2'] -= learning_rate * grads['b2']

            if verbose and it % 100 == 0:
                print('iteration %d / %d: loss %f' % (it, num_iters, loss))

            # Every epoch, check train and val accuracy and decay learning rate.
            if it % iterations_per_epoch == 0:
                train_acc = (self.predict(X_batch) == y_batch).mean()
                val_acc = (self.predict(X_val) == y_val).mean()
                train_acc_history.append(train_acc)
                val_acc_history.append(val_acc)
                learning_rate *= learning_rate_decay

        return {
            'loss_history': loss_history,
            'train_acc_history': train_acc_history,
            'val_acc_history': val_acc_history,
        }

    def predict(self, X):
        hidden = np.maximum(0, X.dot(self.params['W1']) + self.params['b1'])
        scores = hidden.dot(self.params['W2']) + self.params['b2']
        return np.argmax(scores, axis=1)
