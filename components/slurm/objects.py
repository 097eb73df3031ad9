"""What a lease becomes in Slurm, made, read back and removed with Slurm's commands (no Pulumi
here: the providers, the lease guard and the benchmark's bare program call these).

- an account per tenant under the plan's parent account, its users as associations, allowed the
  QOS of the tenant's leases (the first one its default);
- a QOS per lease, `GrpTRES=gres/gpu=N` with `Flags=DenyOnLimit`;
- a reservation of whole nodes for a dedicated-nodes lease, from its start to its end (midnight,
  in the time zone the commands run in).
"""

from __future__ import annotations

import datetime as dt
import re
import time

from capacity.components.slurm.commands import Slurm, SlurmError, key_values

GPU = "gres/gpu"
FLAGS = "DenyOnLimit"
DRAIN_SECONDS = 60


# -- accounts


def apply_account(slurm: Slurm, cluster: str, name: str, parent: str, users: list[str],
                  qos: list[str] | None) -> None:
    """The account under `parent` on `cluster`, with exactly `users`, allowed exactly `qos` (the
    first its default; None: left as Slurm has it)."""
    limits = [f"qos={','.join(qos)}", f"defaultqos={qos[0] if qos else -1}"] if qos is not None else []
    where = ("where", f"name={name}", f"cluster={cluster}", "set")
    had: list[str] = []
    if not slurm.change("add", "account", name, f"cluster={cluster}", f"parent={parent}", *limits):
        current = read_account(slurm, cluster, name) or {"parent": parent, "users": [], "qos": [], "default_qos": None}
        had = current["users"]
        if current["parent"] != parent:  # sacctmgr drops a whole modify that repeats a value it has
            slurm.change("modify", "account", *where, f"parent={parent}")
        if qos is not None and (current["qos"] != sorted(qos) or current["default_qos"] != (qos[0] if qos else None)):
            slurm.change("modify", "account", *where, *limits)
    new = sorted(set(users) - set(had))
    if new:
        slurm.change("add", "user", ",".join(new), f"account={name}", f"cluster={cluster}")
    _remove_users(slurm, cluster, name, sorted(set(had) - set(users)))


def read_account(slurm: Slurm, cluster: str, name: str) -> dict | None:
    """parent, users, qos, default_qos of the account on `cluster`; None if it is not there."""
    rows = slurm.rows("assoc", ("account", "user", "parentname", "qos", "defaultqos"),
                      f"cluster={cluster}", f"account={name}")
    own = next((row for row in rows if row["account"] == name and not row["user"]), None)
    if own is None:
        return None
    return {"parent": own["parentname"], "users": sorted(row["user"] for row in rows if row["user"]),
            "qos": sorted(q for q in own["qos"].split(",") if q), "default_qos": own["defaultqos"] or None}


def delete_account(slurm: Slurm, cluster: str, name: str) -> None:
    """The account and its users' associations; its jobs cancelled first (the lease guard has let
    the run end the tenant's leases here)."""
    current = read_account(slurm, cluster, name)
    if current is None:
        return
    _drain(slurm, f"--account={name}", lambda job: job["account"] == name)
    _remove_users(slurm, cluster, name, current["users"])  # first: Slurm keeps a user's default account
    slurm.change("delete", "account", name, f"cluster={cluster}")


def _remove_users(slurm: Slurm, cluster: str, account: str, users: list[str]) -> None:
    """One at a time: sacctmgr refuses a list if one user's default account is `account`, even
    where that user has no other (and would simply go)."""
    for user in users:
        slurm.change("delete", "user", user, f"account={account}", f"cluster={cluster}")


# -- QOS


def apply_qos(slurm: Slurm, name: str, gpus: int) -> None:
    limits = (f"GrpTRES={GPU}={gpus}", f"Flags={FLAGS}")
    if not slurm.change("add", "qos", name, *limits):
        slurm.change("modify", "qos", "where", f"name={name}", "set", *limits)


def read_qos(slurm: Slurm, name: str) -> dict | None:
    """gpus (its GrpTRES of gres/gpu, None if unlimited), flags and gpus_in_use; None if absent."""
    rows = [row for row in slurm.rows("qos", ("name", "grptres", "flags"), f"name={name}") if row["name"] == name]
    if not rows:
        return None
    limits = dict(part.split("=", 1) for part in rows[0]["grptres"].split(",") if "=" in part)
    gpus = limits.get(GPU)
    return {"gpus": int(gpus) if gpus and gpus.isdigit() else None, "flags": rows[0]["flags"],
            "gpus_in_use": gpus_in_use(slurm, name)}


def gpus_in_use(slurm: Slurm, qos: str) -> int | None:
    """GPUs the QOS's running jobs hold now (slurmctld's association manager), None if unknown."""
    return used_gpus(slurm.scontrol("-o", "show", "assoc_mgr", "flags=qos", f"qos={qos}").stdout, qos)


def used_gpus(assoc_mgr: str, qos: str) -> int | None:
    """From `scontrol show assoc_mgr flags=qos`: the QOS's `GrpTRES=...gres/gpu=LIMIT(USED)`."""
    found = re.search(rf"\bQOS={re.escape(qos)}\(.*?GrpTRES=\S*?{GPU}=[^(,\s]*\((\d+)\)", assoc_mgr, re.S)
    return int(found.group(1)) if found else None


def delete_qos(slurm: Slurm, name: str) -> None:
    """The QOS, its jobs cancelled first (the lease guard has let the run end the lease)."""
    if read_qos(slurm, name) is None:
        return
    _drain(slurm, f"--qos={name}", lambda job: job["qos"] == name)
    slurm.change("delete", "qos", name)


# -- reservations


def slurm_time(day: str) -> str:
    return f"{day}T00:00:00"


def apply_reservation(slurm: Slurm, name: str, account: str, partition: str, nodes: int, start: str, end: str) -> None:
    """Whole nodes of `partition` for `account` from `start` to `end` (dates). A start already
    past is now; an active reservation keeps its start (Slurm cannot move it)."""
    now = dt.datetime.now().replace(microsecond=0)
    begins = "now" if dt.datetime.fromisoformat(slurm_time(start)) <= now else slurm_time(start)
    settings = [f"Accounts={account}", f"PartitionName={partition}", f"NodeCnt={nodes}", f"EndTime={slurm_time(end)}"]
    current = read_reservation(slurm, name)
    if current is None:
        done = slurm.scontrol("create", "reservation", f"ReservationName={name}", f"StartTime={begins}", *settings)
        verb = "create"
    else:
        if current["state"] == "ACTIVE" or begins == "now":
            settings = [s for s in settings if not s.startswith("PartitionName=")]
        else:
            settings.insert(0, f"StartTime={begins}")
        done = slurm.scontrol("update", f"ReservationName={name}", *settings)
        verb = "update"
    if done.returncode != 0:
        raise SlurmError(f"cannot {verb} reservation {name} ({nodes} nodes of partition {partition} for account "
                         f"{account}, {start} to {end}): {(done.stderr or done.stdout).strip()}")


def read_reservation(slurm: Slurm, name: str) -> dict | None:
    done = slurm.scontrol("show", "reservation", name, "-o")
    if done.returncode != 0 or f"ReservationName={name} " not in done.stdout + " ":
        return None
    found = key_values(done.stdout)
    return {"account": found.get("Accounts", ""), "partition": found.get("PartitionName", ""),
            "nodes": int(found.get("NodeCnt", "0") or 0), "start": found.get("StartTime", "")[:10],
            "end": found.get("EndTime", "")[:10], "state": found.get("State", ""),
            "node_names": found.get("Nodes", "")}


def delete_reservation(slurm: Slurm, name: str) -> None:
    if read_reservation(slurm, name) is None:
        return
    _drain(slurm, f"--reservation={name}", lambda job: job["reservation"] == name)
    done = slurm.scontrol("delete", f"ReservationName={name}")
    if done.returncode != 0 and read_reservation(slurm, name) is not None:
        raise SlurmError(f"cannot delete reservation {name}: {(done.stderr or done.stdout).strip()}")


# -- jobs


def active_jobs(slurm: Slurm) -> list[dict[str, str]]:
    """Every job in the queue (pending, running, suspended, completing): account, qos, reservation, state."""
    out = slurm.run("squeue", "-h", "-o", "%a|%q|%v|%T").stdout
    keys = ("account", "qos", "reservation", "state")
    return [dict(zip(keys, line.split("|"))) for line in out.splitlines() if line.count("|") == 3]


def _drain(slurm: Slurm, selector: str, mine) -> None:
    """Cancel the jobs `selector` picks and wait (a while) until the queue has none of them."""
    if not any(mine(job) for job in active_jobs(slurm)):
        return
    slurm.run("scancel", selector, check=False)
    deadline = time.monotonic() + DRAIN_SECONDS
    while any(mine(job) for job in active_jobs(slurm)) and time.monotonic() < deadline:
        time.sleep(0.5)
