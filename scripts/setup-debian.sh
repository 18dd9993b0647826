#!/bin/bash
# Install what hpsweep needs to build, run and test on Debian 12 (as root, or
# through sudo). Python's h5py and pandas are only for the tests' read check.
#   --torch   also install python3-torch (~750 MB) so the PyTorch example's
#             integration test runs instead of skipping
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    build-essential cmake pkg-config git ca-certificates procps util-linux \
    libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools libgsl-dev libopenblas-dev \
    libyaml-dev libcmocka-dev libssl-dev python3 python3-h5py python3-pandas >/dev/null
if [ "${1:-}" = --torch ]; then
    $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi
