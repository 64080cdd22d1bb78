# Deprecated alias of icl_r18_1xb32-9e_synthav64_hard-mask.py, the same config under the name schema
# {algorithm}_{backbone}_{N}xb{B}-{E}e_{dataset}. Kept so that old commands keep working.
_base_ = ['./icl_r18_1xb32-9e_synthav64_hard-mask.py']
