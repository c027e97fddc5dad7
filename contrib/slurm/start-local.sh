#!/usr/bin/env bash
# A one-node Slurm "cluster" on 127.0.0.1, for tests and for trying the job-array recipe.
#
#   contrib/slurm/start-local.sh DIR          # writes DIR/slurm.conf, starts munged, slurmctld, slurmd
#   export SLURM_CONF=DIR/slurm.conf          # then sbatch/squeue/scontrol talk to it
#   contrib/slurm/start-local.sh --stop DIR   # stops the three daemons (PIDs from DIR/pids)
#
# No systemd: the daemons run in the foreground of background processes started here, as root
# (SlurmUser=root), with their own munge key and socket under DIR, so nothing in /etc is changed.
# Environment: SLURM_PORT (slurmctld's port, default 6817; slurmd uses SLURM_PORT+1),
# SLURM_CPUS (default: nproc), START_TIMEOUT (seconds to wait for the node, default 60).
set -euo pipefail

stop() {
  local dir=$1
  [ -f "$dir/pids" ] || { echo "start-local.sh: no $dir/pids: nothing to stop" >&2; return 0; }
  # Cancel this cluster's jobs first (slurmstepd outlives slurmd by design), give their steps
  # KillWait to go, then stop slurmd, the controller and munge, each by its PID.
  local name pid group np
  if [ -f "$dir/slurm.conf" ] && SLURM_CONF=$dir/slurm.conf scontrol ping >/dev/null 2>&1; then
    SLURM_CONF=$dir/slurm.conf scancel --partition=local >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
      [ -z "$(SLURM_CONF=$dir/slurm.conf squeue -h -t running,completing -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  # slurmd first (its node goes down cleanly), then the controller and munge together.
  for group in slurmd "slurmctld munged"; do
    local pids=()
    for name in $group; do
      pid=$(awk -v n="$name" '$1 == n {print $2}' "$dir/pids")
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$name:$pid")
      fi
    done
    for np in ${pids[@]+"${pids[@]}"}; do
      name=${np%%:*}; pid=${np#*:}
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "start-local.sh: $name ($pid) ignored SIGTERM for 5 s: SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
  done
  rm -f "$dir/pids"
  echo "start-local.sh: stopped the cluster in $dir"
}

if [ "${1:-}" = "--stop" ]; then
  [ $# -eq 2 ] || { echo "usage: $0 --stop DIR" >&2; exit 2; }
  stop "$(cd "$2" && pwd)"
  exit 0
fi
[ $# -eq 1 ] || { echo "usage: $0 DIR | $0 --stop DIR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "start-local.sh: run as root (the daemons run as root here)" >&2; exit 1; }
for c in munged mungekey slurmctld slurmd sinfo; do
  command -v "$c" >/dev/null || { echo "start-local.sh: $c not found: run contrib/slurm/install.sh" >&2; exit 1; }
done

t0=$(date +%s.%N)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
if [ -f "$DIR/pids" ]; then
  echo "start-local.sh: $DIR/pids exists: a cluster may be running there (--stop it first)" >&2
  exit 1
fi
# DIR must be usable by munged's path checks: no group/other write on it (munged refuses
# insecure directories on the path of its key and socket; /tmp's sticky bit is accepted).
chmod 0755 "$DIR"
mkdir -p "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/jobs"
chmod 0700 "$DIR/munge"

HOST=$(hostname -s)
PORT=${SLURM_PORT:-6817}
CPUS=${SLURM_CPUS:-$(nproc)}
TIMEOUT=${START_TIMEOUT:-60}

# --- munge: a key of our own (created once) and a daemon on our own socket -------------------
if [ ! -s "$DIR/munge/munge.key" ]; then
  mungekey --create --keyfile="$DIR/munge/munge.key"
fi
chmod 0400 "$DIR/munge/munge.key"
MUNGE_SOCKET=$DIR/munge/munge.socket

cat > "$DIR/slurm.conf" <<EOF
# Written by contrib/slurm/start-local.sh: one node, on 127.0.0.1.
ClusterName=weirlocal
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd-%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: this may be a container (or gVisor) without a writable cgroup tree.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# kill_invalid_depend: a job whose dependency can never be satisfied (afterok on an array with a
# failed or cancelled task) is cancelled instead of pending forever.
SchedulerParameters=bf_interval=1,kill_invalid_depend
MpiDefault=none
# Requeue: allowed by default for batch jobs (sbatch --requeue makes it explicit per job).
JobRequeue=1
ReturnToService=2
# Short timeouts: a local test cluster should react in seconds.
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
KillWait=5
InactiveLimit=0
# Finished jobs stay visible to squeue/scontrol for 10 minutes (there is no accounting database).
MinJobAge=600
MaxArraySize=10001
MaxJobCount=100000
NodeName=$HOST NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=$CPUS RealMemory=1024 State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF

# --- start --------------------------------------------------------------------------------------
: > "$DIR/pids"
start_bg() {  # name, then the command (runs in the foreground of a background process)
  local name=$1; shift
  setsid "$@" > "$DIR/log/$name.stdout" 2>&1 < /dev/null &
  echo "$name $!" >> "$DIR/pids"
}
fail() {
  echo "start-local.sh: $*" >&2
  for f in "$DIR"/log/*; do echo "--- $f (last lines)" >&2; tail -n 15 "$f" >&2; done
  stop "$DIR" >&2 || true
  exit 1
}

start_bg munged munged --foreground --force --socket="$MUNGE_SOCKET" --key-file="$DIR/munge/munge.key" \
  --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
for _ in $(seq 1 50); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.1; done
[ -S "$MUNGE_SOCKET" ] || fail "munged did not create $MUNGE_SOCKET"
munge --socket="$MUNGE_SOCKET" -n | unmunge --socket="$MUNGE_SOCKET" >/dev/null || fail "munge/unmunge round trip failed"

# -i: ignore (do not fail on) state from an earlier run in the same DIR.
start_bg slurmctld slurmctld -D -i -f "$DIR/slurm.conf"
export SLURM_CONF=$DIR/slurm.conf
for _ in $(seq 1 $((TIMEOUT * 10))); do scontrol ping >/dev/null 2>&1 && break; sleep 0.1; done
scontrol ping >/dev/null 2>&1 || fail "slurmctld does not answer scontrol ping"

start_bg slurmd slurmd -D -f "$DIR/slurm.conf" -N "$HOST"

state=""
for _ in $(seq 1 $((TIMEOUT * 10))); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  # A node left down/drained by an earlier run in this DIR: bring it back.
  case $state in down*|drain*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;; esac
  sleep 0.1
done
[ "$state" = idle ] || fail "node $HOST is '$state', not idle, after ${TIMEOUT}s"

t1=$(date +%s.%N)
echo "start-local.sh: node $HOST idle after $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
cat "$DIR/pids"
echo "export SLURM_CONF=$DIR/slurm.conf"
