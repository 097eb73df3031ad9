"""How capacity reaches a Slurm cluster: a connection given outside the plan (commands.py says
what it holds): the secret stack config `capacity:slurm-<cluster>`, else the environment variable
`CAPACITY_SLURM_<CLUSTER>` (upper case, '-' as '_'), <cluster> being the plan's cluster name.
Read when the program runs."""

from __future__ import annotations

import os
from typing import Optional

CONFIG_KEY = "slurm-{cluster}"
PLACEHOLDER = "[the connection, given at deploy]"


def env_var(cluster: str) -> str:
    return "CAPACITY_SLURM_" + cluster.upper().replace("-", "_")


def given_text(cluster: str) -> Optional[str]:
    """The connection in clear (for the lease guard's look at the queue), or None."""
    from pulumi.runtime import get_config

    return get_config(f"capacity:{CONFIG_KEY.format(cluster=cluster)}") or os.environ.get(env_var(cluster)) or None


def given_connection(cluster: str):
    """The connection as a secret Output; a placeholder when rendering offline (`capacity
    resources`, under Pulumi's mocks); None when none is given."""
    import pulumi
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    text = given_text(cluster)
    if text is None and isinstance(get_monitor(), MockMonitor):
        text = PLACEHOLDER
    return pulumi.Output.secret(text) if text is not None else None


def queued_jobs(cluster: str, account: str, qos: str) -> int:
    """Jobs of `account` under `qos` in the cluster's queue now (pending, running, suspended,
    completing). SlurmError when the queue cannot be read (no connection given, Slurm down)."""
    from capacity.components.slurm.commands import Slurm, SlurmError
    from capacity.components.slurm.objects import active_jobs

    text = given_text(cluster)
    if text is None:
        raise SlurmError(f"no connection to cluster '{cluster}' is given ({env_var(cluster)})")
    jobs = active_jobs(Slurm(text))
    return sum(1 for job in jobs if job["account"] == account and job["qos"] == qos)
