"""Time `capacity diff` of two large plans against validating both, in one run.

    python benchmarks/bench_diff.py [--sites 100 --clusters 1000 --leases 10000 --repeat 3]

BASE is genplan's plan; HEAD differs in 1,000 of its leases (every tenth): a third removed, a third
shortened, a third repriced. The target (issue 5): the diff takes at most 2x the time of validating
both plans. Prints a markdown table for docs/benchmarks.md; each figure is the best of --repeat.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]
from genplan import generate  # noqa: E402
from timing import best  # noqa: E402

# Runs one command of the review CLI (validate from capacity.cli.plan, diff from capacity.cli.review) in a fresh process.
CLI = ("import sys, typer\nfrom capacity.cli import plan, review\n"
       "app = typer.Typer(add_completion=False)\n"
       "app.command()(plan.validate)\napp.command()(review.diff)\napp(sys.argv[1:])\n")


def edit_leases(text: str, every: int = 10) -> tuple[str, int]:
    """HEAD: of every `every`-th lease, a third removed, a third shortened, a third repriced."""
    changed = 0

    def edit(match: re.Match) -> str:
        nonlocal changed
        index, block = int(match.group(1)), match.group(0)
        if index % every:
            return block
        changed += 1
        kind = (index // every) % 3
        if kind == 0:
            return ""
        if kind == 1:
            start = dt.date.fromisoformat(re.search(r"start: (\S+)", block).group(1))
            end = dt.date.fromisoformat(re.search(r"end: (\S+)", block).group(1))
            return block.replace(f"end: {end}", f"end: {start + (end - start) // 2}")
        return re.sub(r"price_per_gpu_hour: \S+", "price_per_gpu_hour: 1.23", block)

    return re.sub(r"  lease-(\d+):\n(?:    .*\n)+", edit, text), changed


def run_cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-c", CLI, *args], cwd=ROOT, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {done.stdout.decode()[-500:]} {done.stderr.decode()[-500:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--leases", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from capacity.review import markdown as render_diff
    from capacity.review.diff import diff_plans
    from capacity.plan.loading import load_plan

    base_text = generate(args.sites, args.clusters, args.leases, seed=1)
    head_text, changed = edit_leases(base_text)
    as_of = dt.date(2027, 3, 1)
    with tempfile.TemporaryDirectory() as tmp:
        base, head = Path(tmp) / "base.yaml", Path(tmp) / "head.yaml"
        base.write_text(base_text)
        head.write_text(head_text)

        def validate_both():
            load_plan(base), load_plan(head)

        def diff_markdown():
            result = diff_plans(load_plan(base), load_plan(head), as_of, str(base), str(head))
            return render_diff.markdown(result)

        def diff_json():
            return diff_plans(load_plan(base), load_plan(head), as_of, str(base), str(head)).as_json()

        a, b = load_plan(base), load_plan(head)
        compare_only = best(lambda: diff_plans(a, b, as_of), args.repeat)
        result = diff_plans(a, b, as_of)
        validate = best(validate_both, args.repeat)
        markdown = best(diff_markdown, args.repeat)
        as_json = best(diff_json, args.repeat)
        cli_validate = best(lambda: (run_cli("validate", str(base)), run_cli("validate", str(head))), args.repeat)
        cli_diff = best(lambda: run_cli("diff", str(base), str(head), "--format", "markdown",
                                        "--as-of", as_of.isoformat()), args.repeat)
        size = base.stat().st_size

    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}")
    print(f"Plans: {args.sites} sites, {args.clusters} clusters, {args.leases} leases each ({size / 1e6:.1f} MB); "
          f"HEAD differs in {changed} leases: {len(result.changes)} changes, {len(result.risks)} risks; "
          f"best of {args.repeat}\n")
    print("| what | seconds | vs validating both |")
    print("| --- | ---: | ---: |")
    print(f"| validate BASE and HEAD, in process (baseline) | {validate:.3f} | 1.00x |")
    print(f"| diff, in process: load both, compare, markdown | {markdown:.3f} | {markdown / validate:.2f}x |")
    print(f"| diff, in process: load both, compare, JSON | {as_json:.3f} | {as_json / validate:.2f}x |")
    print(f"| the comparison alone (plans loaded) | {compare_only:.3f} | {compare_only / validate:.2f}x |")
    print(f"| `capacity validate` BASE, then HEAD (two processes) | {cli_validate:.3f} | 1.00x |")
    print(f"| `capacity diff BASE HEAD --format markdown` (one process) | {cli_diff:.3f} | "
          f"{cli_diff / cli_validate:.2f}x |")
    print(f"\nTarget: diff at most 2x validating both: {'met' if markdown <= 2 * validate else 'NOT met'} "
          f"in process, {'met' if cli_diff <= 2 * cli_validate else 'NOT met'} as commands.")


if __name__ == "__main__":
    main()
