#!/usr/bin/env bash
# Installs everything ssah needs to build, test and benchmark, from Debian packages only.
# Usage: scripts/setup-debian.sh        (as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libomp-dev
  libeigen3-dev libthrust-dev libcub-dev
  libopenblas-openmp-dev  # optional host gemm (-DSSAH_BLAS=ON); the OpenMP build shares ssah's threads
  doctest-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libmatio-dev
  libopenmpi-dev openmpi-bin  # optional MPI (-DSSAH_MPI=ON: ssah/dist/mpi.hpp and the distributed tests)
  gnuplot-nox
  # reference scripts (fixtures, numpy/FAISS/PyTorch comparisons); never a library dependency
  python3 python3-numpy python3-scipy
)
if [ "${SSAH_SETUP_REFERENCE:-0}" = 1 ]; then
  packages+=(python3-torch python3-faiss)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
