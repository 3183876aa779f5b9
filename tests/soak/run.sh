#!/usr/bin/env bash
# The soak stage (scripts/test.sh soak): tests/soak/soak.c from the release
# build for XMM_SOAK_SECONDS (default 120 s; hours by hand).
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release >/dev/null
cmake --build --preset release -j "${XMM_JOBS:-2}" --target soak >/dev/null
XMM_SOAK_SECONDS=${XMM_SOAK_SECONDS:-120} build/release/tests/soak/soak
