#!/usr/bin/env bash
# One shard of a weir plan, as a Slurm job-array task (docs/scale-out.md):
#
#   N=$(weir plan PIPELINE --input big.csv --out DIR --shards 64)
#   J=$(sbatch --parsable --array=0-$((N-1))%8 contrib/slurm/weir-shard.sh PIPELINE --out DIR)
#   sbatch --dependency=afterany:$J --wrap "weir merge DIR --repair --concat result.csv"
#
# Runs `weir run "$@" --shard-from-env` (the index is SLURM_ARRAY_TASK_ID) and runs it again while
# it exits 75 (transient: I/O, network, disk full), at most WEIR_ATTEMPTS times in all; any other
# code is this task's exit code: 0 done (or already done), 2 usage error, 65 data error (merge
# decides: a wrong guessed start is repaired by `weir merge --repair`, a real error fails it).
#
# Environment: WEIR (the weir binary, default `weir` on PATH), WEIR_ATTEMPTS (default 3),
# WEIR_RETRY_DELAY (seconds before attempt n+1 is n times this, default 5).
#
#SBATCH --job-name=weir-shard
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=weir-shard-%A_%a.out
#SBATCH --cpus-per-task=1
set -u

WEIR=${WEIR:-weir}
attempts=${WEIR_ATTEMPTS:-3}
delay=${WEIR_RETRY_DELAY:-5}

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
  echo "weir-shard.sh: SLURM_ARRAY_TASK_ID is not set: submit this with sbatch --array=0-\$((N-1))" >&2
  exit 2
fi
# --shard-from-env takes WEIR_SHARD_INDEX before SLURM_ARRAY_TASK_ID, and sbatch exports the
# submitting shell's environment: a WEIR_SHARD_INDEX left there would make every task the same shard.
if [ -n "${WEIR_SHARD_INDEX:-}" ] && [ "$WEIR_SHARD_INDEX" != "$SLURM_ARRAY_TASK_ID" ]; then
  echo "weir-shard.sh: ignoring WEIR_SHARD_INDEX=$WEIR_SHARD_INDEX from the submitting environment" >&2
fi
unset WEIR_SHARD_INDEX

task="${SLURM_ARRAY_JOB_ID:-?}_${SLURM_ARRAY_TASK_ID}"
attempt=1
while :; do
  echo "weir-shard.sh: task $task attempt $attempt/$attempts (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname -s): $WEIR run $* --shard-from-env" >&2
  "$WEIR" run "$@" --shard-from-env
  code=$?
  if [ "$code" -ne 75 ]; then
    echo "weir-shard.sh: task $task: weir exited $code" >&2
    exit "$code"
  fi
  if [ "$attempt" -ge "$attempts" ]; then
    echo "weir-shard.sh: task $task: weir exited 75 (transient) $attempt times: giving up" >&2
    exit 75
  fi
  echo "weir-shard.sh: task $task: weir exited 75 (transient): retrying in $((attempt * delay)) s" >&2
  sleep $((attempt * delay))
  attempt=$((attempt + 1))
done
