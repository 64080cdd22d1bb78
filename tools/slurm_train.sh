#!/usr/bin/env bash
# Training on a Slurm cluster through srun (MMEngine reads the Slurm environment).
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
#
# CPUs per task (one task per GPU): the loader workers decode frames and audio in parallel with
# the GPU, so each task gets WORKERS_PER_GPU + 2 CPUs (the workers, the training process and its
# pin-memory thread). WORKERS_PER_GPU defaults to 8, the train_dataloader.num_workers of the 8-GPU
# configs; the pseudo-label refresh's loader takes the same number of workers but runs while
# training waits, so it needs no CPUs of its own. A node must offer GPUS_PER_NODE x CPUS_PER_TASK
# CPUs (8 x 10 = 80 by default); on smaller nodes lower WORKERS_PER_GPU and pass the same
# --cfg-options train_dataloader.num_workers=N, or set CPUS_PER_TASK directly.
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
WORKERS_PER_GPU=${WORKERS_PER_GPU:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-$((WORKERS_PER_GPU + 2))}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=${@:5}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u tools/train.py ${CONFIG} --work-dir=${WORK_DIR} --launcher="slurm" ${PY_ARGS}
