"""EZ-VSL as an icl_av project."""
