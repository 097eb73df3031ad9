"""Slurm's own commands (sacctmgr, scontrol, squeue, scancel), run for capacity.

How to reach a Slurm cluster is given outside the plan, as a connection string:
- an absolute path to a `slurm.conf`: the commands run on this machine with `SLURM_CONF` set;
- anything else: a command prefix that runs them where Slurm is, e.g. `ssh root@slurm-head` or
  `kubectl exec -n slurm slurmctld-0 --` (their arguments never hold spaces or shell characters:
  the plan's names are checked).
No database is written behind Slurm's back: every change goes through sacctmgr or scontrol.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass

from capacity.errors import CapacityError

TIMEOUT = 120
RETRIES = (0.2, 0.5, 1.0, 2.0, 0)
# slurmdbd 22.05 loses some of the accounts added by sacctmgr processes running at once (seen: 2 of
# 8 kept), so changes to accounts and users from this process are made one at a time.
_ASSOCIATIONS = threading.Lock()
# sacctmgr says some refusals with exit code 0; these words in its output mean nothing changed.
_REFUSED = ("Changes Discarded", "Error with request", " error:", "Unknown option", "Bad format")
_EXISTS = ("Nothing new added", "already exists")


class SlurmError(CapacityError):
    """A Slurm command failed; the message has Slurm's own words."""


@dataclass(frozen=True)
class Slurm:
    connection: str

    @property
    def conf(self) -> str | None:
        """The slurm.conf the commands run with here, or None for a command prefix."""
        text = self.connection.strip()
        return text if text.startswith("/") and " " not in text else None

    def argv(self, *args: str) -> list[str]:
        return list(args) if self.conf else [*shlex.split(self.connection), *args]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "SLURM_CONF": self.conf} if self.conf else None
        try:
            done = subprocess.run(self.argv(*args), env=env, capture_output=True, text=True, timeout=TIMEOUT,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SlurmError(f"cannot run `{' '.join(args)}`: {exc}") from None
        if check and done.returncode != 0:
            raise SlurmError(f"`{' '.join(args)}` failed: {said(done)}")
        return done

    def change(self, *args: str) -> bool:
        """`sacctmgr -i ARGS`: True if it changed something, False if what it would add exists
        already (or a modify matched nothing); SlurmError if Slurm refused it."""
        serial = _ASSOCIATIONS if args[1:2] in (("account",), ("user",)) else contextlib.nullcontext()
        for wait in RETRIES:  # an account another sacctmgr just added can be missing a moment
            with serial:
                done = self.run("sacctmgr", "-i", *args, check=False)
            output = done.stdout + done.stderr
            if "doesn't exist" not in output:
                break
            time.sleep(wait)
        if any(word in output for word in _REFUSED):
            raise SlurmError(f"`sacctmgr {' '.join(args)}` was refused: {said(done)}")
        if done.returncode == 0:
            return True
        if any(word in output for word in _EXISTS) or "Nothing modified" in output:
            return False
        raise SlurmError(f"`sacctmgr {' '.join(args)}` failed: {said(done)}")

    def rows(self, entity: str, fields: tuple[str, ...], *where: str) -> list[dict[str, str]]:
        """`sacctmgr show ENTITY [where ...] format=FIELDS -P`: one dict per row."""
        out = self.run("sacctmgr", "show", entity, *(("where", *where) if where else ()),
                       f"format={','.join(fields)}", "-P", "--noheader").stdout
        return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]

    def scontrol(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("scontrol", *args, check=False)


def said(done: subprocess.CompletedProcess) -> str:
    """What a command said, on one line (at most 400 characters)."""
    text = " ".join((done.stderr.strip() + " " + done.stdout.strip()).split())
    return (text or f"exit code {done.returncode}")[:400]


def key_values(line: str) -> dict[str, str]:
    """`Key=Value Key=Value ...` (scontrol -o) as a dict."""
    return dict(part.split("=", 1) for part in line.split() if "=" in part)
