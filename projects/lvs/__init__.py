"""LVS as an icl_av project."""
