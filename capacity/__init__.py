"""capacity: GPU capacity as code.

The data flows one way: YAML (`yamlsafe`) -> plan model (`model`) -> checks (`checks`)
-> components and the engine, or diff and report. `plan.load_plan` runs the first three.
"""

__version__ = "0.1.0"
