#!/bin/bash
# Install what hpsweep needs to build, run and test on Debian 12 (as root, or
# through sudo). Python's h5py and pandas are only for the tests' read check.
#   --torch   also install python3-torch (~750 MB) so the PyTorch example's
#             integration test runs instead of skipping
#   --browser also install chromium (~300 MB with its libraries) so the HTML
#             report's integration test renders reports instead of skipping
#   --fuzz    also install clang and its sanitizer runtimes (libFuzzer,
#             LeakSanitizer) for the fuzz/sanitizer build (-DHPS_FUZZ=ON)
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    build-essential cmake pkg-config git ca-certificates procps util-linux \
    libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools libgsl-dev libopenblas-dev \
    libyaml-dev zlib1g-dev libdeflate-dev libcmocka-dev libssl-dev python3 python3-h5py \
    python3-pandas >/dev/null
for opt in "$@"; do
    case $opt in
    --torch) $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null ;;
    --browser) $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null ;;
    --fuzz) $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null ;;
    *) echo "setup-debian.sh: unknown option $opt (--torch, --browser, --fuzz)" >&2; exit 2 ;;
    esac
done
