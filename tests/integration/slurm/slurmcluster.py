"""A real Slurm cluster with accounting on 127.0.0.1, for the tests and the benchmark.

Debian's packages (slurm-wlm, slurmdbd, mariadb-server, munge; Slurm 22.05), started from nothing
in a private directory: munged with its own key, MariaDB on a unix socket (no TCP), slurmdbd,
slurmctld and one slurmd per node (each on its own port), every node with fake GPUs (`gres.conf`
`File=` entries: symlinks to /dev/null). Accounting enforces associations, limits and QOS, and
tracks `gres/gpu`. Every client command gets `SLURM_CONF` (else Slurm tries DNS SRV look-ups).
`stop()` signals every process it started, by its own handle, all at once.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
READY_TIMEOUT = 60
DAEMONS = {"munged": "/usr/sbin/munged", "mariadbd": "/usr/sbin/mariadbd", "slurmdbd": "/usr/sbin/slurmdbd",
           "slurmctld": "/usr/sbin/slurmctld", "slurmd": "/usr/sbin/slurmd"}
INSTALL_DB = "/usr/bin/mariadb-install-db"


def missing_binaries() -> list[str]:
    """The daemons (and MariaDB's installer) this machine lacks; `.ci/run` installs them."""
    paths = [*DAEMONS.values(), INSTALL_DB, "/usr/bin/sacctmgr", "/usr/bin/scontrol", "/usr/bin/sbatch"]
    return [path for path in paths if not os.access(path, os.X_OK)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class LocalSlurm:
    work: Path
    cluster: str = "lab"
    partition: str = "gpu"
    nodes: int = 4
    gpus_per_node: int = 8
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def conf(self) -> Path:
        return self.work / "etc" / "slurm.conf"

    @property
    def node_names(self) -> list[str]:
        return [f"{self.cluster}-n{i}" for i in range(1, self.nodes + 1)]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def start(self) -> "LocalSlurm":
        for sub in ("etc", "munge", "run", "log", "db", "state", "spool", "dev"):
            (self.work / sub).mkdir(parents=True, exist_ok=True)
        try:
            self._munge()
            self._mariadb()
            self._write_configs()
            self._slurmdbd()
            self.sacctmgr("add", "cluster", self.cluster)
            self._spawn("slurmctld", ["/usr/sbin/slurmctld", "-D", "-i"])
            for node in self.node_names:
                self._spawn(f"slurmd-{node}", ["/usr/sbin/slurmd", "-D", "-N", node])
            self._wait(lambda: self._idle_nodes() == self.nodes, "every node idle")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Jobs cancelled (their steps outlive slurmd), then all daemons signalled at once (in turn
        it takes seconds each) and waited for."""
        if "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            jobs = self.run("squeue", "-h", "-o", "%i", check=False).stdout.split()
            if jobs:
                self.run("scancel", *jobs, check=False)
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.processes.clear()

    # -- clients

    def run(self, *args: str, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """A Slurm command (as `user`, through runuser, when given)."""
        prefix = ["runuser", "-u", user, "--"] if user else []
        done = subprocess.run([*prefix, *args], env=self.env, capture_output=True, text=True, timeout=60,
                              cwd="/")
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
        return done

    def sacctmgr(self, *args: str) -> str:
        return self.run("sacctmgr", "-i", *args).stdout

    def show(self, entity: str, fields: str, *where: str) -> list[list[str]]:
        """`sacctmgr show ENTITY -P`: rows of `fields` (comma-separated)."""
        out = self.run("sacctmgr", "show", entity, *where, f"format={fields}", "-P", "--noheader").stdout
        return [line.split("|") for line in out.splitlines() if line]

    def reservation(self, name: str) -> dict[str, str] | None:
        done = self.run("scontrol", "show", "reservation", name, "-o", check=False)
        if done.returncode != 0 or not done.stdout.strip():
            return None
        return dict(part.split("=", 1) for part in done.stdout.split() if "=" in part)

    def submit(self, *options: str, user: str, seconds: int = 300) -> subprocess.CompletedProcess:
        """`sbatch` a job that sleeps, as `user`; the CompletedProcess (refusals included)."""
        return self.run("sbatch", "--parsable", f"--partition={self.partition}", "--output=/dev/null",
                        "--chdir=/", *options, f"--wrap=sleep {seconds}", user=user, check=False)

    def job(self, job_id: str) -> dict[str, str]:
        out = self.run("scontrol", "show", "job", job_id, "-o").stdout
        return dict(part.split("=", 1) for part in out.split() if "=" in part)

    def wait_job(self, job_id: str, state: str, reason: str | None = None) -> dict[str, str]:
        """Wait until the job is in `state` (and pends for `reason`, if given)."""
        found: dict[str, str] = {}

        def there() -> bool:
            found.update(self.job(job_id))
            return found.get("JobState") == state and (reason is None or found.get("Reason") == reason)

        self._wait(there, f"job {job_id} {state} {reason or ''}", lambda: str(found))
        return found

    def cancel_all(self) -> None:
        jobs = self.run("squeue", "-h", "-o", "%i").stdout.split()
        if jobs:
            self.run("scancel", *jobs, check=False)
        self._wait(lambda: not self.run("squeue", "-h", "-o", "%i").stdout.strip(), "no job left")

    # -- bring-up

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.work / "log" / f"{name}.out", "ab")  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env or self.env, cwd=self.work,
                                start_new_session=True)
        log.close()
        self.processes[name] = proc
        return proc

    def _wait(self, ready, what: str, detail=lambda: "") -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready():
            dead = [name for name, proc in self.processes.items() if proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                                 for p in sorted((self.work / "log").glob("*")))
                why = f"{', '.join(dead)} exited" if dead else "timed out"
                raise RuntimeError(f"Slurm test cluster: waiting for {what}: {why}. {detail()}\n{logs}")
            time.sleep(0.1)

    def _munge(self) -> None:
        key_dir = self.work / "munge"
        key_dir.chmod(0o700)
        key = key_dir / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)
        self.munge_socket = self.work / "run" / "munge.socket"
        self._spawn("munged", [DAEMONS["munged"], "-F", "--force", "--num-threads=8", f"--key-file={key}", f"--socket={self.munge_socket}",
                               f"--pid-file={self.work / 'run' / 'munged.pid'}",
                               f"--seed-file={key_dir / 'munge.seed'}", f"--log-file={self.work / 'log' / 'munged.log'}"])
        self._wait(self.munge_socket.exists, "munged's socket")

    def _mariadb(self) -> None:
        data = self.work / "db"
        self.mysql_socket = self.work / "run" / "mysql.sock"
        done = subprocess.run([INSTALL_DB, "--no-defaults", f"--datadir={data}", "--user=root",
                               "--auth-root-authentication-method=socket", "--skip-test-db"],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db: {done.stdout}{done.stderr}")
        self._spawn("mariadbd", [DAEMONS["mariadbd"], "--no-defaults", f"--datadir={data}",
                                 f"--socket={self.mysql_socket}", "--skip-networking", "--user=root",
                                 f"--pid-file={self.work / 'run' / 'mariadb.pid'}", "--innodb-flush-log-at-trx-commit=0",
                                 "--skip-log-bin", "--innodb-doublewrite=0"])
        self._wait(self.mysql_socket.exists, "MariaDB's socket")

    def _slurmdbd(self) -> None:
        env = {**self.env, "MYSQL_UNIX_PORT": str(self.mysql_socket)}
        self._spawn("slurmdbd", [DAEMONS["slurmdbd"], "-D"], env=env)
        self._wait(lambda: self.run("sacctmgr", "show", "cluster", "-P", check=False).returncode == 0, "slurmdbd")

    def _idle_nodes(self) -> int:
        done = self.run("sinfo", "-h", "-N", "-o", "%N %t", check=False)
        return sum(1 for line in done.stdout.splitlines() if line.split()[-1] == "idle")

    def _write_configs(self) -> None:
        w = self.work
        self.dbd_port, self.ctld_port = _free_port(), _free_port()
        auth = f"AuthType=auth/munge\nAuthInfo=socket={self.munge_socket}\n"
        dbd = w / "etc" / "slurmdbd.conf"
        dbd.write_text(auth + f"DbdHost=localhost\nDbdAddr={HOST}\nDbdPort={self.dbd_port}\nSlurmUser=root\n"
                       f"StorageType=accounting_storage/mysql\nStorageHost=localhost\nStorageUser=root\n"
                       f"StorageLoc=slurm_acct_db\nPidFile={w / 'run' / 'slurmdbd.pid'}\n"
                       f"LogFile={w / 'log' / 'slurmdbd.log'}\nCommunicationParameters=NoInAddrAny\n")
        dbd.chmod(0o600)
        nodes, gres = [], ["AutoDetect=off"]
        for node in self.node_names:
            for index in range(self.gpus_per_node):
                device = w / "dev" / f"{node}-gpu{index}"
                if not device.is_symlink():
                    device.symlink_to("/dev/null")
            nodes.append(f"NodeName={node} NodeHostname=localhost NodeAddr={HOST} Port={_free_port()} CPUs=16 "
                         f"RealMemory=1000 Gres=gpu:{self.gpus_per_node} State=UNKNOWN")
            gres.append(f"NodeName={node} Name=gpu File={w / 'dev'}/{node}-gpu[0-{self.gpus_per_node - 1}]")
        (w / "etc" / "gres.conf").write_text("\n".join(gres) + "\n")
        self.conf.write_text(auth + "\n".join([
            f"ClusterName={self.cluster}", "SlurmctldHost=localhost", f"SlurmctldPort={self.ctld_port}",
            "SlurmUser=root", "SlurmdUser=root", f"StateSaveLocation={w / 'state'}",
            f"SlurmdSpoolDir={w / 'spool'}/%n", f"SlurmctldPidFile={w / 'run' / 'slurmctld.pid'}",
            f"SlurmdPidFile={w / 'run'}/slurmd-%n.pid", f"SlurmctldLogFile={w / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={w / 'log'}/slurmd-%n.log", "ProctrackType=proctrack/pgid", "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none", "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
            "SlurmdParameters=config_overrides", "GresTypes=gpu", "MpiDefault=none", "ReturnToService=2",
            "SchedulerType=sched/backfill", "SchedulerParameters=bf_interval=1,sched_min_interval=100000",
            "MinJobAge=5", "KillWait=1", "InactiveLimit=0", "CommunicationParameters=NoInAddrAny",
            "AccountingStorageType=accounting_storage/slurmdbd", "AccountingStorageHost=localhost",
            f"AccountingStoragePort={self.dbd_port}", f"AccountingStoragePass={self.munge_socket}",
            "AccountingStorageEnforce=associations,limits,qos",
            "AccountingStorageTRES=gres/gpu", "JobCompType=jobcomp/none", *nodes,
            f"PartitionName={self.partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        ]) + "\n")

    def remove(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
