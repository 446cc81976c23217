#!/usr/bin/env bash
# A throw-away single-node SLURM on this machine, to test profiles/slurm for real.
#
#   tests/slurm/local_slurm.sh start    install (root, apt-get) if missing, start munged, slurmctld
#                                       and slurmd, wait until the node is idle
#   tests/slurm/local_slurm.sh stop     cancel jobs, stop the daemons it started, remove its state
#   tests/slurm/local_slurm.sh status   exit 0 if the local cluster answers and the node is usable
#
# Everything lives in $LFPK_SLURM_DIR (default /tmp/lfpk-slurm): slurm.conf, the munge key and
# socket, spool/state folders, logs and pid files. Daemons use their own ports
# ($LFPK_SLURM_PORT, $LFPK_SLURM_PORT+1; default 16817/16818) and their own munge socket, so a
# system munged is left alone. The one thing outside that folder: client commands started by
# Snakemake's SLURM job steps do not see $SLURM_CONF (the jobstep plugin drops SLURM_* from the
# environment), so /etc/slurm/slurm.conf is made a symlink to our slurm.conf while the cluster
# runs. An existing /etc/slurm/slurm.conf that is not ours is never touched (start fails).
# `start` and `stop` are idempotent.
#
# Exit codes: 0 ok, 1 failure, 3 SLURM is not installed and cannot be installed (not root).
set -euo pipefail

DIR=${LFPK_SLURM_DIR:-/tmp/lfpk-slurm}
PORT=${LFPK_SLURM_PORT:-16817}
CONF=$DIR/slurm.conf
ETC_CONF=/etc/slurm/slurm.conf
CLUSTER=lfpk-local
PARTITION=local
export SLURM_CONF=$CONF

log() { echo "local_slurm: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

have_slurm() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v squeue >/dev/null && command -v munged >/dev/null
}

install_slurm() {
    have_slurm && return 0
    if [ "$(id -u)" -ne 0 ]; then
        log "slurm-wlm/munge are not installed and this is not root: cannot install them"
        exit 3
    fi
    command -v apt-get >/dev/null || die "slurm-wlm/munge missing and no apt-get to install them"
    log "installing slurm-wlm and munge with apt-get"
    # Keep the packages' maintainer scripts from starting system services.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    local status=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            slurm-wlm munge >"$DIR.apt.log" 2>&1 \
        || { apt-get update -q >>"$DIR.apt.log" 2>&1 \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                    slurm-wlm munge >>"$DIR.apt.log" 2>&1; }
    } || status=$?
    [ "$made_policy" = 1 ] && rm -f "$policy"
    if [ "$status" -ne 0 ]; then
        tail -n 30 "$DIR.apt.log" >&2
        die "apt-get install slurm-wlm munge failed (log: $DIR.apt.log)"
    fi
    rm -f "$DIR.apt.log"
    have_slurm || die "slurm-wlm installed but its commands are not on PATH"
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

node_state() { sinfo -h -N -o '%t' 2>/dev/null | head -n 1 | tr -d '*~#!%$@^-'; }

running() {
    pid_alive "$DIR/run/munged.pid" && pid_alive "$DIR/run/slurmctld.pid" \
        && pid_alive "$DIR/run/slurmd.pid" && [ "$(node_state)" = idle -o "$(node_state)" = mix \
        -o "$(node_state)" = alloc ]
}

