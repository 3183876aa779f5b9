#!/bin/bash
# Copy libxmm's core into a Xen source tree: ports/xen/copy-core.sh XEN_SRC_DIR
# The patch series (ports/xen/patches) expects it under xen/common/libxmm/:
#   core/*.c, core/*.h        libxmm/core (every file: the core may be split further)
#   include/xmm/*.h           include/xmm
#   include/xmm_platform*.h   ports/xen
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
dst=${1:?usage: copy-core.sh XEN_SRC_DIR}/xen/common/libxmm
[ -d "$dst" ] || { echo "copy-core.sh: $dst missing: apply ports/xen/patches first" >&2; exit 1; }
mkdir -p "$dst/core" "$dst/include/xmm/static"
cp "$root"/libxmm/core/*.c "$root"/libxmm/core/*.h "$dst/core/" 2>/dev/null || cp "$root"/libxmm/core/*.c "$dst/core/"
# The freestanding API and its inline fast paths; include/xmm/user/ is user space only.
cp "$root"/include/xmm/*.h "$dst/include/xmm/"
cp "$root"/include/xmm/static/*.h "$dst/include/xmm/static/"
cp "$here"/xmm_platform.h "$here"/xmm_platform_types.h "$dst/include/"
