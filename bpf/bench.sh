#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Builds and runs kheal-bpf-bench (as root): the probes' overhead on
# scheduler-heavy work and their event throughput, as ratios measured
# side by side. Arguments go to kheal-bpf-bench (-r REPS, -n PROCESSES).
set -e
cd "$(dirname "$0")"
make -s kheal-bpf-bench
echo "kernel $(uname -r), $(nproc) CPUs"
exec ./kheal-bpf-bench "$@"
