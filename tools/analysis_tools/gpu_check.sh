#!/usr/bin/env bash
# GPU check of the 8-GPU training config (configs/icl/icl_r18_8xb64-20e_vggsound144k.py) on this machine.
#
#   bash tools/analysis_tools/gpu_check.sh
#
# Installs nothing and downloads nothing (the visual tower starts from random weights). On a
# machine with a CUDA GPU it
#   1. writes a SynthAV set in the frames + audio layout under $GPU_CHECK_DIR (256 px JPEG frames,
#      10 s 16 kHz wavs, $GPU_CHECK_SAMPLES training scenes, 64 test scenes) with make_synthav.py;
#   2. runs tools/analysis_tools/benchmark.py on one GPU, fp32 and bf16 towers: training steps
#      (samples/s, peak GPU memory), the pseudo-label refresh and inference, real loader included;
#   3. trains 2 epochs with tools/train.py on one GPU (the config's precision, 'auto'), with one
#      pseudo-label refresh by the PseudoLabelHook between them;
#   4. with 2 GPUs or more, the same through tools/dist_train.sh on 2 GPUs (NCCL);
# then prints one table, headed by the machine. Logs and JSON stay in $GPU_CHECK_DIR. Without a
# GPU it prints one line saying so and exits 0. The exit status is 1 when a step failed (its row
# says which log to read).
#
# Settings (environment): GPU_CHECK_DIR (work_dirs/gpu_check), GPU_CHECK_SAMPLES (1024 training
# scenes), GPU_CHECK_BATCH (64 per GPU, the config's), GPU_CHECK_ITERS / GPU_CHECK_WARMUP (20 / 5
# timed / untimed benchmark steps), PYTHON (python). GPU_CHECK_FORCE_CPU=1 runs the same steps on
# the CPU to check the script itself (tiny settings advised; its figures are not GPU figures).
set -u -o pipefail
cd "$(dirname "$0")/../.." || exit 1

PYTHON=${PYTHON:-python}
WORK=${GPU_CHECK_DIR:-work_dirs/gpu_check}
SAMPLES=${GPU_CHECK_SAMPLES:-1024}
BATCH=${GPU_CHECK_BATCH:-64}
ITERS=${GPU_CHECK_ITERS:-20}
WARMUP=${GPU_CHECK_WARMUP:-5}
FORCE_CPU=${GPU_CHECK_FORCE_CPU:-0}
CONFIG=configs/icl/icl_r18_8xb64-20e_vggsound144k.py

GPUS=$("$PYTHON" -c 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)' \
       2>/dev/null) || GPUS=0
GPUS=${GPUS:-0}
if [ "$GPUS" -lt 1 ] && [ "$FORCE_CPU" != 1 ]; then
    echo "gpu_check: no GPU on this machine (torch sees no CUDA device); nothing was measured"
    exit 0
fi
DEVICE=cuda
[ "$GPUS" -lt 1 ] && DEVICE=cpu

mkdir -p "$WORK"
DATA="$WORK/synthav_256px_10s"
FAILED=0
status() { echo "gpu_check: $*" >&2; }

if [ ! -f "$DATA/train.txt" ]; then
    status "writing $SAMPLES SynthAV training scenes (256 px, 10 s) to $DATA"
    "$PYTHON" tools/misc/make_synthav.py --out "$DATA" --num-train "$SAMPLES" --num-test 64 --img-size 256 \
        --audio-seconds 10 --extended-ratio 0 --workers "$(nproc)" --quiet > "$WORK/make_synthav.log" 2>&1 \
        || { status "make_synthav failed, see $WORK/make_synthav.log"; exit 1; }
fi

DATA_OPTS=(model.visual_backbone.pretrained=False
           "train_dataloader.dataset.data_root=$DATA/" train_dataloader.dataset.ann_file=train.txt
           "test_dataloader.dataset.data_root=$DATA/" test_dataloader.dataset.ann_file=test.txt
           test_dataloader.dataset.box_file=test_boxes.json)
# The config's 300 audio clusters, or half the scenes for a smaller script check.
CLUSTERS=$(( SAMPLES >= 600 ? 300 : (SAMPLES / 2 > 2 ? SAMPLES / 2 : 2) ))
TRAIN_OPTS=("${DATA_OPTS[@]}" train_cfg.max_epochs=2 'custom_hooks.1.iteration_epochs=[1,1]'
            "custom_hooks.1.num_clusters=$CLUSTERS"
            "train_dataloader.batch_size=$BATCH" default_hooks.logger.interval=1 log_processor.window_size=1
            default_hooks.checkpoint.interval=100)

status "benchmark.py: fp32 and bf16, train / refresh / inference on one $DEVICE device"
# benchmark.py builds no Runner, so the config's env_cfg.cudnn_benchmark=True is applied here, as training applies it.
CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0} "$PYTHON" -c 'import runpy, sys, torch
torch.backends.cudnn.benchmark = True
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")' tools/analysis_tools/benchmark.py "$CONFIG" \
    --device "$DEVICE" --mode all --amp --batch-size "$BATCH" --num-iters "$ITERS" --num-warmup "$WARMUP" \
    --out "$WORK/benchmark.json" --cfg-options "${DATA_OPTS[@]}" > "$WORK/benchmark.log" 2>&1
BENCH_RC=$?

