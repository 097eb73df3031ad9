"""Start-up time of the commands that must stay light, against the same commands at a baseline git
ref (default: main), in one run.

    python benchmarks/bench_startup.py [--base main] [--repeat 10]

Each command runs as a new process, from this checkout and from the baseline's files (extracted
with `git archive`), with this venv's Python. Prints a markdown table for docs/benchmarks.md;
each figure is the best of --repeat runs. A command the baseline lacks shows "-".
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import best  # noqa: E402

ROOT = Path(__file__).parents[1]
SCRIPT = "import sys; sys.argv[0] = 'capacity'; from cli.main import run; run()"
COMPLETE = {"_CAPACITY_COMPLETE": "complete_bash", "COMP_WORDS": "capacity inventory i", "COMP_CWORD": "2"}
COMMANDS = [  # (label, arguments, extra environment, the baseline has it)
    ("`capacity --help`", ["--help"], {}, True),
    ("`capacity validate --help`", ["validate", "--help"], {}, True),
    ("`capacity --version`", ["--version"], {}, False),
    ("completion of `capacity inventory i`", [], COMPLETE, False),
    ("`capacity catalog`", ["catalog"], {}, True),
    ("`capacity validate stacks/quickstart.yaml`", ["validate", "stacks/quickstart.yaml"], {}, True),
]


def timed(tree: Path, args: list[str], env: dict, repeat: int) -> float:
    def once() -> None:
        subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=tree, env={**os.environ, **env},
                       capture_output=True, check=False)

    return best(once, repeat)


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
        python = best(lambda: subprocess.run([sys.executable, "-c", "pass"], check=False), args.repeat)
        print(f"{platform.node()} {platform.python_version()}, load {os.getloadavg()[0]:.1f}; "
              f"best of {args.repeat}; baseline {args.base} ({base_sha}), this checkout {head.strip()}\n")
        print(f"| command | baseline s | this checkout s |\n| --- | ---: | ---: |\n"
              f"| `python -c pass` | {python:.3f} | {python:.3f} |")
        for label, argv, env, in_base in COMMANDS:
            before = f"{timed(base, argv, env, args.repeat):.3f}" if in_base else "-"
            print(f"| {label} | {before} | {timed(ROOT, argv, env, args.repeat):.3f} |")


if __name__ == "__main__":
    main()
