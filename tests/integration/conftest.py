"""Fixtures for the integration tests: a real Kubernetes API server on 127.0.0.1 for the session
(the tenancy tests), or the binaries and kubectl to start one (the tenancy benchmark's smoke run).

Its binaries and the Pulumi Kubernetes provider come from the per-user cache, built once from the
Go module proxy when missing (capacity/engine/kubernetes_bins.py). Without them the engine tests
skip, unless CI=true or CAPACITY_REQUIRE_ENGINE=1, which make that a failure.
"""

from __future__ import annotations

import os

import pytest


def _required() -> bool:
    return os.environ.get("CAPACITY_REQUIRE_ENGINE") == "1" or os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def kubernetes_bins():
    from capacity.errors import EngineError
    from capacity.engine.kubernetes_bins import ensure_kubernetes_bins

    try:
        return ensure_kubernetes_bins(echo=print)
    except EngineError as exc:
        if _required():
            pytest.fail(f"the Kubernetes binaries cannot be had:\n{exc}")
        pytest.skip(f"no Kubernetes binaries here: {exc}")


@pytest.fixture(scope="session")
def kubectl() -> None:
    """kubectl is on PATH: the API server's start applies Kueue's CRDs with it, tests read objects back."""
    from tests.integration.tenancy.apiserver import kubectl_available

    if not kubectl_available():
        if _required():
            pytest.fail("kubectl is not on PATH (the tests apply Kueue's CRDs and read objects back with it)")
        pytest.skip("kubectl is not on PATH")


@pytest.fixture(scope="session")
def kube_api(kubernetes_bins, kubectl, tmp_path_factory):
    """A running etcd + kube-apiserver + kube-controller-manager with Kueue's CRDs; stopped after."""
    from tests.integration.tenancy.apiserver import LocalApiServer

    server = LocalApiServer(kubernetes_bins, tmp_path_factory.mktemp("kube-api")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def slurm_installed() -> None:
    """Debian's Slurm, MariaDB and munge are installed and we are root: what a local Slurm cluster
    (tests/integration/slurm/slurmcluster.py) needs. Skips without, fails in CI."""
    from tests.integration.slurm.slurmcluster import missing_binaries

    missing = missing_binaries()
    if missing:
        message = f"no Slurm here ({', '.join(missing)}); apt-get install slurm-wlm slurmdbd mariadb-server munge"
        if _required():
            pytest.fail(f"CI needs Slurm: {message}")
        pytest.skip(message)
    if os.geteuid() != 0:
        pytest.skip("the Slurm test cluster runs its daemons as root (SlurmUser=root) and jobs as other users")
