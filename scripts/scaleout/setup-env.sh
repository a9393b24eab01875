#!/usr/bin/env bash
# Installs what the scale-out driver needs (Dask `distributed`, numpy) and prints the python to run it with.
#
# Preferred: a venv under .build/ (SCALEOUT_VENV). When `python3 -m venv` is unavailable (Debian without
# python3-venv) it installs python3-venv with apt-get (as root or through sudo); failing that, it installs the
# packages for the user (`pip install --user`, with --break-system-packages where pip knows it, for Debian's
# externally managed python) and prints python3. Everything but the final path goes to stderr.
set -euo pipefail
VENV=${SCALEOUT_VENV:-.build/scaleout-venv}
PKGS=("distributed>=2024.1" "numpy>=1.24")

have() { "$1" -c "import distributed, numpy" >/dev/null 2>&1; }

if [ -x "$VENV/bin/python" ] && have "$VENV/bin/python"; then echo "$VENV/bin/python"; exit 0; fi

make_venv() { rm -rf "$VENV"; python3 -m venv "$VENV" >&2 2>&1 && [ -x "$VENV/bin/pip" ]; }

if ! make_venv; then
    echo "setup-env: python3 -m venv failed (python3-venv missing?)" >&2
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        echo "setup-env: installing python3-venv with apt-get" >&2
        { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv; } >&2 || true
    fi
    if ! make_venv; then
        rm -rf "$VENV"
        echo "setup-env: no venv; installing ${PKGS[*]} for the user" >&2
        python3 -m pip --version >&2 || { echo "setup-env: python3 has no pip (install python3-pip or python3-venv)" >&2; exit 2; }
        python3 -m pip install --user -q --disable-pip-version-check --break-system-packages "${PKGS[@]}" >&2 \
            || python3 -m pip install --user -q --disable-pip-version-check "${PKGS[@]}" >&2
        have python3 || { echo "setup-env: distributed/numpy still not importable by python3" >&2; exit 2; }
        command -v python3; exit 0
    fi
fi
echo "setup-env: installing ${PKGS[*]} into $VENV" >&2
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PKGS[@]}" >&2
have "$VENV/bin/python" || { echo "setup-env: distributed/numpy not importable after the install" >&2; exit 2; }
echo "$VENV/bin/python"
