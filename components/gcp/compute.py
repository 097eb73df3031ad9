"""GCP GPU capacity: compute reservations, GKE with GPU node pools, or instance templates and
managed instance groups when the cluster has no orchestrator."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_gcp as gcp

from capacity.components.base import ClusterContext, Component
from capacity.components.kubernetes.access import exec_kubeconfig
from capacity.components.gcp.network import NAME, SiteNetwork
from capacity.components.naming import fit
from capacity.components import pools
from capacity.components.pools import PoolSpec, shared_pool

GKE_NAME = 40
NODE_POOL_NAME = 40
SYSTEM_MACHINE_TYPE = "e2-standard-4"
DISK_GB = 500
RESERVATION_KEY = "compute.googleapis.com/reservation-name"
# Deep Learning VM image: NVIDIA driver and CUDA preinstalled.
DLVM_IMAGE = "projects/deeplearning-platform-release/global/images/family/common-cu128-ubuntu-2204-nvidia-570"
# The GPU each accelerator-optimized machine family carries (GKE installs the driver for it).
ACCELERATORS = {
    "a2-highgpu": "nvidia-tesla-a100",
    "a2-ultragpu": "nvidia-a100-80gb",
    "a3-highgpu": "nvidia-h100-80gb",
    "a3-megagpu": "nvidia-h100-mega-80gb",
    "a3-ultragpu": "nvidia-h200-141gb",
    "a4-highgpu": "nvidia-b200",
    "a4x-highgpu": "nvidia-gb200",
}


def accelerator(machine_type: str) -> Optional[str]:
    return ACCELERATORS.get(machine_type.rsplit("-", 1)[0])


def _midnight(day) -> str:
    return f"{day.isoformat()}T00:00:00Z"


class Reservation(Component):
    """A specific reservation of the machine type in the site's first zone, used only when named."""

    KIND = "Reservation"

    reservation_id: pulumi.Output[str]
    reservation_name: pulumi.Output[str]

    def __init__(self, ctx: ClusterContext, network: SiteNetwork) -> None:
        super().__init__("gcp", ctx.name, ctx.opts)
        plan = ctx.cluster.reservation
        if plan.start and plan.start > ctx.day:
            pulumi.log.warn(f"cluster '{ctx.name}': a GCP reservation is held (and billed) from its creation, "
                            f"not from its planned start {plan.start}.", resource=self)
        held = gcp.compute.Reservation(
            f"{ctx.name}-reservation", name=fit(ctx.site.plan, ctx.name, limit=NAME), zone=network.zones[0],
            specific_reservation={"count": ctx.cluster.nodes,
                                  "instance_properties": {"machine_type": ctx.instance_type.instance_type}},
            specific_reservation_required=True,
            delete_at_time=_midnight(plan.end) if plan.end else None, opts=self.child())
        self.reservation_id = held.id
        self.reservation_name = held.name
        self.register_outputs({"reservation_id": held.id, "reservation_name": held.name})


def _affinity(reservation: Optional[Reservation]) -> dict:
    """Consume the named reservation only, or any open capacity when the cluster reserves none."""
    if reservation is None:
        return {"consume_reservation_type": "ANY_RESERVATION"}
    return {"consume_reservation_type": "SPECIFIC_RESERVATION", "key": RESERVATION_KEY,
            "values": [reservation.reservation_name]}


