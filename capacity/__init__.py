"""capacity: GPU capacity as code.

The data flows one way, and the packages stand in that order (each imports only those below it;
`pyproject.toml`'s import-linter contract checks it):

    capacity.cli          the command line (top-level cli/, installed under this name)
    capacity.deploy       preview, up, refresh and destroy: the workflow and the lease guard
    capacity.engine | capacity.components
                          the Pulumi engine (runs any program) | the Pulumi components (top-level components/)
    capacity.inventory | capacity.review
                          owned hardware and who holds it | diffs, money, risks and reports of plans
    capacity.plan         YAML -> plan model -> checks (`plan.loading.load_plan` runs them)
    capacity.providers    each provider's plan-side facts (site fields, limits, credentials)
    errors, fields, words, state
                          the vocabulary all of them share
"""

__version__ = "0.1.0"
