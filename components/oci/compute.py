"""OCI GPU capacity: a compute capacity reservation, an OKE cluster with GPU node pools, or
instance pools of GPU shapes when the cluster has no orchestrator. GPU nodes of a cluster share
one compute cluster (their RDMA network) in the site's first availability domain."""

from __future__ import annotations

import base64
from typing import Optional

import pulumi
import pulumi_oci as oci

from capacity.components.base import ClusterContext, Component
from capacity.components.naming import fit
from capacity.components.oci.network import DISPLAY_NAME, SiteNetwork
from capacity.components.pools import PoolSpec, shared_pool

KUBERNETES_VERSION = "v1.33.1"
SYSTEM_SHAPE = "VM.Standard.E5.Flex"
SYSTEM_SHAPE_CONFIG = {"ocpus": 4, "memory_in_gbs": 32}
SYSTEM_NODES = 2
NODE_POOL_NAME = 63
BOOT_VOLUME_GB = "500"
# Oracle Cloud Agent plugins that set up the RDMA network of bare-metal GPU shapes.
RDMA_PLUGINS = ("Compute HPC RDMA Authentication", "Compute HPC RDMA Auto-Configuration")
# OKE's own start-up script for managed nodes, run with the pool's taints (node pools have no taint field).
OKE_INIT = ('curl --fail -H "Authorization: Bearer Oracle" -L0 '
            "http://169.254.169.254/opc/v2/instance/metadata/oke_init_script | base64 --decode >/var/run/oke-init.sh")


def _arm(ctx: ClusterContext) -> bool:
    """Grace-based (GB200...) shapes are arm64."""
    return ctx.instance_type.accelerator.upper().startswith("GB")


def _name(ctx: ClusterContext, *parts: str) -> str:
    return fit(ctx.site.plan, ctx.name, *parts, limit=DISPLAY_NAME)


def _image(found: list[tuple[str, str]], gpu: bool, arm: bool, needle: str, what: str) -> str:
    """The first (newest) image whose name says GPU or not, arm64 or not, and holds `needle`."""
    for name, image_id in found:
        if ("GPU" in name) == gpu and ("aarch64" in name) == arm and needle in name:
            return image_id
    raise pulumi.RunError(f"no {what} image found ({'GPU' if gpu else 'plain'}, {'arm64' if arm else 'x86_64'}"
                          f"{', ' + needle if needle else ''}). To fix: check that the region offers it "
                          "(`oci compute image list`) or change the shape.")


class Reservation(Component):
    """A compute capacity reservation of the cluster's shape, in the site's first availability domain."""

    KIND = "Reservation"

    reservation_id: pulumi.Output[str]

    def __init__(self, ctx: ClusterContext, network: SiteNetwork) -> None:
        super().__init__("oci", ctx.name, ctx.opts)
        plan = ctx.cluster.reservation
        if plan.end or (plan.start and plan.start > ctx.day):
            dates = f"{plan.start or 'now'} to {plan.end or 'open-ended'}"
            pulumi.log.warn(f"cluster '{ctx.name}': an OCI capacity reservation has no dates; it is held (and its "
                            f"unused capacity billed) from the deploy that creates it (on its buy day) to the first deploy on "
                            f"or after its end, not {dates}.",
                            resource=self)
        held = oci.core.ComputeCapacityReservation(
            f"{ctx.name}-reservation", compartment_id=ctx.site.site.compartment,
            availability_domain=network.availability_domain, display_name=_name(ctx, "reservation"),
            is_default_reservation=False,
            instance_reservation_configs=[{"instance_shape": ctx.instance_type.instance_type,
                                           "reserved_count": str(ctx.cluster.nodes)}],
            freeform_tags=ctx.tags, opts=self.child())
        self.reservation_id = held.id
        self.register_outputs({"reservation_id": held.id, "reserved_count": ctx.cluster.nodes})


