"""Time `capacity validate` on a large plan against PyYAML's libyaml loader, in one run.

    python benchmarks/bench_validate.py [--sites 100 --clusters 1000 --leases 10000 --repeat 5]

Prints a markdown table for docs/benchmarks.md. Each figure is the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from genplan import generate  # noqa: E402
from timing import best  # noqa: E402

CLOUD_SDKS = ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "pulumi_oci", "pulumi")


def run_cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "capacity.cli.main", *args], check=False, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"capacity {args[0]} failed: {done.stderr.decode()[-500:]}")


def imported_sdks(*args: str) -> list[str]:
    """Cloud SDK modules loaded by one CLI invocation (checked in the same process)."""
    code = ("import sys\nfrom capacity.cli.main import app\n"
            f"try:\n    app({list(args)!r})\nexcept SystemExit:\n    pass\n"
            f"print('SDKS=' + ','.join(m for m in {CLOUD_SDKS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    line = next((line for line in out.splitlines() if line.startswith("SDKS=")), None)
    if line is None:
        raise SystemExit(f"capacity {' '.join(args)} did not run: {out[-500:]}")
    return [m for m in line[5:].split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--leases", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import yaml

    from capacity.plan.loading import load_plan

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(generate(args.sites, args.clusters, args.leases))
        text = path.read_text()
        libyaml = best(lambda: yaml.load(text, Loader=yaml.CSafeLoader), args.repeat)
        validate_inproc = best(lambda: load_plan(path), args.repeat)
        validate_cli = best(lambda: run_cli("validate", str(path)), args.repeat)
        help_cli = best(lambda: run_cli("--help"), args.repeat)
        python_startup = best(lambda: subprocess.run([sys.executable, "-c", "pass"]), args.repeat)
        sdks_help = imported_sdks("--help")
        sdks_validate = imported_sdks("validate", str(path))
        size = path.stat().st_size

    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}")
    print(f"Plan: {args.sites} sites, {args.clusters} clusters, {args.leases} leases ({size / 1e6:.1f} MB); "
          f"best of {args.repeat}\n")
    print("| what | seconds | vs libyaml load |")
    print("| --- | ---: | ---: |")
    print(f"| PyYAML `yaml.load(CSafeLoader)` (baseline) | {libyaml:.3f} | 1.00x |")
    print(f"| `load_plan` in process (parse, model, checks) | {validate_inproc:.3f} | {validate_inproc / libyaml:.2f}x |")
    print(f"| `capacity validate` whole command | {validate_cli:.3f} | {validate_cli / libyaml:.2f}x |")
    print(f"| `capacity --help` | {help_cli:.3f} | (python -c pass: {python_startup:.3f}) |")
    print(f"\nCloud SDK modules imported by --help: {sdks_help or 'none'}; by validate: {sdks_validate or 'none'}")


if __name__ == "__main__":
    main()