write_conf() {
    local host node_line mem
    host=$(hostname -s)
    # The hardware line slurmd itself detects (CPUs, sockets, cores, threads, memory), so the node
    # is never drained for claiming more than it has; keep ~5% of memory for the OS.
    node_line=$(slurmd -C | head -n 1 | sed -e 's/ UpTime=.*//')
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
    node_line=$(sed -e "s/RealMemory=[0-9]*/RealMemory=$((mem * 95 / 100))/" \
        -e "s/^NodeName=[^ ]*/NodeName=$host/" <<<"$node_line")
    local user
    user=$(id -un)
    cat > "$CONF" <<EOF
# Written by tests/slurm/local_slurm.sh: single-node test cluster, removed by its 'stop'.
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
LaunchParameters=use_interactive_step
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# squeue answers for finished jobs as long as they are kept: Snakemake's status queries need this.
MinJobAge=86400
InactiveLimit=0
KillWait=5
Waittime=0
SlurmctldTimeout=30
SlurmdTimeout=60
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/slurmd
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
$node_line State=UNKNOWN NodeAddr=127.0.0.1
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

link_etc_conf() {
    if [ -L "$ETC_CONF" ] && [ "$(readlink "$ETC_CONF")" = "$CONF" ]; then
        return 0
    fi
    if [ -e "$ETC_CONF" ] || [ -L "$ETC_CONF" ]; then
        die "$ETC_CONF exists and is not ours: this machine has a SLURM configuration; not touching it"
    fi
    if [ ! -d "$(dirname "$ETC_CONF")" ]; then
        mkdir -p "$(dirname "$ETC_CONF")"
        touch "$DIR/run/made-etc-dir"
    fi
    ln -s "$CONF" "$ETC_CONF"
}

start_munge() {
    mkdir -p "$DIR/munge"
    chmod 700 "$DIR/munge"
    if [ ! -s "$DIR/munge/munge.key" ]; then
        (umask 077; head -c 1024 /dev/urandom > "$DIR/munge/munge.key")
        chmod 400 "$DIR/munge/munge.key"
    fi
    pid_alive "$DIR/run/munged.pid" && return 0
    munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed" \
        || die "munged did not start: $(tail -n 5 "$DIR/log/munged.log" 2>/dev/null)"
    for _ in $(seq 50); do [ -S "$DIR/munge/munge.socket" ] && break; sleep 0.1; done
    munge -S "$DIR/munge/munge.socket" -n | unmunge -S "$DIR/munge/munge.socket" >/dev/null \
        || die "munge does not work"
}

wait_idle() {
    local state=""
    for i in $(seq 120); do
        state=$(node_state || true)
        case "$state" in
            idle|mix|alloc) return 0 ;;
            down|drain|drng|drained|fail|inval)
                [ $((i % 5)) = 0 ] && scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true ;;
        esac
        sleep 0.5
    done
    log "node not idle after 60 s (state '$state'); logs:"
    tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
    sinfo -N -l >&2 || true
    exit 1
}

start() {
    mkdir -p "$(dirname "$DIR")"
    install_slurm
    if [ -f "$CONF" ] && running; then
        log "already running (SLURM_CONF=$CONF)"
        return 0
    fi
    # anything half-started before: stop it and start from a clean state
    [ -d "$DIR" ] && stop_all quiet
    mkdir -p "$DIR"/{run,log,ctld,slurmd}
    chmod 755 "$DIR"
    write_conf
    link_etc_conf
    start_munge
    slurmctld -f "$CONF" -c || die "slurmctld did not start: $(tail -n 20 "$DIR/log/slurmctld.log" 2>/dev/null)"
    slurmd -f "$CONF" || die "slurmd did not start: $(tail -n 20 "$DIR/log/slurmd.log" 2>/dev/null)"
    wait_idle
    log "up: node $(hostname -s), partition $PARTITION (SLURM_CONF=$CONF)"
}

kill_pidfile() {
    local file=$1 pid
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop_all() {
    if [ -f "$CONF" ] && pid_alive "$DIR/run/slurmctld.pid"; then
        # cancel the jobs of this cluster so no slurmstepd outlives slurmd
        scancel --quiet --full --cluster="$CLUSTER" --user="$(id -un)" 2>/dev/null \
            || scancel --quiet --full --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 30); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    kill_pidfile "$DIR/run/slurmd.pid"
    kill_pidfile "$DIR/run/slurmctld.pid"
    kill_pidfile "$DIR/run/munged.pid"
    if [ -L "$ETC_CONF" ] && [ "$(readlink "$ETC_CONF")" = "$CONF" ]; then
        rm -f "$ETC_CONF"
        if [ -e "$DIR/run/made-etc-dir" ]; then rmdir "$(dirname "$ETC_CONF")" 2>/dev/null || true; fi
    fi
    rm -rf "$DIR"
    [ "${1:-}" = quiet ] || log "stopped, $DIR removed"
}

case "${1:-}" in
    start) start ;;
    stop) stop_all ;;
    status) [ -f "$CONF" ] && running ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
