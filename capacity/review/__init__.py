"""What a plan, or a change to one, means in GPUs, money and risk: read-only, safe on strangers' plans.

- `economics`: GPU-hours and money over a window; `diff`: two plans compared, with risks.
- `quotas`: the tenancy quotas a change moves; `markdown`, `report`: what people read.
- `ci`: the helpers the CI workflow and pre-commit hook run (`python -m capacity.review.ci`).
"""