class _GpuNodes(Component):
    """What both kinds of cluster share: the RDMA compute cluster and where GPU nodes go."""

    KIND = "GpuCluster"

    cluster_id: pulumi.Output[str]
    shared_pool_id: pulumi.Output[str]

    def __init__(self, ctx: ClusterContext, network: SiteNetwork, reservation: Optional[Reservation]) -> None:
        super().__init__("oci", ctx.name, ctx.opts)
        self.ctx, self.network = ctx, network
        self.compartment = ctx.site.site.compartment
        self.reservation_id = reservation.reservation_id if reservation else None
        self.fabric = oci.core.ComputeCluster(
            f"{ctx.name}-rdma", compartment_id=self.compartment, availability_domain=network.availability_domain,
            display_name=_name(ctx, "rdma"), freeform_tags=ctx.tags, opts=self.child())


class KubernetesCluster(_GpuNodes):
    """OKE: an enhanced cluster, a small system node pool, and GPU node pools (shared and per lease).
    `kubeconfig`, for the Kubernetes provider, is OKE's own (tokens from the OCI CLI), secret."""

    kubeconfig: pulumi.Output[str]

    def __init__(self, ctx: ClusterContext, network: SiteNetwork, reservation: Optional[Reservation]) -> None:
        super().__init__(ctx, network, reservation)
        self.oke = oci.containerengine.Cluster(
            f"{ctx.name}-oke", compartment_id=self.compartment, name=_name(ctx), vcn_id=network.network_id,
            kubernetes_version=KUBERNETES_VERSION, type="ENHANCED_CLUSTER",
            cluster_pod_network_options=[{"cni_type": "FLANNEL_OVERLAY"}],
            endpoint_config={"subnet_id": network.public_subnet_id, "is_public_ip_enabled": True,
                             "nsg_ids": [network.endpoint_nsg_id]},
            options={"service_lb_subnet_ids": [network.public_subnet_id]},
            freeform_tags=ctx.tags, opts=self.child())
        options = oci.containerengine.get_node_pool_option_output(
            node_pool_option_id="all", compartment_id=self.compartment, node_pool_k8s_version=KUBERNETES_VERSION,
            opts=pulumi.InvokeOutputOptions(parent=self))
        found = options.sources.apply(lambda sources: [(s.source_name, s.image_id) for s in sources])
        oke = f"OKE-{KUBERNETES_VERSION.lstrip('v')}"
        self.gpu_image = found.apply(lambda f: _image(f, gpu=True, arm=_arm(ctx), needle=oke, what="OKE node"))
        system_image = found.apply(lambda f: _image(f, gpu=False, arm=False, needle=oke, what="OKE node"))
        oci.containerengine.NodePool(
            f"{ctx.name}-system", cluster_id=self.oke.id, compartment_id=self.compartment, name="system",
            kubernetes_version=KUBERNETES_VERSION, node_shape=SYSTEM_SHAPE, node_shape_config=SYSTEM_SHAPE_CONFIG,
            node_source_details={"source_type": "IMAGE", "image_id": system_image},
            node_config_details={"size": SYSTEM_NODES, "nsg_ids": [network.node_nsg_id], "freeform_tags": ctx.tags,
                                 "placement_configs": [{"availability_domain": network.availability_domain,
                                                        "subnet_id": network.node_subnet_id}]},
            initial_node_labels=[{"key": "capacity.dev/pool", "value": "system"}],
            freeform_tags=ctx.tags, opts=self.child())
        shared = self.pool(shared_pool(ctx), parent=self)
        self.cluster_id = self.oke.id
        self.shared_pool_id = shared.id
        self.kubeconfig = pulumi.Output.secret(oci.containerengine.get_cluster_kube_config_output(
            cluster_id=self.oke.id, token_version="2.0.0", opts=pulumi.InvokeOutputOptions(parent=self)).content)
        self.register_outputs({"cluster_id": self.oke.id, "shared_pool_id": shared.id,
                               "shared_nodes": ctx.shared_nodes, "compute_cluster_id": self.fabric.id})

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> oci.containerengine.NodePool:
        network = self.network
        placement = {"availability_domain": network.availability_domain, "subnet_id": network.node_subnet_id,
                     "capacity_reservation_id": self.reservation_id}
        return oci.containerengine.NodePool(
            f"{self.ctx.name}-{spec.name}", cluster_id=self.oke.id, compartment_id=self.compartment,
            name=fit(spec.name, limit=NODE_POOL_NAME), kubernetes_version=KUBERNETES_VERSION,
            node_shape=self.ctx.instance_type.instance_type,
            node_source_details={"source_type": "IMAGE", "image_id": self.gpu_image,
                                 "boot_volume_size_in_gbs": BOOT_VOLUME_GB},
            node_config_details={"size": spec.nodes, "placement_configs": [placement],
                                 "nsg_ids": [network.node_nsg_id], "compute_cluster_id": self.fabric.id,
                                 "freeform_tags": spec.tags},
            initial_node_labels=[{"key": key, "value": value} for key, value in sorted(spec.labels.items())],
            node_metadata={"user_data": _cloud_init(spec.taints)},
            freeform_tags=spec.tags, opts=pulumi.ResourceOptions(parent=parent))


