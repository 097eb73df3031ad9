"""Azure GPU capacity: capacity reservation groups, AKS with GPU agent pools, or VM scale sets
when the cluster has no orchestrator."""

from __future__ import annotations

import base64
import functools
from typing import Optional

import pulumi
from pulumi_azure_native import authorization, compute, containerservice

from capacity.components.azure.network import SiteNetwork
from capacity.components.base import ClusterContext, Component
from capacity.components.naming import compact, fit
from capacity.components import pools
from capacity.components.pools import PoolSpec, shared_pool

KUBERNETES_VERSION = "1.33"
SYSTEM_VM_SIZE = "Standard_D4s_v5"
AKS_NAME = 63
AKS_DNS_PREFIX = 54
AGENT_POOL_NAME = 12  # Linux agent pools: lowercase letters and digits, starting with a letter
RESERVATION_NAME = 80
SCALE_SET_NAME = 64
COMPUTER_NAME_PREFIX = 15
# The Azure HPC image: NVIDIA drivers, CUDA and InfiniBand for ND-series VMs.
HPC_IMAGE = {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204", "version": "latest"}
CONTRIBUTOR_ROLE = "b24988ac-6180-42a0-ab88-20f7382dd24c"
ADMIN_USER = "capacity"
SSH_KEY_CONFIG = "sshPublicKey"


class Reservation(Component):
    """A capacity reservation group holding one reservation of the cluster's VM size and count."""

    KIND = "Reservation"

    reservation_id: pulumi.Output[str]
    group_id: pulumi.Output[str]

    def __init__(self, ctx: ClusterContext, network: SiteNetwork) -> None:
        super().__init__("azure", ctx.name, ctx.opts)
        plan = ctx.cluster.reservation
        if plan.start and plan.start > ctx.day:
            pulumi.log.warn(f"cluster '{ctx.name}': an Azure capacity reservation is held (and billed) from its "
                            f"creation, not from its planned start {plan.start}.", resource=self)
        if plan.end:
            pulumi.log.warn(f"cluster '{ctx.name}': Azure capacity reservations have no end date; this one is "
                            f"held until the first deploy on or after its planned end {plan.end} deletes it.", resource=self)
        group = compute.CapacityReservationGroup(
            f"{ctx.name}-crg", capacity_reservation_group_name=fit(ctx.site.plan, ctx.name, limit=RESERVATION_NAME),
            resource_group_name=network.resource_group_name, location=network.location, tags=ctx.tags,
            opts=self.child())
        held = compute.CapacityReservation(
            f"{ctx.name}-cr", capacity_reservation_name=fit(ctx.name, ctx.instance_type.instance_type.lower(),
                                                            limit=RESERVATION_NAME),
            capacity_reservation_group_name=group.name, resource_group_name=network.resource_group_name,
            location=network.location, sku={"name": ctx.instance_type.instance_type, "capacity": ctx.cluster.nodes},
            tags=ctx.tags, opts=self.child())
        self.reservation_id = held.id
        self.group_id = group.id
        self.register_outputs({"reservation_id": held.id, "group_id": group.id})


class KubernetesCluster(Component):
    """AKS: a system agent pool and GPU agent pools (shared and per lease) on the reservation group."""

    KIND = "GpuCluster"

    cluster_id: pulumi.Output[str]
    shared_pool_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """For the Kubernetes provider: the cluster's user credentials, as AKS hands them out; secret."""

    def __init__(self, ctx: ClusterContext, network: SiteNetwork, reservation: Optional[Reservation]) -> None:
        super().__init__("azure", ctx.name, ctx.opts)
        self.ctx, self.network, self.reservation = ctx, network, reservation
        service_cidr = network.service_cidr
        self.aks = containerservice.ManagedCluster(
            f"{ctx.name}-aks", resource_name_=fit(ctx.site.plan, ctx.name, limit=AKS_NAME),
            resource_group_name=network.resource_group_name, location=network.location,
            dns_prefix=fit(ctx.name, limit=AKS_DNS_PREFIX), kubernetes_version=KUBERNETES_VERSION,
            identity={"type": "SystemAssigned"},
            agent_pool_profiles=[{"name": "system", "mode": "System", "vm_size": SYSTEM_VM_SIZE, "count": 2,
                                  "os_type": "Linux", "vnet_subnet_id": network.node_subnet_id}],
            network_profile={"network_plugin": "azure", "network_plugin_mode": "overlay",
                             "service_cidr": str(service_cidr), "dns_service_ip": str(service_cidr[10])},
            tags=ctx.tags, opts=self.child(ignore_changes=["agentPoolProfiles"]))
        self.pool_dependencies: list[pulumi.Resource] = []
        if reservation is not None:
            # AKS may place nodes on a reservation group only if its identity may manage the group.
            client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
            self.pool_dependencies.append(authorization.RoleAssignment(
                f"{ctx.name}-crg-access", scope=reservation.group_id,
                principal_id=self.aks.identity.apply(lambda identity: identity.principal_id),
                principal_type="ServicePrincipal",
                role_definition_id=client.subscription_id.apply(
                    lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR_ROLE}"),
                opts=self.child()))
        shared = self.pool(shared_pool(ctx), parent=self)
        self.cluster_id = self.aks.id
        self.shared_pool_id = shared.id
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=network.resource_group_name, resource_name=self.aks.name,
            opts=pulumi.InvokeOutputOptions(parent=self))
        self.kubeconfig = pulumi.Output.secret(credentials.kubeconfigs.apply(
            lambda found: base64.b64decode(found[0].value).decode()))
        self.register_outputs({"cluster_id": self.aks.id, "shared_pool_id": shared.id,
                               "shared_nodes": ctx.shared_nodes})

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> containerservice.AgentPool:
        return containerservice.AgentPool(
            f"{self.ctx.name}-{spec.name}", agent_pool_name=compact(spec.name, limit=AGENT_POOL_NAME),
            resource_name_=self.aks.name, resource_group_name=self.network.resource_group_name,
            mode="User", os_type="Linux", vm_size=self.ctx.instance_type.instance_type, count=spec.nodes,
            enable_auto_scaling=False, vnet_subnet_id=self.network.node_subnet_id,
            capacity_reservation_group_id=self.reservation.group_id if self.reservation else None,
            node_labels=spec.labels, node_taints=[f"{key}={value}:NoSchedule" for key, value in spec.taints],
            tags=spec.tags, opts=pulumi.ResourceOptions(parent=parent, depends_on=self.pool_dependencies))


