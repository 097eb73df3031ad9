"""Fixtures for the Slurm tests: a real Slurm cluster with accounting on 127.0.0.1 for the session
(tests/integration/slurm/slurmcluster.py), from Debian's packages. Without them the tests skip,
unless CI=true or CAPACITY_REQUIRE_ENGINE=1, which make that a failure (`.ci/run` installs them)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest


def _required() -> bool:
    return os.environ.get("CAPACITY_REQUIRE_ENGINE") == "1" or os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def slurm_cluster():
    """munged, MariaDB, slurmdbd, slurmctld and 4 slurmd of 8 fake GPUs each; stopped after."""
    from tests.integration.slurm.slurmcluster import LocalSlurm, missing_binaries

    missing = missing_binaries()
    if missing:
        message = f"no Slurm here ({', '.join(missing)}); apt-get install slurm-wlm slurmdbd mariadb-server munge"
        if _required():
            pytest.fail(f"CI needs Slurm: {message}")
        pytest.skip(message)
    if os.geteuid() != 0:
        pytest.skip("the Slurm test cluster runs its daemons as root (SlurmUser=root) and jobs as other users")
    root = Path(tempfile.mkdtemp(prefix="capacity-slurm-"))  # short: munge's socket path must fit
    root.chmod(0o755)  # the tenants' users read slurm.conf and reach munge's socket
    cluster = LocalSlurm(root, cluster="lab", partition="gpu", nodes=4, gpus_per_node=8)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
