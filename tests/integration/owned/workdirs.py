"""`capacity` as a CI runner runs it: a real process in its own working directory (its own
`.capacity/`), sharing a file backend and the inventory of the test's engine with other runners."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from capacity.inventory import Inventory

from .conftest import ROOT

CAPACITY = str(Path(sys.executable).parent / "capacity")


class Runner:
    def __init__(self, root: Path, name: str, backend: Path):
        self.work = root / name
        self.work.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "PULUMI_BACKEND_URL": backend.as_uri(), "PULUMI_CONFIG_PASSPHRASE": "owned-tests",
                    "CAPACITY_STATE_DIR": str(self.work / ".capacity")}
        for name in ("CAPACITY_FAULT", "CAPACITY_FAULT_FILE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
            self.env.pop(name, None)

    def start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen([CAPACITY, *map(str, args)], cwd=self.work, env={**self.env, **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def run(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
        done = subprocess.run([CAPACITY, *map(str, args)], cwd=self.work, env=self.env, capture_output=True,
                              text=True, timeout=300)
        if expect is not None and done.returncode != expect:
            raise AssertionError(f"capacity {' '.join(map(str, args))} in {self.work.name} exited "
                                 f"{done.returncode}, not {expect}:\n{done.stdout}\n{done.stderr}")
        assert "Traceback" not in done.stdout + done.stderr
        return done

    def audit(self) -> list[dict]:
        done = self.run("inventory", "audit", "--format", "json", expect=None)
        problems = json.loads(done.stdout)["problems"]
        assert done.returncode == (1 if problems else 0), done.stderr
        return problems


def plan_copy(folder: Path, name: str, nodes: int, cluster: str = "train") -> Path:
    """The quickstart plan as stack `name`, its cluster `cluster` of `nodes` nodes, one lease of
    `min(2, nodes)` dedicated nodes running now; its inventory file beside it."""
    import datetime as dt

    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "inventory").mkdir(exist_ok=True)
    shutil.copy(ROOT / "stacks" / "inventory" / "quickstart-inventory.csv", folder / "inventory" / "quickstart-inventory.csv")
    data = yaml.safe_load((ROOT / "stacks" / "quickstart.yaml").read_text())
    today = dt.date.today()
    data["metadata"]["name"] = name
    data["clusters"] = {cluster: {**data["clusters"]["train"], "nodes": nodes}}
    data["leases"] = {f"{name}-lease": {"tenant": "acme-corp", "cluster": cluster, "gpus": 8 * min(2, nodes),
                                        "start": today - dt.timedelta(days=1), "end": today + dt.timedelta(days=90),
                                        "price_per_gpu_hour": 2.6, "isolation": "dedicated-nodes"}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def holders(runner: Runner, site: str = "lab-1") -> Counter:
    """Who holds the site's nodes, in the runner's inventory (its SQLite file, or the shared database)."""
    where = os.environ.get("CAPACITY_INVENTORY_URL") or runner.work / ".capacity" / "inventory" / f"{site}.db"
    with Inventory(where, site) as inv:
        return Counter(n.allocation for n in inv.nodes())


def killed_at(runner: Runner, fault: str, tmp: Path, *args: str, kill_tree, timeout: float = 120) -> str:
    """Run `capacity ARGS` until it reaches the fault point, then kill -9 it and all it started."""
    marker = tmp / f"fault-{time.monotonic_ns()}"
    proc = runner.start(*args, env={"CAPACITY_FAULT": fault, "CAPACITY_FAULT_FILE": str(marker)})
    deadline = time.monotonic() + timeout
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_tree(proc.pid)
    output = proc.communicate()[0]
    assert marker.exists(), f"capacity {' '.join(map(str, args))} never reached {fault}:\n{output}"
    return marker.read_text()
