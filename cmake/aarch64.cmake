# Cross toolchain for arm64 (Debian 12: gcc-aarch64-linux-gnu, hwloc and
# liburcu as multiarch :arm64 packages), run under qemu-aarch64 user
# emulation: CTest prefixes every test executable with the emulator.
#
# Criterion cannot be installed for arm64 beside the amd64 one (its -dev
# package is not Multi-Arch: same; installing it removes the amd64 build's),
# so tests/arm64/run.sh unpacks its arm64 .debs under
# ${XMM_CACHE:-/var/cache/libxmm}/arm64-criterion-2.4.1 (XMM_ARM64_EXTRA_ROOT),
# which this file adds to pkg-config's path and to the emulated loader's.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

if(DEFINED ENV{XMM_CACHE})
  set(_xmm_cache $ENV{XMM_CACHE})
else()
  set(_xmm_cache /var/cache/libxmm)
endif()
set(XMM_ARM64_EXTRA_ROOT ${_xmm_cache}/arm64-criterion-2.4.1 CACHE PATH
    "Unpacked arm64 packages that cannot be installed beside the amd64 ones")
set(_pc /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(_ld /usr/lib/aarch64-linux-gnu)
if(EXISTS ${XMM_ARM64_EXTRA_ROOT})
  list(APPEND CMAKE_FIND_ROOT_PATH ${XMM_ARM64_EXTRA_ROOT})
  set(_pc ${XMM_ARM64_EXTRA_ROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${_pc})
  set(_ld ${XMM_ARM64_EXTRA_ROOT}/usr/lib/aarch64-linux-gnu:${_ld})
endif()
# pkg-config: the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} ${_pc})
set(ENV{PKG_CONFIG_PATH} "")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static;-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=${_ld})
