# ICL on SynthAV with ViT-Tiny/16 towers: the CPU-sized foundation-encoder config.
#
# Visual: `vit_tiny_patch16_224` on 128 px frames; the map is the 8x8 patch-token grid
# (192 channels). Weights from a local file with timm names; make one on a machine with internet:
#   python -c "import timm, safetensors.torch as st; st.save_file(timm.create_model( \
#       'vit_tiny_patch16_224.augreg_in21k_ft_in1k', pretrained=True).state_dict(), \
#       'checkpoints/vit_tiny_patch16_224.safetensors')"
# or train from scratch with --cfg-options model.visual_backbone.pretrained=False.
# Audio: an AST-style ViT-Tiny/16 from scratch on the 64-bin log-mel (a 4x7 patch grid over
# frequency and time for 1 s), max-pooled over patches.
# Layer-wise lr decay (0.75) on both ViT towers; the head keeps the base lr.
# No figures are measured for it (docs/results.md, "Foundation encoders"); tests train it for a few steps.
_base_ = ['./icl_r18_1xb32-9e_synthav64.py']

img_size = 128
train_dataloader = dict(dataset=dict(img_size=img_size))
val_dataloader = dict(dataset=dict(img_size=img_size))
test_dataloader = dict(dataset=dict(img_size=img_size))

model = dict(
    visual_backbone=dict(
        _delete_=True,
        type='TimmViTVisualBackbone',
        model_name='vit_tiny_patch16_224',
        pretrained='checkpoints/vit_tiny_patch16_224.safetensors'),
    audio_backbone=dict(
        _delete_=True,
        type='TimmViTAudioEncoder',
        model_name='vit_tiny_patch16_224',
        img_size=(64, 112),  # the stored position grid; other spectrogram sizes are interpolated
        pool='max',
        pretrained=False))

optim_wrapper = dict(
    constructor='LayerDecayOptimWrapperConstructor',
    optimizer=dict(_delete_=True, type='AdamW', lr=5e-4, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.75))
