"""Adversarial harnesses for gradcheck: ``python -m tests.harness NAME [options]``.

Each harness is a module ``tests.harness.NAME`` with a ``main(argv)``:

- ``networks``: hand-written network gradients, correct and wrong, in the many forms users write
  them, over random numerical regimes (``replay`` replays one case, ``list`` lists them);
- ``layers``: ``check_layer`` and ``check_function`` over hand-written CS231n-style layers;
- ``layer_timing``: the CS231n numeric-gradient recipe against ``check_layer``;
- ``hostile``: hostile and broken inputs through the real command.

``results/harness/`` (git-ignored) receives each run's cases and reproducers.
"""
