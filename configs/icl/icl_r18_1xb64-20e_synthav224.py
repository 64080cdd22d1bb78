# ICL on SynthAV at the public EZ-VSL training setting (the speed reference of docs/speed.md).
#
# Same encoders, sizes and batch as EZ-VSL's public training loop: ResNet18 visual tower
# read at stride 32 (layer4: a 7×7 map on 224 px frames), ResNet18 audio tower on 3 s of
# 16 kHz audio as a 257-bin linear spectrogram (`LinearSTFTFrontend`, EZ-VSL's
# log(|STFT|+1e-7)/12 with a 512 window and 274 overlap), batch 64, 2 loader workers.
# Unlike EZ-VSL the spectrogram is computed on the whole batch in the data preprocessor
# (one batched torch.stft on the device) instead of per sample with scipy in the workers,
# and the workers persist across epochs and pin their batches.
#
# ICL iterations: a correspondence round, then two rounds trained with the pseudo-labels
# (maps + audio clusters) that PseudoLabelHook refreshes after epochs 10 and 15.
_base_ = [
    '../_base_/datasets/synthav.py',
    '../_base_/models/icl_r18.py',
    '../_base_/schedules/adam_20e.py',
    '../_base_/default_runtime.py',
]

img_size = 224
audio_seconds = 3.0
audio_sample_rate = 16000
batch_size = 64
num_workers = 2
iteration_epochs = [10, 5, 5]

# Speed (docs/speed.md): channels_last weights and inputs; the towers' precision is the model
# base's amp_dtype='auto' (bf16 autocast on CPUs with AMX and CUDA devices with bf16, fp32
# elsewhere; the head, maps and losses always stay fp32).
model = dict(
    channels_last=True,
    data_preprocessor=dict(
        channels_last=True,
        audio_frontend=dict(_delete_=True, type='LinearSTFTFrontend', n_fft=512, win_length=512, overlap=274)),
    visual_backbone=dict(out_index=4, remove_last_stride=False),
)

_data = dict(img_size=img_size, audio_seconds=audio_seconds, audio_sample_rate=audio_sample_rate)
_loader = dict(num_workers=num_workers, persistent_workers=True, pin_memory=True, prefetch_factor=2)
train_dataloader = dict(batch_size=batch_size, drop_last=True, dataset=_data, **_loader)
val_dataloader = dict(batch_size=batch_size, dataset=_data, **_loader)
test_dataloader = dict(batch_size=batch_size, dataset=_data, **_loader)

train_cfg = dict(val_interval=2)  # 20 epochs and the cosine schedule: the schedule base's
# The lr (the schedule base's) is EZ-VSL's, for one process with 64 samples; --auto-scale-lr scales it linearly.
auto_scale_lr = dict(base_batch_size=batch_size, enable=False)

custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='PseudoLabelHook',
        iteration_epochs=iteration_epochs,
        num_clusters=10,
        # The training set with the test pipeline (the default); batch 64, not larger, and
        # the training loader's workers, not kept between refreshes (docs/speed.md).
        dataloader=dict(batch_size=64, persistent_workers=False),
    ),
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(type='AtomicCheckpointHook', interval=2, max_keep_ckpts=2,
                    save_best='loc/ciou@0.5', rule='greater'))
