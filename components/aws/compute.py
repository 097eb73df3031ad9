"""AWS GPU capacity: capacity reservations or blocks, EKS with GPU node groups, or launch
template + auto scaling groups when the cluster has no orchestrator."""

from __future__ import annotations

import json
from typing import Optional

import pulumi
import pulumi_aws as aws

from capacity.components.aws.network import SiteNetwork
from capacity.components.base import ClusterContext, Component
from capacity.components.kubernetes.access import exec_kubeconfig
from capacity.components.naming import fit
from capacity.components import pools
from capacity.components.pools import PoolSpec, shared_pool

KUBERNETES_VERSION = "1.33"
SYSTEM_INSTANCE_TYPE = "m6i.xlarge"
PLATFORM = "Linux/UNIX"
EKS_CLUSTER_NAME = 100
NODE_GROUP_NAME = 63
IAM_ROLE_NAME = 64
LAUNCH_TEMPLATE_NAME = 128
ROOT_VOLUME_GB = 500


def _midnight(day) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _arm(ctx: ClusterContext) -> bool:
    """Grace-based (GB200...) instances are arm64."""
    return ctx.instance_type.accelerator.upper().startswith("GB")


class Reservation(Component):
    """Capacity held for the cluster: an on-demand capacity reservation, or a capacity block."""

    KIND = "Reservation"

    reservation_id: pulumi.Output[str]
    availability_zone: pulumi.Output[str]

    def __init__(self, ctx: ClusterContext, network: SiteNetwork) -> None:
        super().__init__("aws", ctx.name, ctx.opts)
        plan = ctx.cluster.reservation
        self.block = plan.kind == "capacity-block"
        if self.block:
            offering = aws.ec2.get_capacity_block_offering_output(
                instance_type=ctx.instance_type.instance_type, instance_count=ctx.cluster.nodes,
                capacity_duration_hours=(plan.end - plan.start).days * 24,
                start_date_range=_midnight(plan.start), end_date_range=_midnight(plan.end),
                opts=pulumi.InvokeOutputOptions(parent=self))
            held = aws.ec2.CapacityBlockReservation(
                f"{ctx.name}-block", capacity_block_offering_id=offering.capacity_block_offering_id,
                instance_platform=PLATFORM, tags=ctx.tags, opts=self.child())
            pulumi.log.warn(f"cluster '{ctx.name}': an EC2 Capacity Block cannot be cancelled once purchased; "
                            f"its upfront fee for {ctx.cluster.nodes} x {ctx.instance_type.instance_type} "
                            f"({plan.start} to {plan.end}) is charged when it is created.", resource=self)
        else:
            if plan.start and plan.start > ctx.day:
                pulumi.log.warn(f"cluster '{ctx.name}': an EC2 capacity reservation is held (and billed) from "
                                f"its creation, not from its planned start {plan.start}.", resource=self)
            held = aws.ec2.CapacityReservation(
                f"{ctx.name}-odcr", instance_type=ctx.instance_type.instance_type, instance_platform=PLATFORM,
                availability_zone=network.zones[0], instance_count=ctx.cluster.nodes,
                instance_match_criteria="targeted", placement_group_arn=network.placement_group_arn,
                end_date_type="limited" if plan.end else "unlimited",
                end_date=_midnight(plan.end) if plan.end else None, tags=ctx.tags, opts=self.child())
        self.reservation_id = held.id
        self.availability_zone = held.availability_zone
        self.register_outputs({"reservation_id": held.id, "availability_zone": held.availability_zone})


def _launch_template(name: str, parent: pulumi.Resource, ctx: ClusterContext, network: SiteNetwork,
                     reservation: Optional[Reservation], image_id: Optional[str],
                     tags: dict[str, str]) -> aws.ec2.LaunchTemplate:
    """GPU nodes: EFA on the fabric security group, in the placement group, consuming the
    reservation; instances and volumes carry the pool's tags."""
    entry = ctx.instance_type
    efa = "EFA" in (entry.interconnect or "")
    block = reservation is not None and reservation.block
    options = {}
    if reservation is not None:
        options["capacity_reservation_specification"] = {
            "capacity_reservation_target": {"capacity_reservation_id": reservation.reservation_id}}
    if block:
        options["instance_market_options"] = {"market_type": "capacity-block"}
    else:  # a capacity block is placed by AWS; otherwise keep the nodes in one cluster placement group
        options["placement"] = {"group_name": network.placement_group_name}
    return aws.ec2.LaunchTemplate(
        name, name=fit(ctx.site.plan, name, limit=LAUNCH_TEMPLATE_NAME),
        image_id=image_id,
        instance_type=entry.instance_type if image_id else None,
        network_interfaces=[{"device_index": 0, "network_card_index": 0, "interface_type": "efa" if efa else None,
                             "security_groups": [network.security_group_id], "delete_on_termination": "true"}],
        block_device_mappings=[{"device_name": "/dev/xvda" if image_id is None else "/dev/sda1",
                                "ebs": {"volume_size": ROOT_VOLUME_GB, "volume_type": "gp3",
                                        "delete_on_termination": "true"}}],
        metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 2},
        tag_specifications=[{"resource_type": kind, "tags": tags} for kind in ("instance", "volume")],
        update_default_version=True, tags=tags, opts=pulumi.ResourceOptions(parent=parent), **options)


