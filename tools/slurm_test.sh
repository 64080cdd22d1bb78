#!/usr/bin/env bash
# Testing on a Slurm cluster through srun.
#   GPUS=8 bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
#
# CPUs per task (one task per GPU): WORKERS_PER_GPU + 2 (the loader workers, the test process and
# its pin-memory thread); WORKERS_PER_GPU defaults to 4, the test_dataloader.num_workers of the
# VGG-SS / Flickr configs. The ranks' results are gathered through the process group, so the
# nodes need no shared working directory.
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
WORKERS_PER_GPU=${WORKERS_PER_GPU:-4}
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
    python -u tools/test.py ${CONFIG} ${CHECKPOINT} --launcher="slurm" ${PY_ARGS}
