#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine with Python >= 3.11: a virtual environment with
# livermet and its test tools, plus the Debian packages the browser and PDF checks use.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# System packages: Chromium (browser tests, HTML report rendering), poppler (pdftoppm),
# Pango (WeasyPrint), dcmtk (dsrdump reads our structured reports).
# Installed only when missing and when we may (root or sudo).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v dsrdump >/dev/null 2>&1 || need+=(dcmtk)   # a second reader of our DICOM SR
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "installing Debian packages: ${need[*]}" >&2
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
      || echo "warning: could not install ${need[*]}; browser/PDF tests will skip" >&2
  else
    echo "warning: missing ${need[*]} and no root; browser/PDF tests will skip" >&2
  fi
fi