def _gpu_subnets(network: SiteNetwork, reservation: Optional[Reservation]) -> list[pulumi.Output[str]]:
    """GPU nodes go where their capacity is: a reservation's zone (the site's first), or any of the
    site's zones for a capacity block (AWS picks its zone)."""
    block = reservation is not None and reservation.block
    return network.private_subnet_ids if block else network.private_subnet_ids[:1]


def _role(owner: Component, ctx: ClusterContext, suffix: str, service: str, policies: list[str]) -> aws.iam.Role:
    role = aws.iam.Role(
        f"{ctx.name}-{suffix}", name=fit(ctx.site.plan, ctx.name, suffix, limit=IAM_ROLE_NAME),
        assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}),
        tags=ctx.tags, opts=owner.child())
    for policy in policies:
        aws.iam.RolePolicyAttachment(f"{ctx.name}-{suffix}-{policy}", role=role.name,
                                     policy_arn=f"arn:aws:iam::aws:policy/{policy}", opts=owner.child())
    return role


class KubernetesCluster(Component):
    """EKS: a control plane, a small system node group, and GPU node groups (shared and per lease)."""

    KIND = "GpuCluster"

    cluster_id: pulumi.Output[str]
    shared_pool_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """For the Kubernetes provider: tokens from `aws eks get-token` (the AWS CLI), secret."""

    def __init__(self, ctx: ClusterContext, network: SiteNetwork, reservation: Optional[Reservation]) -> None:
        super().__init__("aws", ctx.name, ctx.opts)
        self.ctx, self.network, self.reservation = ctx, network, reservation
        control = _role(self, ctx, "control", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"])
        self.node_role = _role(self, ctx, "nodes", "ec2.amazonaws.com", [
            "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])
        self.eks = aws.eks.Cluster(
            f"{ctx.name}-eks", name=fit(ctx.site.plan, ctx.name, limit=EKS_CLUSTER_NAME), role_arn=control.arn,
            version=KUBERNETES_VERSION,
            vpc_config={"subnet_ids": network.private_subnet_ids, "security_group_ids": [network.security_group_id],
                        "endpoint_private_access": True, "endpoint_public_access": True},
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            tags=ctx.tags, opts=self.child(depends_on=[control]))
        aws.eks.NodeGroup(
            f"{ctx.name}-system", cluster_name=self.eks.name, node_group_name="system",
            node_role_arn=self.node_role.arn, subnet_ids=network.private_subnet_ids,
            instance_types=[SYSTEM_INSTANCE_TYPE], ami_type="AL2023_x86_64_STANDARD",
            scaling_config={"min_size": 2, "desired_size": 2, "max_size": 3},
            labels={"capacity.dev/pool": "system"}, tags=ctx.tags, opts=self.child())
        shared = self.pool(shared_pool(ctx), parent=self)
        self.cluster_id = self.eks.id
        self.shared_pool_id = shared.id
        self.kubeconfig = exec_kubeconfig(
            ctx.name, self.eks.endpoint, self.eks.certificate_authority.apply(lambda ca: ca.data if ca else ""),
            "aws", ["eks", "get-token", "--output", "json", "--cluster-name", self.eks.name,
                    "--region", ctx.site.site.region])
        self.register_outputs({"cluster_id": self.eks.id, "cluster_name": self.eks.name,
                               "shared_pool_id": shared.id, "shared_nodes": ctx.shared_nodes})

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> aws.eks.NodeGroup:
        block = self.reservation is not None and self.reservation.block
        name = f"{self.ctx.name}-{spec.name}"
        template = _launch_template(name, parent, self.ctx, self.network, self.reservation, None, spec.tags)
        return aws.eks.NodeGroup(
            name, cluster_name=self.eks.name,
            node_group_name=fit(spec.name, limit=NODE_GROUP_NAME), node_role_arn=self.node_role.arn,
            subnet_ids=_gpu_subnets(self.network, self.reservation), instance_types=[self.ctx.instance_type.instance_type],
            ami_type="AL2023_ARM_64_NVIDIA" if _arm(self.ctx) else "AL2023_x86_64_NVIDIA",
            capacity_type="CAPACITY_BLOCK" if block else "ON_DEMAND",
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            scaling_config={"min_size": spec.nodes, "desired_size": spec.nodes, "max_size": spec.max_nodes},
            labels=spec.labels,
            taints=[{"key": key, "value": value, "effect": "NO_SCHEDULE"} for key, value in spec.taints],
            tags=spec.tags, opts=pulumi.ResourceOptions(parent=parent))


class InstanceCluster(pools.InstanceCluster):
    """No orchestrator: the GPU instances themselves, from a launch template in auto scaling groups."""

    PROVIDER = "aws"

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> aws.autoscaling.Group:
        arch = "arm64" if _arm(self.ctx) else "x86_64"
        # The Deep Learning Base AMI (NVIDIA driver, CUDA, EFA), resolved by EC2 at launch from SSM.
        image = f"resolve:ssm:/aws/service/deeplearning/ami/{arch}/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
        name = f"{self.ctx.name}-{spec.name}"
        template = _launch_template(name, parent, self.ctx, self.network, self.reservation, image, spec.tags)
        return aws.autoscaling.Group(
            name, vpc_zone_identifiers=_gpu_subnets(self.network, self.reservation),
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            min_size=spec.nodes, desired_capacity=spec.nodes, max_size=spec.max_nodes,
            tags=[{"key": k, "value": v, "propagate_at_launch": True} for k, v in sorted(spec.tags.items())],
            opts=pulumi.ResourceOptions(parent=parent))
