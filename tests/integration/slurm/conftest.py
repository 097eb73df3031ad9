"""Fixtures for the Slurm tests: a real Slurm cluster with accounting on 127.0.0.1 for the session
(tests/integration/slurm/slurmcluster.py), from Debian's packages (`slurm_installed`, tests/integration/conftest.py).
Without them the tests skip,
unless CI=true or CAPACITY_REQUIRE_ENGINE=1, which make that a failure (`.ci/run` installs them)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def slurm_cluster(slurm_installed):
    """munged, MariaDB, slurmdbd, slurmctld and 4 slurmd of 8 fake GPUs each; stopped after."""
    from tests.integration.slurm.slurmcluster import LocalSlurm

    root = Path(tempfile.mkdtemp(prefix="capacity-slurm-"))  # short: munge's socket path must fit
    root.chmod(0o755)  # the tenants' users read slurm.conf and reach munge's socket
    cluster = LocalSlurm(root, cluster="lab", partition="gpu", nodes=4, gpus_per_node=8)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
