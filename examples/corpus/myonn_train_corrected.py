"""myonn_train.py with the book's hidden error corrected (one line): the error sent back through
who.T is the output delta, output_errors * final_outputs * (1 - final_outputs), i.e. with the
output layer's sigmoid derivative. Everything else is as published.

    gradcheck myonn.toml --impl myonn_train_corrected.py
    gradcheck myonn_online.toml --impl "myonn_train_corrected.py:neuralNetwork(16, 8, 3, 0.3).train"
"""
import numpy
# scipy.special for the sigmoid function expit() in the book; a numpy equivalent here
expit = lambda x: 1 / (1 + numpy.exp(-x))


# neural network class definition
class neuralNetwork:

    # initialise the neural network
    def __init__(self, inputnodes, hiddennodes, outputnodes, learningrate):
        # set number of nodes in each input, hidden, output layer
        self.inodes = inputnodes
        self.hnodes = hiddennodes
        self.onodes = outputnodes

        # link weight matrices, wih and who; w_i_j links node i to node j of the next layer
        self.wih = numpy.random.normal(0.0, pow(self.inodes, -0.5), (self.hnodes, self.inodes))
        self.who = numpy.random.normal(0.0, pow(self.hnodes, -0.5), (self.onodes, self.hnodes))

        # learning rate
        self.lr = learningrate

        # activation function is the sigmoid function
        self.activation_function = lambda x: expit(x)

    # train the neural network
    def train(self, inputs_list, targets_list):
        # convert inputs list to 2d array
        inputs = numpy.array(inputs_list, ndmin=2).T
        targets = numpy.array(targets_list, ndmin=2).T

        # calculate signals into hidden layer
        hidden_inputs = numpy.dot(self.wih, inputs)
        # calculate the signals emerging from hidden layer
        hidden_outputs = self.activation_function(hidden_inputs)

        # calculate signals into final output layer
        final_inputs = numpy.dot(self.who, hidden_outputs)
        # calculate the signals emerging from final output layer
        final_outputs = self.activation_function(final_inputs)

        # output layer error is the (target - actual)
        output_errors = targets - final_outputs
        # hidden layer error is the output_errors, split by weights, recombined at hidden nodes
        hidden_errors = numpy.dot(self.who.T, output_errors * final_outputs * (1.0 - final_outputs))

        # update the weights for the links between the hidden and output layers
        self.who += self.lr * numpy.dot((output_errors * final_outputs * (1.0 - final_outputs)), numpy.transpose(hidden_outputs))

        # update the weights for the links between the input and hidden layers
        self.wih += self.lr * numpy.dot((hidden_errors * hidden_outputs * (1.0 - hidden_outputs)), numpy.transpose(inputs))

    # query the neural network
    def query(self, inputs_list):
        inputs = numpy.array(inputs_list, ndmin=2).T
        hidden_outputs = self.activation_function(numpy.dot(self.wih, inputs))
        final_outputs = self.activation_function(numpy.dot(self.who, hidden_outputs))
        return final_outputs


# number of input, hidden and output nodes
input_nodes = 16
hidden_nodes = 8
output_nodes = 3

# learning rate
learning_rate = 0.3

# create instance of neural network
n = neuralNetwork(input_nodes, hidden_nodes, output_nodes, learning_rate)

# load the training data CSV file into a list
training_data_file = open("mnist_dataset/toy_digits_train.csv", 'r')
training_data_list = training_data_file.readlines()
training_data_file.close()

# train the neural network; epochs is the number of times the data set is used for training
epochs = 5

for e in range(epochs):
    # go through all records in the training data set
    for record in training_data_list:
        # split the record by the ',' commas
        all_values = record.split(',')
        # scale and shift the inputs (the book writes numpy.asfarray, gone in numpy 2)
        inputs = (numpy.asarray(all_values[1:], dtype=float) / 255.0 * 0.99) + 0.01
        # create the target output values (all 0.01, except the desired label which is 0.99)
        targets = numpy.zeros(output_nodes) + 0.01
        # all_values[0] is the target label for this record
        targets[int(all_values[0])] = 0.99
        n.train(inputs, targets)

print(n.query((numpy.asarray(training_data_list[0].split(',')[1:], dtype=float) / 255.0 * 0.99) + 0.01))
