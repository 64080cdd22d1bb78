"""Peer methods and experiments, each loaded through ``custom_imports``."""
