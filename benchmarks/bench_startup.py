"""Start-up time of the commands that must stay light, against the same commands at a baseline git
ref (default: main), in one run.

    python benchmarks/bench_startup.py [--base main] [--repeat 10]

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
SCRIPT = "import sys; sys.argv[0] = 'capacity'; from capacity.cli.main import run; run()"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the baseline git ref")
    parser.add_argument("--repeat", type=int, default=10)
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
        for label, argv, env, in_base in COMMANDS:
            figures = [f"{t:.3f}" for t in in_turns([base, ROOT] if in_base else [ROOT], argv, env, args.repeat)]
            print(f"| {label} | {' | '.join(figures if in_base else ['-', *figures])} |")


if __name__ == "__main__":
    main()
