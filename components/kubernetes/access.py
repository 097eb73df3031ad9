"""How capacity reaches a cluster's Kubernetes API: a kubeconfig per cluster.

- Cloud clusters (EKS, AKS, GKE, OKE): their GpuCluster component has a `kubeconfig` output, made
  from the cluster's endpoint and credentials (see `exec_kubeconfig`).
- An owned site's cluster: a kubeconfig the operator gives, never in the plan: the secret stack
  config `capacity:kubeconfig-<cluster>`, else the file named by the environment variable
  `CAPACITY_KUBECONFIG_<CLUSTER>` (upper case, '-' as '_'). Read when the program runs.
"""

from __future__ import annotations

import json
import os
from typing import Optional

import pulumi

CONFIG_KEY = "kubeconfig-{cluster}"


def env_var(cluster: str) -> str:
    return "CAPACITY_KUBECONFIG_" + cluster.upper().replace("-", "_")


def given_kubeconfig(cluster: str) -> Optional[pulumi.Output[str]]:
    """The operator's kubeconfig for an owned cluster (secret), or None when none is given."""
    configured = pulumi.Config("capacity").get_secret(CONFIG_KEY.format(cluster=cluster))
    if configured is not None:
        return configured
    path = os.environ.get(env_var(cluster))
    if not path:
        return None
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise pulumi.RunError(f"cluster '{cluster}': cannot read the kubeconfig named by {env_var(cluster)} "
                              f"({exc.strerror}). To fix: point it at a readable kubeconfig file.") from None
    return pulumi.Output.secret(text)


def exec_kubeconfig(cluster: str, server: pulumi.Input[str], ca_data: pulumi.Input[str], command: str,
                    args: list[pulumi.Input[str]]) -> pulumi.Output[str]:
    """A kubeconfig (JSON, which is YAML) whose user gets short-lived tokens from `command`, as the
    clouds' own tools write them (`aws eks get-token`, `gke-gcloud-auth-plugin`). Secret."""

    def document(values: list) -> str:
        url, ca, *resolved = values
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": cluster,
            "clusters": [{"name": cluster, "cluster": {"server": url, "certificate-authority-data": ca}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
            "users": [{"name": cluster, "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": command, "args": resolved,
                "interactiveMode": "Never"}}}],
        })

    return pulumi.Output.secret(pulumi.Output.all(server, ca_data, *args).apply(document))
