#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for trying `systolic-sim sweep --engine slurm` and
# for the tests: Debian's slurmctld, slurmd and munged started directly (no systemd), one node with
# this machine's cores and memory, proctrack/linuxproc and no cgroups (TaskPlugin=task/none), every
# state, log, spool, pid file and the munge key under one state folder.
#
#   scripts/slurm-local.sh up      start the daemons, wait until the node is idle; prints the
#                                  `export SLURM_CONF=...` line the Slurm commands need
#   scripts/slurm-local.sh down    stop the daemons and remove the state folder (again: no-op)
#   scripts/slurm-local.sh env     print the export line of a running cluster
#
# State folder: $SSIM_SLURM_DIR, default ${TMPDIR:-/tmp}/ssim-slurm-$(id -u). Ports: $SSIM_SLURM_PORT
# (slurmctld) and the next one (slurmd), default the first free pair from 6817. Waits up to
# $SSIM_SLURM_TIMEOUT seconds (default 60) for the node. Packages: slurmctld slurmd slurm-client
# munge (scripts/setup.sh installs them). Runs as root (the daemons and the jobs run as root).
set -euo pipefail

state="${SSIM_SLURM_DIR:-${TMPDIR:-/tmp}/ssim-slurm-$(id -u)}"
timeout="${SSIM_SLURM_TIMEOUT:-60}"

die() {
  echo "slurm-local: error: $*" >&2
  exit 1
}

port_free() {  # a TCP port nobody listens on (hex in /proc/net/tcp*)
  local hex
  hex=$(printf '%04X' "$1")
  ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2}' | grep -qi ":$hex\$"
}

stop_pidfile() {  # TERM, then KILL after 5 s, the process named in a pid file
  local f="$1" pid i
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

down() {
  [[ -d "$state" ]] || return 0
  stop_pidfile "$state/run/slurmd.pid"
  stop_pidfile "$state/run/slurmctld.pid"
  stop_pidfile "$state/run/munged.pid"
  rm -rf "$state"
}

up() {
  for b in munged mungekey slurmctld slurmd sinfo; do
    command -v "$b" >/dev/null || die "$b not found: run scripts/setup.sh (Debian packages slurmctld slurmd slurm-client munge)"
  done
  [[ $(id -u) -eq 0 ]] || die "run as root: slurmd starts the jobs as their user"
  if [[ -f "$state/run/slurmctld.pid" ]] && kill -0 "$(cat "$state/run/slurmctld.pid")" 2>/dev/null; then
    die "a cluster is already running in $state (scripts/slurm-local.sh down first)"
  fi
  down
  mkdir -p "$state"/{run,log,ctld,spool,munge}
  chmod 700 "$state/munge"
  local port="${SSIM_SLURM_PORT:-}"
  if [[ -z "$port" ]]; then
    for ((port = 6817; port < 6917; port += 2)); do
      port_free "$port" && port_free $((port + 1)) && break
    done
  fi
  local host cpus mem_mb
  host=$(hostname -s)
  cpus=$(nproc --all)
  mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  mem_mb=$((mem_mb * 95 / 100))  # slurmd refuses a node that claims more than it has

  mungekey --create --keyfile="$state/munge/munge.key" >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$state/munge/munge.key"
  munged --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" \
    --pid-file="$state/run/munged.pid" --log-file="$state/log/munged.log" \
    --seed-file="$state/munge/munged.seed" --force ||
    die "munged did not start (see $state/log/munged.log)"

  cat >"$state/slurm.conf" <<EOF
# Written by systolic-sim's scripts/slurm-local.sh: a single-node cluster for tests.
ClusterName=ssim-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool/%n
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=30
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$state/slurm.conf"
  slurmctld -i >>"$state/log/slurmctld.out" 2>&1 ||
    die "slurmctld did not start (see $state/log/slurmctld.log)"
  slurmd >>"$state/log/slurmd.out" 2>&1 || die "slurmd did not start (see $state/log/slurmd.log)"

  local start=$SECONDS s=""
  while ((SECONDS - start < timeout)); do
    s=$(sinfo -h -N -n "$host" -o %t 2>/dev/null || true)
    if [[ "$s" == idle ]]; then
      echo "export SLURM_CONF=$state/slurm.conf"
      return 0
    fi
    sleep 0.5
  done
  echo "slurm-local: error: the node is not idle after ${timeout} s (state: '${s:-no answer}'); logs in $state/log:" >&2
  tail -n 5 "$state/log/slurmctld.log" "$state/log/slurmd.log" >&2 2>/dev/null || true
  down
  exit 1
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env)
    [[ -f "$state/slurm.conf" ]] || die "no cluster in $state (scripts/slurm-local.sh up)"
    echo "export SLURM_CONF=$state/slurm.conf"
    ;;
  *)
    echo "usage: scripts/slurm-local.sh up|down|env" >&2
    exit 2
    ;;
esac
