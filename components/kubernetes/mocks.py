"""Answers for rendering Kubernetes access under Pulumi's mocks (`capacity resources`): the
credential look-ups of the clouds' clusters, whose kubeconfigs the Kubernetes provider takes."""

from __future__ import annotations

import base64
import json

from capacity.components.base import MockAnswers


def _kubeconfig(cluster: str) -> str:
    """A kubeconfig with no credentials in it, for a cluster at a documentation address."""
    return json.dumps({"apiVersion": "v1", "kind": "Config", "current-context": cluster,
                       "clusters": [{"name": cluster, "cluster": {"server": "https://192.0.2.1:6443"}}],
                       "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
                       "users": [{"name": cluster, "user": {}}]})


def _aks_credentials(args: dict) -> dict:
    value = base64.b64encode(_kubeconfig(str(args.get("resourceName"))).encode()).decode()
    return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}


def _oke_kubeconfig(args: dict) -> dict:
    return {"clusterId": args.get("clusterId"), "content": _kubeconfig(str(args.get("clusterId"))),
            "id": str(args.get("clusterId"))}


MOCKS = MockAnswers(invokes={
    "azure-native:containerservice:listManagedClusterUserCredentials": _aks_credentials,
    "oci:ContainerEngine/getClusterKubeConfig:getClusterKubeConfig": _oke_kubeconfig,
})
