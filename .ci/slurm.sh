#!/usr/bin/env bash
# Brings up a one-node Slurm cluster on this machine for the test that runs
# a sweep through `sbatch` (generator/cli/tests/slurm.rs): Debian's slurm-wlm and munge,
# configured for localhost, with slurmdbd on a local MariaDB so that `sacct`
# can show what ran; every daemon started without systemd. CI runs it
# (.ci/run); a user's setup never needs it. Safe to run again: a cluster
# that answers is left as it is.
#
# Needs root (or sudo) for the packages, the munge key and the daemons.
# State, spool and logs live under $TTFS_SLURM_DIR (default
# /tmp/ttfs-slurm); `.ci/slurm.sh stop` stops every daemon it started.
set -euo pipefail

state="${TTFS_SLURM_DIR:-/tmp/ttfs-slurm}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

# Kills the daemon whose pid file is $1, if it runs.
kill_by() {
    if [ -s "$1" ]; then
        $sudo kill "$(cat "$1")" 2>/dev/null || true
    fi
}

if [ "${1:-}" = "stop" ]; then
    for pidfile in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/slurmdbd.pid" /run/mysqld/mysqld.pid \
        /run/munge/munged.pid; do
        kill_by "$pidfile"
    done
    exit 0
fi

if sinfo --noheader --states=idle,mixed,allocated 2>/dev/null | grep -q . \
    && sacct --noheader --starttime=now-1minutes >/dev/null 2>&1; then
    echo "slurm: a cluster answers already"
    sinfo
    exit 0
fi

if ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1 \
    || ! command -v slurmdbd >/dev/null 2>&1 || ! command -v mariadbd >/dev/null 2>&1; then
    echo "slurm: installing slurm-wlm, slurmdbd, munge and mariadb-server"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq slurm-wlm slurmdbd munge mariadb-server >/dev/null
fi
$sudo mkdir -p "$state/ctld" "$state/d" /etc/slurm

# munge: a key only munge can read, then the daemon, as the munge user
# (--force: it refuses to start when a directory's owner looks unusual, as
# in a container).
if [ ! -s /etc/munge/munge.key ]; then
    $sudo mkdir -p /etc/munge
    $sudo dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
$sudo chown munge:munge /etc/munge/munge.key
$sudo chmod 400 /etc/munge/munge.key
$sudo mkdir -p /run/munge /var/log/munge /var/lib/munge
$sudo chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n </dev/null >/dev/null 2>&1; then
    $sudo runuser -u munge -- munged --force
fi

# MariaDB for slurmdbd, on its socket only; root logs in through the
# socket (unix_socket authentication), so no password is made.
$sudo mkdir -p /run/mysqld
$sudo chown mysql:mysql /run/mysqld
if ! $sudo mariadb -e "select 1" >/dev/null 2>&1; then
    [ -d /var/lib/mysql/mysql ] || $sudo mariadb-install-db --user=mysql >/dev/null
    $sudo mariadbd --user=mysql --skip-networking --socket=/run/mysqld/mysqld.sock \
        --pid-file=/run/mysqld/mysqld.pid >"$state/mariadb.log" 2>&1 &
    for _ in $(seq 1 120); do
        $sudo mariadb -e "select 1" >/dev/null 2>&1 && break
        sleep 0.5
    done
fi

host="$(hostname -s)"
# The daemons find each other by the host name.
if ! getent hosts "$host" >/dev/null; then
    echo "127.0.0.1 $host" | $sudo tee -a /etc/hosts >/dev/null
fi
cpus="$(nproc)"
# Memory for jobs: what the machine has, less a gigabyte for the rest.
mem_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))

# slurmdbd keeps the job records `sacct` reads; its file must be private.
$sudo tee /etc/slurm/slurmdbd.conf >/dev/null <<CONF
# slurmdbd for ttfs-hdl's CI (.ci/slurm.sh).
AuthType=auth/munge
DbdHost=$host
SlurmUser=root
PidFile=$state/slurmdbd.pid
LogFile=$state/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
CONF
$sudo chmod 600 /etc/slurm/slurmdbd.conf

$sudo tee /etc/slurm/slurm.conf >/dev/null <<CONF
# One-node cluster for ttfs-hdl's CI (.ci/slurm.sh).
ClusterName=ttfs
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$host
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

for pidfile in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/slurmdbd.pid"; do
    kill_by "$pidfile"
done
sleep 1
$sudo slurmdbd
for _ in $(seq 1 60); do
    $sudo sacctmgr --noheader list cluster >/dev/null 2>&1 && break
    sleep 0.5
done
# The cluster must be known to the database before slurmctld registers.
$sudo sacctmgr --immediate add cluster ttfs >/dev/null 2>&1 || true
$sudo slurmctld
$sudo slurmd
for _ in $(seq 1 60); do
    if sinfo --noheader --states=idle 2>/dev/null | grep -q . && sacct --noheader >/dev/null 2>&1; then
        echo "slurm: one node ($host, $cpus CPUs, $mem_mb MB) is idle; accounting answers"
        sinfo
        exit 0
    fi
    sleep 1
done
echo "error: the one-node Slurm cluster did not come up; its logs:" >&2
$sudo cat "$state/slurmdbd.log" "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
exit 1
