"""Leases enforced inside a Kubernetes cluster, through the Pulumi Kubernetes provider.

For each lease not yet ended on a cluster with `orchestrator: kubernetes` (a LeaseTenancy,
parented to the lease's LeasePool, so the lease guard of `capacity up` covers it):
- a Namespace labelled with plan, cluster, lease and tenant;
- a RoleBinding of the tenant's groups to the `admin` ClusterRole, in that namespace only;
- a ResourceQuota of `requests.nvidia.com/gpu` and `limits.nvidia.com/gpu` = the lease's GPUs
  while it runs, 0 before it starts;
- a NetworkPolicy admitting traffic only from the tenant's own namespaces and from namespaces of
  no tenant (the cluster's own services), so none from other tenants';
- with Kueue (the cluster's, v0.17 or newer: API kueue.x-k8s.io/v1beta2): a ClusterQueue whose
  nominal quota of nvidia.com/gpu is the quota above, on a ResourceFlavor for the lease's nodes
  (a dedicated lease's own pool, with its labels and tolerations; else the cluster's shared pool),
  and a LocalQueue in the namespace. Shared-quota leases of a cluster share one cohort, each with
  a borrowing limit of 0: none runs beyond its own quota.
After its end a lease is no longer declared, so `capacity up` deletes its objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from capacity.components.base import ClusterContext, Component, LeaseContext
from capacity.components.kubernetes.access import env_var, given_kubeconfig
from capacity.components.naming import fit
from capacity.components.pools import GPU_TAINT, LABEL

GPU = "nvidia.com/gpu"
QUOTA_KEYS = (f"requests.{GPU}", f"limits.{GPU}")
ADMIN_ROLE = "admin"
KUEUE_API = "kueue.x-k8s.io/v1beta2"
KUEUE_VERSION = "v0.17.0"
"""The Kueue release the objects are tested against (its CRDs, in tests/integration/tenancy)."""
NAME_LIMIT = 63
TENANT_LABEL = f"{LABEL}/tenant"
# The plan owns these objects: a field someone changed by hand (another field manager) is taken
# back by the next `up` instead of failing it with a server-side apply conflict.
OWNED = {"pulumi.com/patchForce": "true"}


def namespace_name(lease: str) -> str:
    """`lease-<lease>`: never a system namespace (`default`, `kube-system`) whatever the lease's name."""
    return fit("lease", lease, limit=NAME_LIMIT)


def cohort_name(cluster: str) -> str:
    return fit(cluster, "shared", limit=NAME_LIMIT)


@dataclass(frozen=True)
class Tenancy:
    """What one lease gets inside the cluster, as the program exports it."""

    namespace: str
    gpu_quota: int


class ClusterTenancy(Component):
    """The cluster's Kubernetes API (a provider from the cluster's kubeconfig) and the shared pool's
    ResourceFlavor that its shared-quota leases' queues draw on."""

    KIND = "ClusterTenancy"

    def __init__(self, ctx: ClusterContext, kubeconfig: pulumi.Input[str], parent: Component) -> None:
        super().__init__("kubernetes", ctx.name, pulumi.ResourceOptions(parent=parent))
        self.ctx = ctx
        self.provider = k8s.Provider(f"{ctx.name}-k8s", kubeconfig=kubeconfig,
                                     opts=pulumi.ResourceOptions(parent=self))
        self.kueue = ctx.cluster.kueue
        self.shared_flavor: Optional[str] = None
        if self.kueue and ctx.quotas:
            self.shared_flavor = fit(ctx.name, "shared", limit=NAME_LIMIT)
            _flavor(f"{ctx.name}-shared", self.shared_flavor,
                    {f"{LABEL}/pool": "shared", f"{LABEL}/cluster": ctx.name}, [GPU_TAINT], self.options(self))
        self.register_outputs({"kueue": self.kueue, "shared_flavor": self.shared_flavor})

    def options(self, parent: pulumi.Resource, **more) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **more)