def _cloud_init(taints: tuple[tuple[str, str], ...]) -> str:
    """Base64 user data: OKE's start-up script, registering the node with its pool's taints."""
    registered = ",".join(f"{key}={value}:NoSchedule" for key, value in taints)
    start = f'bash /var/run/oke-init.sh --kubelet-extra-args "--register-with-taints={registered}"'
    script = f"#!/bin/bash\n{OKE_INIT}\n{start}\n"
    return base64.b64encode(script.encode()).decode()


class InstanceCluster(_GpuNodes):
    """No orchestrator: the GPU instances themselves, an instance pool (and its instance
    configuration, which carries the pool's tags) per pool."""

    def __init__(self, ctx: ClusterContext, network: SiteNetwork, reservation: Optional[Reservation]) -> None:
        super().__init__(ctx, network, reservation)
        images = oci.core.get_images_output(
            compartment_id=self.compartment, shape=ctx.instance_type.instance_type, operating_system="Oracle Linux",
            sort_by="TIMECREATED", sort_order="DESC", opts=pulumi.InvokeOutputOptions(parent=self))
        self.image = images.images.apply(lambda found: _image(
            [(i.display_name, i.id) for i in found], gpu=True, arm=_arm(ctx), needle="",
            what=f"Oracle Linux for {ctx.instance_type.instance_type}"))
        shared = self.pool(shared_pool(ctx), parent=self)
        self.cluster_id = self.fabric.id
        self.shared_pool_id = shared.id
        self.register_outputs({"cluster_id": self.fabric.id, "shared_pool_id": shared.id,
                               "shared_nodes": ctx.shared_nodes})

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> oci.core.InstancePool:
        ctx, network = self.ctx, self.network
        tags = {**spec.tags, "capacity-pool": spec.name}
        launch = {
            "compartment_id": self.compartment, "availability_domain": network.availability_domain,
            "shape": ctx.instance_type.instance_type, "capacity_reservation_id": self.reservation_id,
            "source_details": {"source_type": "image", "image_id": self.image,
                               "boot_volume_size_in_gbs": BOOT_VOLUME_GB},
            "create_vnic_details": {"subnet_id": network.node_subnet_id, "nsg_ids": [network.node_nsg_id],
                                    "assign_public_ip": False},
            "agent_config": {"plugins_configs": [{"name": p, "desired_state": "ENABLED"} for p in RDMA_PLUGINS]},
            "freeform_tags": tags,
        }
        options = pulumi.ResourceOptions(parent=parent)
        configuration = oci.core.InstanceConfiguration(
            f"{ctx.name}-{spec.name}", compartment_id=self.compartment, display_name=_name(ctx, spec.name),
            instance_details={"instance_type": "compute", "launch_details": launch}, freeform_tags=tags, opts=options)
        return oci.core.InstancePool(
            f"{ctx.name}-{spec.name}", compartment_id=self.compartment, display_name=_name(ctx, spec.name),
            instance_configuration_id=configuration.id, size=spec.nodes,
            placement_configurations=[{"availability_domain": network.availability_domain,
                                       "primary_vnic_subnets": {"subnet_id": network.node_subnet_id},
                                       "compute_cluster_id": self.fabric.id}],
            freeform_tags=tags, opts=options)
