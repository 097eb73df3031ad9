"""A capacity plan, from YAML to a checked model: nothing here imports Pulumi or a cloud SDK.

- `reader`: the bounded YAML reader (positions for every value, safe on strangers' files).
- `model`, `messages`: the plan's pydantic model and its validation messages in the user's words.
- `catalog`: instance types, regions and prices (`catalog.yaml`, or a plan's own catalog).
- `checks`: the rules a model cannot say (capacity at every instant, names, limits).
- `inventory_file`: an owned site's inventory file (CSV or YAML), read and checked.
- `files`, `loading`, `gitref`: where a plan and its files come from; `load_plan` runs it all.
- `git`: git run safely (argument lists, a timeout, sizes before reads), for `gitref` and `review.ci`.
- `schedule`: which reservations and leases are in force on a day.
- `schema`: the plan's JSON Schema for editors.
- `edit`: a plan file edited in place, comments and layout kept (`capacity fit --write`).
"""