def ssh_public_key(cluster: str) -> str:
    key = pulumi.Config("capacity").get(SSH_KEY_CONFIG)
    if not key:
        raise pulumi.RunError(
            f"cluster '{cluster}': Azure VM scale sets need an SSH public key for their admin user. "
            f"To fix: pulumi config set capacity:{SSH_KEY_CONFIG} \"$(cat ~/.ssh/id_ed25519.pub)\"")
    return key


class InstanceCluster(pools.InstanceCluster):
    """No orchestrator: VM scale sets of the GPU VM size, one shared and one per dedicated lease."""

    PROVIDER = "azure"

    @functools.cached_property
    def ssh_key(self) -> str:
        return ssh_public_key(self.ctx.name)

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> compute.VirtualMachineScaleSet:
        ctx = self.ctx
        profile = {
            "storage_profile": {"image_reference": HPC_IMAGE,
                                "os_disk": {"create_option": "FromImage", "disk_size_gb": 256,
                                            "managed_disk": {"storage_account_type": "Premium_LRS"}}},
            "os_profile": {"computer_name_prefix": fit(ctx.name, limit=COMPUTER_NAME_PREFIX),
                           "admin_username": ADMIN_USER,
                           "linux_configuration": {"disable_password_authentication": True, "ssh": {"public_keys": [
                               {"path": f"/home/{ADMIN_USER}/.ssh/authorized_keys", "key_data": self.ssh_key}]}}},
            "network_profile": {"network_interface_configurations": [{
                "name": "nic", "primary": True, "enable_accelerated_networking": True,
                "network_security_group": {"id": self.network.network_security_group_id},
                "ip_configurations": [{"name": "ip", "subnet": {"id": self.network.node_subnet_id}}]}]},
        }
        if self.reservation is not None:
            profile["capacity_reservation"] = {"capacity_reservation_group": {"id": self.reservation.group_id}}
        return compute.VirtualMachineScaleSet(
            f"{ctx.name}-{spec.name}", vm_scale_set_name=fit(ctx.site.plan, ctx.name, spec.name, limit=SCALE_SET_NAME),
            resource_group_name=self.network.resource_group_name, location=self.network.location,
            sku={"name": ctx.instance_type.instance_type, "tier": "Standard", "capacity": spec.nodes},
            orchestration_mode="Uniform", upgrade_policy={"mode": "Manual"}, overprovision=False,
            # One placement group keeps the VMs on one InfiniBand fabric.
            single_placement_group=True, platform_fault_domain_count=1, virtual_machine_profile=profile,
            tags=spec.tags,
            opts=pulumi.ResourceOptions(parent=parent))
