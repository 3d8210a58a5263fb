"""Every command the README shows in a code block runs as printed.

A line of a fenced code block that starts with ``gradcheck `` or ``$ gradcheck `` is a command
(a trailing backslash continues it on the next line); in a transcript, a block with ``$``
prompts, only the prompted lines are, and a report's verdict line never is.  Each runs, in
README order, from a scratch copy of the repository's example and docs folders, so a command
that writes (``--plot docs/diagnosis.png --force``) never touches the checkout, and one that
reads what an earlier one wrote finds it.  It must exit 0 or 1 (2 would mean it cannot run as
printed), and where the README shows its output, the verdict shown must be the one it gives.  A
command the README only illustrates is tagged with a trailing ``# illustrative`` and left out.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ILLUSTRATIVE = "# illustrative"
#: what the commands may read or write, copied into the scratch folder
FOLDERS = ("examples", "docs")
STATUS_OF = {"PASSED": 0, "FAILED": 1}
VERDICT = re.compile(r"gradcheck (PASSED|FAILED|UNDECIDED):")


def code_blocks(text):
    """The lines of every fenced code block, block by block."""
    blocks, current = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def commands(text):
    """(command, the verdict the README shows after it or None) for every gradcheck command in a
    code block, in order, those tagged illustrative left out."""
    found = []
    for block in code_blocks(text):
        # in a transcript (a block with "$ " prompts) only the prompted lines are commands
        starts = ("$ gradcheck ",) if any(line.startswith("$ ") for line in block) else (
            "gradcheck ",)
        k = 0
        while k < len(block):
            line = block[k]
            k += 1
            if not line.startswith(starts) or VERDICT.match(line):
                continue
            command = line.removeprefix("$ ")
            while command.endswith("\\") and k < len(block):
                command = command[:-1] + " " + block[k].strip()
                k += 1
            shown = VERDICT.match(block[k]) if k < len(block) else None
            if not command.rstrip().endswith(ILLUSTRATIVE):
                found.append((command, shown.group(1) if shown else None))
    return found


COMMANDS = commands(README.read_text())


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A folder holding copies of what the README's commands read and write."""
    where = tmp_path_factory.mktemp("readme")
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, where / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return where


def test_the_readme_commands_are_found_and_the_illustrative_ones_left_out():
    text = ("```\n$ gradcheck a.toml\ngradcheck FAILED: x\ngradcheck --output-like line\n```\n"
            "```\ngradcheck b.toml --json \\\n    --variant code2\n"
            "gradcheck c.toml   # illustrative\n  gradcheck d.toml\n```\n")
    assert commands(text) == [("gradcheck a.toml", "FAILED"),
                              ("gradcheck b.toml --json  --variant code2", None)]
    assert len(COMMANDS) >= 4
    assert ("gradcheck examples/seed.toml --impl examples/seeds_train.py:train_code2",
            "FAILED") in COMMANDS


@pytest.mark.parametrize("command, shown", COMMANDS, ids=[c[:60] for c, _ in COMMANDS])
def test_every_readme_command_runs_as_printed(scratch, command, shown):
    argv = shlex.split(command, comments=True)
    assert argv[0] == "gradcheck"
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "gradcheck", *argv[1:]], cwd=scratch,
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode in (0, 1), f"{command}\n{proc.stdout}{proc.stderr}"
    if shown is not None:
        assert proc.returncode == STATUS_OF[shown], f"{command}\n{proc.stdout}"
