"""Dynamic resources of Slurm clusters: accounts, QOS and reservations, made with Slurm's commands.

Pulumi pickles each provider object (with dill) into the state and runs it in the
`pulumi-resource-pulumi-python` host, so the providers hold nothing: the connection (a secret, see
commands.py), names and limits are resource inputs. `refresh` reads each object back from Slurm
into the inputs' own keys, so a change made by hand (a QOS limit raised) is a difference the next
`up` puts back; an object gone from Slurm leaves the state and is made again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Optional

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from capacity.components.slurm import objects
from capacity.components.slurm.commands import Slurm


def _slurm(props: dict[str, Any]) -> Slurm:
    connection = props["connection"]
    if isinstance(connection, dict):  # a secret, should the engine pass it wrapped
        connection = connection.get("value", "")
    return Slurm(str(connection))


class _SlurmProvider(ResourceProvider):
    """Create and update apply the inputs (Slurm's `add` or `modify`, whichever fits), read maps
    Slurm's answer onto the inputs' keys, delete removes the object."""

    serialize_as_secret_always = False  # the provider object holds nothing

    INPUTS: tuple[str, ...] = ()
    REPLACE_ON: tuple[str, ...] = ("name",)

    def apply(self, slurm: Slurm, props: dict[str, Any]) -> dict[str, Any]:
        """Make Slurm match `props`; what to report besides the inputs."""
        raise NotImplementedError

    def observe(self, slurm: Slurm, props: dict[str, Any]) -> Optional[dict[str, Any]]:
        """The object as Slurm has it, in the inputs' keys; None if it is not there."""
        raise NotImplementedError

    def remove(self, slurm: Slurm, props: dict[str, Any]) -> None:
        raise NotImplementedError

    def _outs(self, props: dict[str, Any]) -> dict[str, Any]:
        inputs = {key: props.get(key) for key in self.INPUTS}
        return {**inputs, **self.apply(_slurm(props), inputs)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props["name"]), outs=self._outs(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in self.INPUTS if olds.get(key) != news.get(key)]
        replaces = [key for key in self.REPLACE_ON if key in changed]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._outs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        found = self.observe(_slurm(props), props)
        if found is None:
            return ReadResult(id_="", outs={})  # gone from Slurm: out of the state, made again by `up`
        return ReadResult(id_=id_, outs={**props, **found})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self.remove(_slurm(props), props)


class AccountProvider(_SlurmProvider):
    INPUTS = ("connection", "cluster", "name", "parent", "users", "qos", "default_qos")
    REPLACE_ON = ("cluster", "name")

    def apply(self, slurm, props):
        objects.apply_account(slurm, props["cluster"], props["name"], props["parent"], list(props["users"] or []),
                              _qos_order(props))
        return {}

    def observe(self, slurm, props):
        found = objects.read_account(slurm, props["cluster"], props["name"])
        if found is None:
            return None
        if props.get("qos") is None:  # the parent account: its QOS are Slurm's business
            found.update(qos=None, default_qos=None)
        return found

    def remove(self, slurm, props):
        objects.delete_account(slurm, props["cluster"], props["name"])


def _qos_order(props: dict[str, Any]) -> Optional[list[str]]:
    """The account's QOS, its default first (None: not managed)."""
    qos = props.get("qos")
    if qos is None:
        return None
    default = props.get("default_qos")
    return [default, *[q for q in qos if q != default]] if default in qos else list(qos)


class QosProvider(_SlurmProvider):
    INPUTS = ("connection", "name", "gpus", "flags", "account", "lease")

    def apply(self, slurm, props):
        objects.apply_qos(slurm, props["name"], int(props["gpus"]))
        return {"gpus_in_use": objects.gpus_in_use(slurm, props["name"])}

    def observe(self, slurm, props):
        return objects.read_qos(slurm, props["name"])  # gpus, flags, gpus_in_use

    def remove(self, slurm, props):
        objects.delete_qos(slurm, props["name"])


class ReservationProvider(_SlurmProvider):
    INPUTS = ("connection", "name", "account", "partition", "nodes", "start", "end")

    def apply(self, slurm, props):
        objects.apply_reservation(slurm, props["name"], props["account"], props["partition"], int(props["nodes"]),
                                  props["start"], props["end"])
        found = objects.read_reservation(slurm, props["name"]) or {}
        return {"node_names": found.get("node_names"), "state": found.get("state")}

    def observe(self, slurm, props):
        found = objects.read_reservation(slurm, props["name"])
        if found is None:
            return None
        if found["state"] == "ACTIVE" and found["start"] >= str(props.get("start")):
            found["start"] = props.get("start")  # started when made (the lease had begun): as planned
        return found

    def remove(self, slurm, props):
        objects.delete_reservation(slurm, props["name"])


def _props(args: Any, outputs: tuple[str, ...] = ()) -> dict[str, Any]:
    return {**{f.name: getattr(args, f.name) for f in fields(args)}, **{name: None for name in outputs}}


_SECRET = pulumi.ResourceOptions(additional_secret_outputs=["connection"])


def _options(opts: Optional[pulumi.ResourceOptions]) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(_SECRET, opts)


@dataclass(frozen=True, kw_only=True)
class AccountArgs:
    connection: pulumi.Input[str]
    cluster: str
    """Slurm's ClusterName."""
    name: str
    parent: str
    users: list[str]
    qos: Optional[list[pulumi.Input[str]]]
    """The QOS the account may use (None: not managed, as for the plan's parent account)."""
    default_qos: Optional[pulumi.Input[str]]


class Account(Resource, module="slurm", name="Account"):
    name: pulumi.Output[str]

    def __init__(self, name: str, args: AccountArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(AccountProvider(), name, _props(args), _options(opts))


@dataclass(frozen=True, kw_only=True)
class QosArgs:
    connection: pulumi.Input[str]
    name: str
    gpus: int
    """GrpTRES=gres/gpu: the lease's GPUs while it runs, 0 before it starts."""
    flags: str
    account: str
    lease: str


class Qos(Resource, module="slurm", name="Qos"):
    name: pulumi.Output[str]
    gpus: pulumi.Output[int]
    gpus_in_use: pulumi.Output[Optional[int]]

    def __init__(self, name: str, args: QosArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(QosProvider(), name, _props(args, ("gpus_in_use",)), _options(opts))


@dataclass(frozen=True, kw_only=True)
class ReservationArgs:
    connection: pulumi.Input[str]
    name: str
    account: pulumi.Input[str]
    partition: str
    nodes: int
    start: str
    end: str


class Reservation(Resource, module="slurm", name="Reservation"):
    name: pulumi.Output[str]
    node_names: pulumi.Output[Optional[str]]

    def __init__(self, name: str, args: ReservationArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(ReservationProvider(), name, _props(args, ("node_names", "state")), _options(opts))
