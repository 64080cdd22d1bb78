# ICL with resnet18 towers (timm): the visual map, a max-pooled audio embedding, D=128.
#
# `visual_backbone.out_index` picks the visual stage. 2 is resnet18's stride-8 stage (128 channels):
# an 8×8 map at 64 px, 12×12 at 96 px; the SynthAV and CPU configs train from scratch on small
# frames, where the stride-16 stage sees the whole frame and does not learn to localize
# (configs/icl/README.md, "The visual stage"). The 224 px configs use 4 (stride 32), with
# `remove_last_stride=True` for a 14×14 map. The head reads the channel count from the backbone.
model = dict(
    type='AVLocalizer',
    data_preprocessor=dict(
        type='AVDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        audio_frontend=dict(type='LogMelFrontend', sample_rate=16000, n_mels=64),
        audio_norm=None),
    visual_backbone=dict(
        type='TimmVisualBackbone',
        model_name='resnet18',
        out_index=2,
        pretrained=False),  # a timm tag (e.g. 'a1_in1k') or a local .pth/.safetensors path
    audio_backbone=dict(type='TimmAudioEncoder', model_name='resnet18', pool='max', pretrained=False),
    head=dict(type='AVSimilarityHead', embed_dims=128),
    loss=dict(
        type='ICLLoss',
        tau=0.07,
        fg_ratio=0.2,  # hard masks only
        bg_ratio=0.5,  # hard masks only
        # Soft regions (foreground weights = the pseudo map, background = 1 - map) beat hard
        # top/bottom fractions on every SynthAV seed (figures: configs/icl/README.md).
        mask_mode='soft',
        intra_weight=1.0,
        inter_weight=1.0,
        avc_weight=1.0,
        # First-round objective: softmax-pooled maps, tau=0.03. From scratch on SynthAV, tau=0.07
        # took off too slowly and max pooling failed on some seeds (the argmax locks onto
        # background); figures: the round-1 table in configs/icl/README.md.
        correspondence=dict(type='AVCorrespondenceLoss', tau=0.03, pool='softmax', pool_tau=0.1)),
    pseudo_label_bank=dict(type='PseudoLabelBank'),
    # Tower precision chosen where the model runs: bf16 autocast on CUDA devices with bf16 and
    # on CPUs with AMX, fp32 elsewhere (bf16 is slower than fp32 on CPUs with only AVX512-BF16
    # or AVX2; docs/speed.md). Logged once at start; set None (fp32) or 'bfloat16' to override.
    amp_dtype='auto')
