# SynthAV at 64 px with 1600 training scenes, the data of the SynthAV default config
# (icl_r18_1xb32-9e_synthav64.py) and of the configs built on it.
_base_ = ['./synthav.py']

img_size = 64
num_train = 1600

train_dataloader = dict(dataset=dict(img_size=img_size, num_samples=num_train))
val_dataloader = dict(dataset=dict(img_size=img_size))
test_dataloader = dict(dataset=dict(img_size=img_size))
