"""Spyglass's `spyglass.ripple.v1` tables on spyglass-rs (generated from the pipeline registry)."""

from spyglass_rs._modules import module_getattr

__getattr__, __dir__ = module_getattr(__name__)
