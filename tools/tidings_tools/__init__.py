"""Tooling around Tidings: the embedded dev stack, seeding and benchmarks.

Outside the runtime package: a production install (without the `embedded` extra)
has none of the embedded servers this needs, and the service never imports it.
"""
