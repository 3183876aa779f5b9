# Compile the core exactly as a kernel would (no libc, no SIMD/FP registers,
# kernel code model) against the reference platform, and check that its objects
# reference no symbol but the platform hooks (xmm_*) and memset/memcpy/memmove.
# x86-64: Linux/Xen's kernel flags; aarch64 (cmake/aarch64.cmake): Linux arm64's
# and Xen on Arm's (-mgeneral-regs-only, no outline atomics: a kernel has no libgcc).
set(XMM_FREESTANDING_FLAGS -O2 -ffreestanding -nostdinc -nostdlib -fno-builtin -fno-pic
    -fno-stack-protector -Wall -Wextra -Werror -Wno-unused-parameter)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  list(APPEND XMM_FREESTANDING_FLAGS -mno-red-zone -mgeneral-regs-only -mcmodel=kernel)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  list(APPEND XMM_FREESTANDING_FLAGS -mgeneral-regs-only -mno-outline-atomics -mcmodel=small)
else()
  message(FATAL_ERROR "the freestanding check knows x86-64 and aarch64 kernel flags")
endif()
add_library(xmm_core_freestanding OBJECT ${XMM_CORE_SOURCES})
target_include_directories(xmm_core_freestanding PRIVATE
    ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR}/ports/freestanding)
target_compile_options(xmm_core_freestanding PRIVATE ${XMM_FREESTANDING_FLAGS})
enable_testing()
add_test(NAME freestanding_symbols
         COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} "-DOBJECTS=$<JOIN:$<TARGET_OBJECTS:xmm_core_freestanding>,|>"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/CheckSymbols.cmake)

# The public API without a platform: every include/xmm/*.h but the seam (platform.h) compiles with only the
# platform's types header on the path (no <xmm_platform.h>, no standard header), so
# a host can include the declarations before, or without, mapping the seam. Inline
# code that needs the platform lives in include/xmm/static/.
file(GLOB XMM_API_HEADERS RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR}/include/xmm/*.h)
list(REMOVE_ITEM XMM_API_HEADERS xmm/platform.h) # the seam itself: it includes <xmm_platform.h>
configure_file(ports/freestanding/xmm_platform_types.h ${CMAKE_CURRENT_BINARY_DIR}/types_only/xmm_platform_types.h COPYONLY)
set(api_src ${CMAKE_CURRENT_BINARY_DIR}/api_headers.c)
set(api_text "/* generated: every public freestanding header, without a platform */\n")
foreach(h ${XMM_API_HEADERS})
  string(APPEND api_text "#include <${h}>\n")
endforeach()
string(APPEND api_text "int xmm_api_headers_compile(void)$<SEMICOLON>\nint xmm_api_headers_compile(void) { return XMM_EINVAL$<SEMICOLON> }\n")
file(GENERATE OUTPUT ${api_src} CONTENT "${api_text}")
add_library(xmm_api_headers OBJECT ${api_src})
target_include_directories(xmm_api_headers PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/include
                           ${CMAKE_CURRENT_BINARY_DIR}/types_only)
target_compile_options(xmm_api_headers PRIVATE -ffreestanding -nostdinc -Wall -Wextra -Werror)
