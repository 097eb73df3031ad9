"""Pulumi components of a capacity plan: one package per provider behind components/base.py."""
