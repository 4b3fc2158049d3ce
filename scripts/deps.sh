#!/usr/bin/env bash
# Installs the Debian packages hmmsim needs, only if some are missing.
# Sourced by scripts/quickstart and scripts/test; safe to run again.
set -euo pipefail

HMMSIM_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libsystemc-dev            # SystemC 2.3 + TLM-2.0
  verilator                 # RTL co-simulation
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  liblzma-dev               # xz-compressed traces
  googletest libgtest-dev libbenchmark-dev
  python3-yaml python3-matplotlib   # scripts/policy_experiments.py and its plots, hmmsim report
)

hmmsim_missing_packages() {
  local p missing=()
  for p in "${HMMSIM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

hmmsim_install_deps() {
  local missing
  missing=$(hmmsim_missing_packages)
  [ -z "$missing" ] && return 0
  echo "hmmsim: installing missing Debian packages: $missing"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "hmmsim: run as root (or install sudo) to install: $missing" >&2; exit 2; }
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# Configures (once) and builds one preset's tree: release, debug or asan.
hmmsim_build() {
  local preset=$1; shift
  local dir="build/$preset"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake --preset "$preset" >/dev/null
  fi
  cmake --build "$dir" -j "${HMMSIM_JOBS:-$(nproc)}" "$@"
}
