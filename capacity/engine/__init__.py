"""Running plans through the real Pulumi engine (Automation API, inline program).

- `pulumi_cli`: find or make ready the Pulumi CLI pinned to the Python SDK in use.
- `stack`: backend, passphrase, workspace and stack of a plan; recovery and locks.
- `events`: live progress of engine events (rich on a TTY, plain lines, or JSON lines).
- `guard`: no run takes capacity from an in-force lease without --allow-destroy (checked in the update).
- `workflow`: the steps preview, up, refresh and destroy share (preflight, inventories, opening the
  stack, repair and recovery, the guard, a renamed plan refused), below the CLI.
- `filestate`: the file backend's files read and repaired; faults of the disk said as what they are.
- `reaper`: the engine processes we started end when we do, even on SIGKILL.

Nothing here imports pulumi at module import time; `capacity --help` and `validate` stay fast.
"""
