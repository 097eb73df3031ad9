"""The two installs of issue 13, point 2: the light core against every cloud, each in a fresh venv.

    python benchmarks/bench_install.py            # pip cache warm (what `pip` already has)
    python benchmarks/bench_install.py --cold     # also with --no-cache-dir: everything downloaded
    python benchmarks/bench_install.py --smoke    # the script runs (the core without its dependencies)

Installs a clean copy of HEAD (`git archive`), not the working tree, so nothing is built in the
checkout. For each case: seconds for `python -m venv` plus `pip install`, the venv's size, its
package count, and whether a cloud SDK got in. The baseline is an empty venv, made in the same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOUD_SDKS = ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "pulumi_oci", "pulumi_kubernetes")


def size_mb(path: Path) -> float:
    """`du -sm`: the disk the venv takes, in MiB."""
    return float(subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def source_copy(into: Path) -> Path:
    archive = into / "src.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), "HEAD"], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    return into / "src"


def measure(name: str, src: Path, work: Path, pip_args: list[str]) -> dict:
    venv = work / name.replace(" ", "-")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if pip_args:
        subprocess.run([str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", *pip_args],
                       cwd=src, check=True)
    seconds = time.perf_counter() - start
    listed = subprocess.run([str(venv / "bin/pip"), "list", "--format=freeze", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True).stdout.split()
    probe = "import importlib.util as u; print(sum(u.find_spec(m) is not None for m in %r))" % (CLOUD_SDKS,)
    sdks = subprocess.run([str(venv / "bin/python"), "-c", probe], capture_output=True, text=True, check=True)
    return {"name": name, "seconds": seconds, "mb": size_mb(venv), "packages": len(listed),
            "sdks": int(sdks.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cold", action="store_true", help="also install with --no-cache-dir")
    parser.add_argument("--smoke", action="store_true",
                        help="the baseline and the core without its dependencies: the script runs, the figures mean nothing")
    args = parser.parse_args()
    cases = [("empty venv (baseline)", []),
             ("core, warm cache", ["-c", "constraints.txt", "."]),
             ("all, warm cache", ["-c", "constraints.txt", ".[all]"])]
    if args.smoke:
        cases = [cases[0], ("core, no dependencies (smoke run)", ["--no-deps", "."])]
    elif args.cold:
        cases += [("core, cold (--no-cache-dir)", ["--no-cache-dir", "-c", "constraints.txt", "."]),
                  ("all, cold (--no-cache-dir)", ["--no-cache-dir", "-c", "constraints.txt", ".[all]"])]
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        work = Path(tmp)
        src = source_copy(work)
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        print("| install | seconds | venv MiB (du -sm) | packages | cloud SDKs |\n| --- | ---: | ---: | ---: | ---: |")
        for name, pip_args in cases:
            row = measure(name, src, work, pip_args)
            print(f"| {row['name']} | {row['seconds']:.1f} | {row['mb']:,.0f} | {row['packages']} | {row['sdks']} |",
                  flush=True)
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
