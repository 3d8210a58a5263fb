"""``python -m tests.harness replay --seed S --index K [--snippet]``: one network case again."""


def main(argv=None):
    from .network_runs import main as run
    return run(["replay", *(argv or [])])
