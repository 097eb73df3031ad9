"""Leases enforced on Slurm clusters (`orchestrator: slurm`): each tenant's account, each lease's
QOS and, for dedicated-nodes leases, a dated reservation of whole nodes, made with Slurm's own
commands (`commands`, `objects`) by dynamic resources of our own (`providers`), declared per
lease by `tenancy` (which imports pulumi); `access` says how capacity reaches a cluster."""
