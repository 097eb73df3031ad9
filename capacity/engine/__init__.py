"""Running a Pulumi program through the real engine (Automation API): it knows nothing of components.

- `pulumi_cli`: find or make ready the Pulumi CLI pinned to the Python SDK in use.
- `stack`: backend, passphrase, workspace and stack of a plan; recovery and locks.
- `events`: live progress of engine events (rich on a TTY, plain lines, or JSON lines).
- `filestate`: the file backend's files read and repaired; faults of the disk said as what they are.
- `reaper`: the engine processes we started end when we do, even on SIGKILL.

Nothing here imports pulumi at module import time; `capacity --help` and `validate` stay fast.
"""
