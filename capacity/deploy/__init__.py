"""Deploying a plan: the steps preview, up, refresh and destroy share, above the engine and components.

- `workflow`: preflight, inventories, opening the stack, recovery, the guard, the run.
- `guard`: no run takes capacity from an in-force lease without --allow-destroy.
- `status`: what a stack holds (`StackStatus`), read from its state.
- `program`: the Pulumi.yaml program (`pulumi up` runs it through the root __main__.py).
"""
