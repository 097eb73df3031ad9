"""Running a Pulumi program through the real engine (Automation API): it knows nothing of components.

- `pulumi_cli`: find or make ready the Pulumi CLI pinned to the Python SDK in use.
- `gobuild`: the per-user cache, its lock and `go` runs, shared with `kubernetes_bins`.
- `stack`: backend, passphrase, workspace and stack of a plan; recovery and locks.
- `deployment`: the one reader of a stack's state (resources, outputs, pending operations).
- `sdk_patches`: every reach into the Pulumi SDK beyond its public API, checked against its version.
- `events`: engine events recorded as steps (the CLI's capacity/cli/progress.py shows them).
- `filestate`: the file backend's files read and repaired; faults of the disk said as what they are.
- `reaper`: the engine processes we started end when we do, even on SIGKILL.

Nothing here imports pulumi at module import time; `capacity --help` and `validate` stay fast.
"""
