#!/usr/bin/env bash
# What `make bench` and `make load` need beyond the app: wrk (throughput), libvips (the
# photo reference, through pyvips) from Debian, and locust and pyvips from PyPI.
# Run as root (or with sudo) on Debian/Ubuntu; says plainly what it could not install.
set -u
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
missing=()
command -v wrk >/dev/null || missing+=(wrk)
ldconfig -p 2>/dev/null | grep -q 'libvips\.so\.42' || missing+=(libvips42)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || echo "bench/setup.sh: could not install ${missing[*]} with apt-get" >&2
    else
        echo "bench/setup.sh: please install ${missing[*]} (Debian: apt-get install -y ${missing[*]}); needs root" >&2
    fi
fi
"$PIP" install --quiet -r requirements-bench.txt || { echo "bench/setup.sh: pip could not install requirements-bench.txt" >&2; exit 1; }
command -v wrk >/dev/null || echo "bench/setup.sh: wrk is missing: make bench will skip nothing but fail at the throughput step (use --no-throughput)" >&2
.venv/bin/python -c "import pyvips" 2>/dev/null || echo "bench/setup.sh: pyvips cannot load libvips: bench/photos.py will print Pillow's figures only" >&2
exit 0
