# A reproduction, for gradcheck's corpus, of the package layout of eriklindernoren/ML-From-Scratch
# (only the parts its MultilayerPerceptron uses). Its modules import each other absolutely
# (`from mlfromscratch.deep_learning... import ...`): the repository root must be importable.
