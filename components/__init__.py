"""Pulumi components of a capacity plan (installed as capacity.components): one package per provider
behind components/base.py. They know nothing of the engine that runs them."""
