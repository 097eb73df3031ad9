"""Running plans through the real Pulumi engine (Automation API, inline program).

- `pulumi_cli`: find or make ready the Pulumi CLI pinned to the Python SDK in use.
- `stack`: backend, passphrase, workspace and stack of a plan; recovery and locks.
- `events`: live progress of engine events (rich on a TTY, plain lines, or JSON lines).
- `safety`: refuse an `up` that would take capacity away from an active lease.

Nothing here imports pulumi at module import time; `capacity --help` and `validate` stay fast.
"""
