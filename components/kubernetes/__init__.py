"""Kubernetes inside the clusters: each lease's namespace, access, GPU quota, network policy and
Kueue queues (`tenancy`, which imports pulumi_kubernetes: only for plans with a cluster whose
`orchestrator` is `kubernetes`), and how capacity reaches a cluster's API (`access`)."""
