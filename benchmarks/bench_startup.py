"""Start-up time of the commands that must stay light, against the same commands at a baseline git
ref (default: main), in one run.

    python benchmarks/bench_startup.py [--base main] [--repeat 10] [--big]

--big adds `validate` and `diff` of the 10,000-lease plans of bench_diff.py (whole commands).

Each command runs as a new process, from this checkout and from the baseline's files (extracted
with `git archive`), with this venv's Python, the two taking turns so that a busy machine slows
both alike. Each figure is the process's CPU time (user + system), which a shared machine
disturbs less than wall time, the best of --repeat runs. Prints a markdown table for
docs/benchmarks.md. A command the baseline lacks shows "-".
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
# Before the layout of issue 16 the CLI was the top-level package `cli`: baselines that old run it so.
SCRIPT = ("import os, sys; sys.argv[0] = 'capacity'\n"
          "if os.path.isdir('capacity/cli'): from capacity.cli.main import run\n"
          "else: from cli.main import run\n"
          "run()")
COMPLETE = {"_CAPACITY_COMPLETE": "complete_bash", "COMP_WORDS": "capacity inventory i", "COMP_CWORD": "2"}
COMMANDS = [  # (label, arguments, extra environment, the baseline has it)
    ("`capacity --help`", ["--help"], {}, True),
    ("`capacity validate --help`", ["validate", "--help"], {}, True),
    ("`capacity --version`", ["--version"], {}, False),
    ("completion of `capacity inventory i`", [], COMPLETE, False),
    ("`capacity catalog`", ["catalog"], {}, True),
    ("`capacity validate stacks/quickstart.yaml`", ["validate", "stacks/quickstart.yaml"], {}, True),
]


def cpu_seconds(command: list[str], cwd: Path, env: dict | None = None) -> float:
    """User + system CPU time of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, check=False)
    if done.returncode != 0:  # a figure of a failed command would mean nothing
        raise SystemExit(f"failed in {cwd}: {' '.join(command)}\n{done.stderr.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def in_turns(trees: list[Path], args: list[str], env: dict, repeat: int) -> list[float]:
    """The best time of each tree, running them one after the other, `repeat` rounds."""
    rounds = [[cpu_seconds([sys.executable, "-c", SCRIPT, *args], tree, env) for tree in trees]
              for _ in range(repeat)]
    return [min(column) for column in zip(*rounds)]


def big_plans(folder: Path) -> list[tuple[str, list[str], dict, bool]]:
    """Rows for `validate` and `diff` of bench_diff.py's BASE and HEAD plans, written in folder."""
    sys.path[:0] = [str(Path(__file__).parent)]
    from bench_diff import edit_leases
    from genplan import generate

    base = generate(100, 1000, 10000)
    (folder / "big.yaml").write_text(base)
    (folder / "big-head.yaml").write_text(edit_leases(base)[0])
    big, head = str(folder / "big.yaml"), str(folder / "big-head.yaml")
    return [("`capacity validate` of 10,000 leases", ["validate", big], {}, True),
            ("`capacity diff` of two 10,000-lease plans (JSON)", ["diff", big, head, "--format", "json"], {}, True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the baseline git ref")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--big", action="store_true", help="also validate and diff the 10,000-lease plans")
    args = parser.parse_args()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    base_sha = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        archive = subprocess.run(["git", "archive", args.base], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        python = min(cpu_seconds([sys.executable, "-c", "pass"], ROOT) for _ in range(args.repeat))
        print(f"{platform.node()} {platform.python_version()}, load {os.getloadavg()[0]:.1f}; "
              f"best of {args.repeat}; baseline {args.base} ({base_sha}), this checkout {head.strip()}\n")
        print(f"| command | baseline, CPU s | this checkout, CPU s |\n| --- | ---: | ---: |\n"
              f"| `python -c pass` | {python:.3f} | {python:.3f} |")
        for label, argv, env, in_base in COMMANDS + (big_plans(base) if args.big else []):
            figures = [f"{t:.3f}" for t in in_turns([base, ROOT] if in_base else [ROOT], argv, env, args.repeat)]
            print(f"| {label} | {' | '.join(figures if in_base else ['-', *figures])} |")


if __name__ == "__main__":
    main()