status "tools/train.py: 2 epochs and one refresh on one $DEVICE device"
rm -rf "$WORK/train_1"
CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0} "$PYTHON" tools/train.py "$CONFIG" --work-dir "$WORK/train_1" \
    --cfg-options "${TRAIN_OPTS[@]}" > "$WORK/train_1.log" 2>&1
TRAIN_1_RC=$?
TRAIN_2_RC=0
if [ "$GPUS" -ge 2 ]; then
    status "tools/dist_train.sh: 2 epochs and one refresh on 2 GPUs"
    rm -rf "$WORK/train_2"
    PORT=${PORT:-29517} bash tools/dist_train.sh "$CONFIG" 2 --work-dir "$WORK/train_2" \
        --cfg-options "${TRAIN_OPTS[@]}" > "$WORK/train_2.log" 2>&1
    TRAIN_2_RC=$?
fi
[ "$BENCH_RC" -ne 0 ] || [ "$TRAIN_1_RC" -ne 0 ] || [ "$TRAIN_2_RC" -ne 0 ] && FAILED=1

"$PYTHON" - "$WORK" "$DEVICE" "$GPUS" "$BATCH" "$SAMPLES" "$ITERS" "$BENCH_RC" "$TRAIN_1_RC" "$TRAIN_2_RC" \
    <<'PY' || FAILED=1
"""Print the check's one table from benchmark.json and the two training runs' logs."""
import glob
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.getcwd())
from icl_av.utils.machine import machine_line  # noqa: E402

work, device = sys.argv[1], sys.argv[2]
gpus, batch, samples, iters, bench_rc, train_1_rc, train_2_rc = (int(value) for value in sys.argv[3:10])


def cell(value, fmt='{:.1f}'):
    return '-' if value is None else fmt.format(value)


def train_run(name, world):
    """samples/s (iterations after the first 3 of each epoch), refresh samples/s, precision, peak MB."""
    folder = os.path.join(work, name)
    scalars = sorted(glob.glob(os.path.join(folder, '*', 'vis_data', 'scalars.json')))
    logs = sorted(glob.glob(os.path.join(folder, '*', '*.log')))
    if not scalars or not logs:
        return None
    times, memory, seen = [], [], {}
    with open(scalars[-1]) as handle:
        for line in handle:
            record = json.loads(line)
            if 'time' not in record or 'epoch' not in record:
                continue
            seen[record['epoch']] = seen.get(record['epoch'], 0) + 1
            if seen[record['epoch']] > 3:
                times.append(record['time'])
            if 'memory' in record:
                memory.append(record['memory'])
    text = open(logs[-1]).read()
    refresh = re.findall(r'refresh [^\n]*?: (\d+) samples in ([\d.]+) s', text)
    precision = re.search(r'AVLocalizer: precision ([^;(]+)', text)
    return dict(train=batch * world / statistics.fmean(times) if times else None,
                refresh=int(refresh[-1][0]) / float(refresh[-1][1]) if refresh and float(refresh[-1][1]) else None,
                precision=precision.group(1).strip() if precision else '?',
                memory=max(memory) if memory else None)


rows = []
try:
    with open(os.path.join(work, 'benchmark.json')) as handle:
        bench = json.load(handle)['results']
except (OSError, ValueError, KeyError):
    bench = None
if bench is None or bench_rc:
    rows.append(f'| benchmark.py | 1 | fp32, bf16 | failed (exit {bench_rc}): see {work}/benchmark.log | | | |')
else:
    for precision, label in (('fp32', 'fp32'), ('amp', 'bf16 towers')):
        phases = {r['mode']: r for r in bench if r['precision'] == precision}
        peak = max((r.get('gpu_peak_mb', 0) for r in phases.values()), default=None) if device == 'cuda' else None
        rows.append(f"| benchmark.py ({iters} steps) | 1 | {label} | "
                    f"{cell(phases.get('train', {}).get('samples_per_s'))} | "
                    f"{cell(phases.get('refresh', {}).get('samples_per_s'))} | "
                    f"{cell(phases.get('inference', {}).get('samples_per_s'))} | {cell(peak, '{:.0f}')} |")
for name, world, what, code in (('train_1', 1, 'tools/train.py, 2 epochs + 1 refresh', train_1_rc),
                                ('train_2', 2, 'tools/dist_train.sh, 2 epochs + 1 refresh', train_2_rc)):
    if world > max(gpus, 1):
        rows.append(f'| {what} | {world} | - | not run ({gpus} GPU) | | | |')
        continue
    run = train_run(name, world)
    if run is None or code:
        rows.append(f'| {what} | {world} | - | failed (exit {code}): see {work}/{name}.log | | | |')
        continue
    rows.append(f"| {what} | {world} | {run['precision']} | {cell(run['train'])} | {cell(run['refresh'])} | - | "
                f"{cell(run['memory'], '{:.0f}')} |")

where = 'GPU check' if device == 'cuda' else 'script check on the CPU (not GPU figures)'
print(f'\n{where}: {machine_line(device)}')
print(f'data: SynthAV written here, 256 px JPEG frames, 10 s 16 kHz wavs, {samples} training scenes; '
      f'config icl_r18_8xb64-20e_vggsound144k.py, batch {batch} per GPU')
print('| run | GPUs | precision | train samples/s | refresh samples/s | inference samples/s | peak GPU MB |')
print('|---|---|---|---|---|---|---|')
print('\n'.join(rows))
PY

exit $FAILED
