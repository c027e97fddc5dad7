#!/usr/bin/env bash
# Installs a Slurm controller, node daemon and client plus munge from Debian's packages.
# Idempotent: does nothing when every command is already there. Fails loudly otherwise.
set -euo pipefail

need=(sbatch squeue sinfo scontrol scancel sacct slurmctld slurmd munged mungekey)
missing=()
for c in "${need[@]}"; do
  command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || missing+=("$c")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install.sh: slurm and munge already installed ($(dpkg-query -W -f='${Version}' slurm-client))"
  exit 0
fi
echo "install.sh: missing ${missing[*]}; installing slurmctld slurmd slurm-client munge" >&2

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: must run as root (apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
pkgs=(slurmctld slurmd slurm-client munge)
# Only refresh the package lists when apt does not know the packages yet.
if ! apt-cache show "${pkgs[@]}" >/dev/null 2>&1; then
  apt-get update
fi
# The packages' postinst scripts try to start services; there is no systemd/init here, so
# policy-rc.d tells invoke-rc.d not to (we start the daemons ourselves: start-local.sh).
restore_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  restore_policy=1
fi
trap 'if [ $restore_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
apt-get install -y --no-install-recommends "${pkgs[@]}"

for c in "${need[@]}"; do
  if ! command -v "$c" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$c" ]; then
    echo "install.sh: $c still missing after apt-get install" >&2
    exit 1
  fi
done
echo "install.sh: installed slurm-client $(dpkg-query -W -f='${Version}' slurm-client)"
