#!/bin/bash
# Starts a single-node Slurm cluster on this machine from Debian's slurm-wlm and munge
# packages, without systemd (for tests and trying rgsweep's Slurm allocation; needs root).
#   sudo bash deploy/slurm/single-node.sh start | stop
set -euo pipefail
H=$(hostname -s)
case ${1:-start} in
start)
  mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /etc/slurm
  chown slurm:slurm /var/spool/slurmctld /var/log/slurm
  chown munge:munge /run/munge
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
  cat > /etc/slurm/slurm.conf <<CONF
ClusterName=rgsweep-test
SlurmctldHost=$H
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=slurm
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$H CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF
  pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
  pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
  pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
  for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then sinfo; exit 0; fi
    sleep 1
  done
  echo "slurm did not come up; see /var/log/slurm" >&2; exit 1 ;;
stop)
  scancel --user="$(id -un)" 2>/dev/null || true
  for d in slurmd slurmctld munged; do pkill -x $d || true; done ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
