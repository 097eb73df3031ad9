"""What a plan, or a change to one, means in GPUs, money and risk: read-only, safe on strangers' plans.

- `economics`: GPU-hours and money over a window; `diff`: two plans compared, with risks.
- `quotas`: the tenancy quotas a change moves; `markdown`, `report`: what people read.
- `timeline`, `available`, `fit`, `fit_new`, `fit_show`: where new demand fits
  (free GPUs over time, ranked places for a new lease and what they cost; docs/fit.md).
- `ci`: the helpers the CI workflow and pre-commit hook run (`python -m capacity.review.ci`).
"""