class KubernetesCluster(Component):
    """GKE: a regional control plane, a small system pool, and GPU node pools (shared and per lease)."""

    KIND = "GpuCluster"

    cluster_id: pulumi.Output[str]
    shared_pool_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """For the Kubernetes provider: tokens from `gke-gcloud-auth-plugin`, secret."""

    def __init__(self, ctx: ClusterContext, network: SiteNetwork, reservation: Optional[Reservation]) -> None:
        super().__init__("gcp", ctx.name, ctx.opts)
        self.ctx, self.network, self.reservation = ctx, network, reservation
        self.gke = gcp.container.Cluster(
            f"{ctx.name}-gke", name=fit(ctx.site.plan, ctx.name, limit=GKE_NAME), location=network.region,
            network=network.network_id, subnetwork=network.subnetwork_id,
            ip_allocation_policy={"cluster_secondary_range_name": "pods", "services_secondary_range_name": "services"},
            default_max_pods_per_node=32, remove_default_node_pool=True, initial_node_count=1,
            release_channel={"channel": "REGULAR"}, deletion_protection=False, resource_labels=ctx.tags,
            opts=self.child())
        gcp.container.NodePool(
            f"{ctx.name}-system", name="system", cluster=self.gke.name, location=network.region,
            node_locations=network.zones[:1], node_count=2,
            node_config={"machine_type": SYSTEM_MACHINE_TYPE, "labels": {"capacity.dev/pool": "system"},
                         "resource_labels": ctx.tags}, opts=self.child())
        shared = self.pool(shared_pool(ctx), parent=self)
        self.cluster_id = self.gke.id
        self.shared_pool_id = shared.id
        self.kubeconfig = exec_kubeconfig(
            ctx.name, self.gke.endpoint.apply(lambda host: f"https://{host}"),
            self.gke.master_auth.apply(lambda auth: auth.cluster_ca_certificate if auth else ""),
            "gke-gcloud-auth-plugin", [])
        self.register_outputs({"cluster_id": self.gke.id, "shared_pool_id": shared.id,
                               "shared_nodes": ctx.shared_nodes})

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> gcp.container.NodePool:
        entry = self.ctx.instance_type
        gpu = accelerator(entry.instance_type)
        config = {
            "machine_type": entry.instance_type, "disk_size_gb": DISK_GB, "disk_type": "pd-ssd",
            "labels": spec.labels, "resource_labels": spec.tags,
            "taints": [{"key": key, "value": value, "effect": "NO_SCHEDULE"} for key, value in spec.taints],
            "reservation_affinity": _affinity(self.reservation),
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        }
        if gpu:
            config["guest_accelerators"] = [{"type": gpu, "count": entry.gpus,
                                             "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"}}]
        # Compact placement for nodes not placed by a reservation.
        placement = {"type": "COMPACT", "policy_name": self.network.placement_policy_name} if not self.reservation else None
        return gcp.container.NodePool(
            f"{self.ctx.name}-{spec.name}", name=fit(spec.name, limit=NODE_POOL_NAME), cluster=self.gke.name,
            location=self.network.region, node_locations=self.network.zones[:1], node_count=spec.nodes,
            node_config=config, placement_policy=placement, opts=pulumi.ResourceOptions(parent=parent))


class InstanceCluster(pools.InstanceCluster):
    """No orchestrator: zonal managed instance groups of the GPU machine type, each from its own
    instance template (so each pool's instances carry its labels)."""

    PROVIDER = "gcp"

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> gcp.compute.InstanceGroupManager:
        ctx, network, reservation = self.ctx, self.network, self.reservation
        child = pulumi.ResourceOptions(parent=parent)
        if reservation:
            affinity = {"type": "SPECIFIC_RESERVATION",
                        "specific_reservation": {"key": RESERVATION_KEY, "values": [reservation.reservation_name]}}
        else:
            affinity = {"type": "ANY_RESERVATION"}
        template = gcp.compute.InstanceTemplate(
            f"{ctx.name}-{spec.name}", name_prefix=fit(ctx.name, spec.name, limit=NAME - 27) + "-",
            machine_type=ctx.instance_type.instance_type, region=network.region,
            disks=[{"source_image": DLVM_IMAGE, "boot": True, "auto_delete": True, "disk_size_gb": DISK_GB,
                    "disk_type": "pd-ssd"}],
            network_interfaces=[{"subnetwork": network.subnetwork_id}],
            scheduling={"on_host_maintenance": "TERMINATE", "automatic_restart": True},
            reservation_affinity=affinity,
            # Compact placement for instances not placed by a reservation.
            resource_policies=None if reservation else network.placement_policy,
            labels=spec.tags, opts=child)
        return gcp.compute.InstanceGroupManager(
            f"{ctx.name}-{spec.name}", name=fit(ctx.site.plan, ctx.name, spec.name, limit=NAME),
            base_instance_name=fit(ctx.name, spec.name, limit=NAME - 5), zone=network.zones[0],
            versions=[{"instance_template": template.self_link_unique, "name": "gpu"}],
            target_size=spec.nodes, opts=child)