class LeaseTenancy(Component):
    """One lease's namespace, access, quota, network policy and queues."""

    KIND = "LeaseTenancy"

    namespace: pulumi.Output[str]

    def __init__(self, ctx: LeaseContext, cluster: ClusterTenancy, groups: tuple[str, ...], parent: Component) -> None:
        super().__init__("kubernetes", ctx.name, pulumi.ResourceOptions(parent=parent))
        lease, name = ctx.lease, ctx.name
        self.gpu_quota = lease.gpus_at(ctx.cluster.day) if ctx.in_force else 0
        self.namespace_name = namespace_name(name)
        labels = {f"{LABEL}/plan": ctx.cluster.site.plan, f"{LABEL}/cluster": ctx.cluster.name,
                  f"{LABEL}/lease": name, TENANT_LABEL: lease.tenant}
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata={"name": self.namespace_name, "labels": labels, "annotations": OWNED},
            opts=cluster.options(self))
        within = cluster.options(self, depends_on=[namespace])
        meta = {"namespace": namespace.metadata.name, "labels": labels, "annotations": OWNED}
        if groups:
            k8s.rbac.v1.RoleBinding(
                f"{name}-admins", metadata={**meta, "name": "tenant-admins"},
                role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ADMIN_ROLE},
                subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}
                          for group in groups],
                opts=within)
        k8s.core.v1.ResourceQuota(
            f"{name}-gpus", metadata={**meta, "name": "gpus"},
            spec={"hard": {key: str(self.gpu_quota) for key in QUOTA_KEYS}}, opts=within)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-isolation", metadata={**meta, "name": "tenant-isolation"},
            spec={"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [
                {"namespaceSelector": {"matchLabels": {TENANT_LABEL: lease.tenant}}},
                {"namespaceSelector": {"matchExpressions": [{"key": TENANT_LABEL, "operator": "DoesNotExist"}]}},
            ]}]},
            opts=within)
        if cluster.kueue:
            self._queues(ctx, cluster, meta, within)
        self.namespace = namespace.metadata.name
        self.register_outputs({"namespace": self.namespace, "gpu_quota": self.gpu_quota, "tenant": lease.tenant})

    def _queues(self, ctx: LeaseContext, cluster: ClusterTenancy, meta: dict, within: pulumi.ResourceOptions) -> None:
        name, lease = ctx.name, ctx.lease
        queue = fit("lease", name, limit=NAME_LIMIT)
        spec: dict = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": self.namespace_name}}}
        quota = {"name": GPU, "nominalQuota": self.gpu_quota}
        if lease.isolation == "shared-quota":
            flavor = cluster.shared_flavor
            spec["cohortName"] = cohort_name(ctx.cluster.name)
            quota["borrowingLimit"] = 0
        else:
            flavor = queue
            _flavor(f"{name}-flavor", flavor, {f"{LABEL}/lease": name},
                    [GPU_TAINT, (TENANT_LABEL, lease.tenant)], cluster.options(self))
        spec["resourceGroups"] = [{"coveredResources": [GPU], "flavors": [{"name": flavor, "resources": [quota]}]}]
        k8s.apiextensions.CustomResource(
            f"{name}-clusterqueue", api_version=KUEUE_API, kind="ClusterQueue",
            metadata={"name": queue, "labels": meta["labels"], "annotations": OWNED}, spec=spec, opts=cluster.options(self))
        k8s.apiextensions.CustomResource(
            f"{name}-localqueue", api_version=KUEUE_API, kind="LocalQueue",
            metadata={**meta, "name": name}, spec={"clusterQueue": queue}, opts=within)


def _flavor(resource: str, name: str, node_labels: dict[str, str], taints: list[tuple[str, str]],
            opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """A Kueue ResourceFlavor: the nodes a queue's workloads land on, and the taints they tolerate."""
    tolerations = [{"key": key, "operator": "Equal", "value": value, "effect": "NoSchedule"} for key, value in taints]
    return k8s.apiextensions.CustomResource(
        resource, api_version=KUEUE_API, kind="ResourceFlavor", metadata={"name": name, "annotations": OWNED},
        spec={"nodeLabels": node_labels, "tolerations": tolerations}, opts=opts)


def enforce(ctx: ClusterContext, cluster: Component, leases: list[tuple[LeaseContext, Component]],
            tenants: dict) -> dict[str, Tenancy]:
    """Declare the tenancy of each lease on the cluster; what each got, by lease name. Nothing
    (with a warning) for an owned cluster no kubeconfig was given for."""
    kubeconfig = getattr(cluster, "kubeconfig", None) or given_kubeconfig(ctx.name)
    if kubeconfig is None:
        pulumi.log.warn(f"cluster '{ctx.name}': no kubeconfig given, so its leases are not enforced inside it "
                        f"(namespaces, GPU quotas, access). To fix: set the secret stack config "
                        f"capacity:kubeconfig-{ctx.name}, or {env_var(ctx.name)} to a kubeconfig file.",
                        resource=cluster)
        return {}
    shared = ClusterTenancy(ctx, kubeconfig, parent=cluster)
    granted: dict[str, Tenancy] = {}
    for lease_ctx, pool in leases:
        tenant = tenants.get(lease_ctx.lease.tenant)
        groups = tuple(tenant.groups) if tenant is not None else ()
        made = LeaseTenancy(lease_ctx, shared, groups, parent=pool)
        granted[lease_ctx.name] = Tenancy(made.namespace_name, made.gpu_quota)
    return granted
