"""The network harness's commands, run through ``python -m tests.harness``:

python -m tests.harness networks --seconds 240 --seed 7 [--timeout 20] [--out DIR]
python -m tests.harness replay --seed 7 --index 123 [--style S] [--tag T] [--snippet]
python -m tests.harness list

``networks`` draws case after case (style x regime, a pure function of the seed and the case's
index) until the time is up, runs gradcheck on each with a time cap, prints the tables and writes
every case that is not ok, with its reproducer, to results/harness/networks-*.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from . import networks as H  # noqa: E402

SHOWN = (H.OK, H.FALSE_ALARM, H.REFUSAL, H.UNDEFINED_REFUSAL, H.MISS, H.REFUSAL_OF_WRONG,
         H.INDISTINGUISHABLE, H.TIMEOUT, H.HARNESS_ERROR)
SHORT = {H.OK: "ok", H.FALSE_ALARM: "FALSE", H.REFUSAL: "REFUSE", H.UNDEFINED_REFUSAL: "UNDEF",
         H.MISS: "MISS", H.REFUSAL_OF_WRONG: "REF-WR", H.INDISTINGUISHABLE: "indist",
         H.TIMEOUT: "TIME", H.HARNESS_ERROR: "HARN"}


def table(title, counts):
    """counts: {row: Counter(category)} -> text."""
    rows = sorted(counts)
    width = max([len(title)] + [len(r) for r in rows]) + 1
    head = f"{title:<{width}} {'n':>6} " + " ".join(f"{SHORT[c]:>7}" for c in SHOWN)
    lines = [head, "-" * len(head)]
    total = collections.Counter()
    for r in rows:
        c = counts[r]
        total.update(c)
        lines.append(f"{r:<{width}} {sum(c.values()):>6} " + " ".join(
            f"{c.get(k, 0) or '.':>7}" for k in SHOWN))
    lines.append("-" * len(head))
    lines.append(f"{'total':<{width}} {sum(total.values()):>6} " + " ".join(
        f"{total.get(k, 0) or '.':>7}" for k in SHOWN))
    return "\n".join(lines)


def cross(counts_st):
    """Non-ok outcomes, style x regime."""
    styles = sorted({s for s, _ in counts_st})
    tags = sorted({t for _, t in counts_st})
    w = max(len(s) for s in styles) + 1 if styles else 10
    head = f"{'non-ok (style x regime)':<{w}} " + " ".join(f"{t[:9]:>9}" for t in tags)
    lines = [head, "-" * len(head)]
    for s in styles:
        lines.append(f"{s:<{w}} " + " ".join(
            f"{counts_st.get((s, t), '.')!s:>9}" for t in tags))
    return "\n".join(lines)


def cmd_networks(args):
    seed, budget = args.seed, args.seconds
    start = time.monotonic()
    by_style = collections.defaultdict(collections.Counter)
    by_tag = collections.defaultdict(collections.Counter)
    by_axis = collections.defaultdict(collections.Counter)
    bad_cross = collections.Counter()
    groups = collections.OrderedDict()
    records = []
    index = 0
    while time.monotonic() - start < budget:
        if args.max_cases and index >= args.max_cases:
            break
        try:
            case = H.build_case(seed, index)
        except Exception as e:  # noqa: BLE001
            print(f"[{index}] cannot build: {e}", file=sys.stderr)
            index += 1
            continue
        remaining = budget - (time.monotonic() - start)
        outcome = H.run_case(case, timeout=max(2.0, min(args.timeout, remaining + 5)))
        cat = outcome.category
        by_style[case.style][cat] += 1
        for t in case.tags:
            by_tag[t][cat] += 1
            if cat not in (H.OK, H.INDISTINGUISHABLE):
                bad_cross[(case.style, t)] += 1
        c = case.cfg
        by_axis[f"layout:{c.layout}"][cat] += 1
        by_axis[f"reduction:{c.reduction}"][cat] += 1
        by_axis[f"loss:{c.loss}/{c.acts[-1]}"][cat] += 1
        by_axis[f"dtype:{c.dtype}"][cat] += 1
        if cat != H.OK:
            rec = H.record(case, outcome)
            rec["index"] = index
            records.append(rec)
            sig = H.signature(case, outcome)
            groups.setdefault(sig, []).append(index)
            if args.verbose:
                print(f"[{index}] {cat}: {case.describe()}\n    {rec['replay']}\n    "
                      f"{(outcome.error or ', '.join(outcome.failing))[:200]}", flush=True)
        index += 1
    elapsed = time.monotonic() - start

    out = [f"gradcheck network harness: seed {seed}, {index} checks in {elapsed:.0f} s", "",
           table("style", by_style), "", table("regime", by_tag), "", table("axis", by_axis), "",
           cross(bad_cross), "", "distinct outcomes that are not ok (count, first case):"]
    for sig, idx in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        out.append(f"  {len(idx):>5}  {sig}\n         python -m tests.harness replay "
                   f"--seed {seed} --index {idx[0]}")
    text = "\n".join(out)
    print(text)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"networks-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({
        "command": " ".join(["python -m tests.harness"] + sys.argv[1:]),
        "seed": seed, "seconds": round(elapsed, 1), "checks": index,
        "by_style": {k: dict(v) for k, v in by_style.items()},
        "by_regime": {k: dict(v) for k, v in by_tag.items()},
        "by_axis": {k: dict(v) for k, v in by_axis.items()},
        "groups": {sig: idx for sig, idx in groups.items()},
        "cases": records,
        "summary": text,
    }, indent=1, default=str))
    print(f"\nwrote {path}")
    return 0


def cmd_replay(args):
    case = H.build_case(args.seed, args.index, style=args.style, tag=args.tag)
    lead = "# " if args.snippet else ""
    print(f"{lead}case: {case.describe()}")
    if case.undefined:
        print(f"{lead}undefined regime: {'; '.join(case.undefined)}")
    if args.snippet:
        print(H.snippet(case))
        return 0
    outcome = H.run_case(case, timeout=args.timeout)
    print(f"outcome: {outcome.category} ({outcome.seconds:.3f} s)")
    if outcome.error:
        print(outcome.error)
    if outcome.report:
        print(outcome.report)
    elif outcome.category == H.OK:
        from gradcheck import gradcheck
        impl, kind, spec = case.impl()
        x, y = case.batch()
        try:
            print(gradcheck(case.network(), x, y, impl=impl, impl_kind=kind, impl_spec=spec))
        except Exception as e:  # noqa: BLE001
            print(f"{type(e).__name__}: {e}")
    if outcome.evidence:
        print(json.dumps(outcome.evidence, indent=1))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tests.harness")
    sub = p.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("networks", help="run the network harness")
    n.add_argument("--seconds", type=float, default=240)
    n.add_argument("--seed", type=int, default=0)
    n.add_argument("--timeout", type=float, default=20.0, help="per-check time cap (s)")
    n.add_argument("--max-cases", type=int, default=0)
    n.add_argument("--out", default=str(H.ROOT / "results" / "harness"))
    n.add_argument("-v", "--verbose", action="store_true")
    r = sub.add_parser("replay", help="rebuild and rerun one case")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--index", type=int, required=True)
    r.add_argument("--style")
    r.add_argument("--tag")
    r.add_argument("--timeout", type=float, default=60.0)
    r.add_argument("--snippet", action="store_true", help="print a self-contained snippet")
    sub.add_parser("list", help="list the styles, wrong implementations and regimes")
    args = p.parse_args(argv)
    if args.cmd == "networks":
        return cmd_networks(args)
    if args.cmd == "replay":
        return cmd_replay(args)
    print("correct styles:", ", ".join(H.STYLES))
    print("wrong:", ", ".join(H.WRONGS))
    print("regimes (correct):", ", ".join(H.REGIMES))
    print("regimes (wrong):", ", ".join(H.WRONG_REGIMES))
    return 0


