"""cleankit's default rule packs: the YAML files in this folder (data only; see cleankit/rules.py).

This file makes the folder installable as the data package ``cleankit.default_rules``.
"""
