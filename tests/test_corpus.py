"""The corpus (examples/corpus/MANIFEST.toml): every reproduction of real published code, and its
planted-bug twin, checked through the command exactly as a user would type it, from the corpus's
folder, with no adapter file: the exit status and the failing arrays are the manifest's."""

import io
import json
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gradcheck.checks.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "examples" / "corpus"
MANIFEST = tomllib.loads((CORPUS / "MANIFEST.toml").read_text())
CHECKS = MANIFEST["check"]
#: run as a real subprocess too: a script, a call that draws its own weights, a package
SUBPROCESS = {"iamtrask_11_lines_slip", "dennybritz_build_model", "cs231n_fc_net_f32",
              "nielsen_run_network"}


def failing(report):
    return sorted(p["name"] for p in report["parameters"] if not p["passed"])


def test_the_manifest_lists_58_checks_each_a_pair_of_a_correct_file_and_its_twin():
    assert len(CHECKS) == 58 and len({c["id"] for c in CHECKS}) == 58
    assert {c["expected_status"] for c in CHECKS} == {0, 1}
    assert all(c["command"].startswith("gradcheck ") for c in CHECKS)
    assert not any(c.get("xfail") for c in CHECKS), "every check is expected to run as written"


@pytest.mark.parametrize("entry", CHECKS, ids=[c["id"] for c in CHECKS])
def test_each_check_of_the_corpus_runs_as_written_through_the_command(entry, monkeypatch):
    monkeypatch.chdir(CORPUS)
    out, err = io.StringIO(), io.StringIO()
    status = main(shlex.split(entry["command"])[1:] + ["--json"], stdout=out, stderr=err)
    report = json.loads(out.getvalue())
    assert status == entry["expected_status"], report.get("error") or report.get("notes")
    assert failing(report) == sorted(entry["expected_failing"])


@pytest.mark.parametrize("entry", [c for c in CHECKS if c["id"] in SUBPROCESS],
                         ids=sorted(SUBPROCESS, key=[c["id"] for c in CHECKS].index))
def test_a_few_checks_through_the_real_command_in_a_subprocess(entry):
    argv = shlex.split(entry["command"])[1:] + ["--json"]
    done = subprocess.run([sys.executable, "-m", "gradcheck", *argv], cwd=CORPUS,
                          capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert done.returncode == entry["expected_status"], done.stderr[-2000:]
    assert failing(report) == sorted(entry["expected_failing"])
