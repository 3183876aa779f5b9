# Compile the core exactly as a kernel would (no libc, no SIMD, kernel code
# model) against the reference platform, and check that its objects reference
# no symbol but the platform hooks (xmm_*) and memset/memcpy/memmove.
if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  message(FATAL_ERROR "the freestanding check uses x86-64 kernel flags")
endif()
add_library(xmm_core_freestanding OBJECT ${XMM_CORE_SOURCES})
target_include_directories(xmm_core_freestanding PRIVATE
    ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR}/ports/freestanding)
target_compile_options(xmm_core_freestanding PRIVATE
    -O2 -ffreestanding -nostdinc -nostdlib -fno-builtin -mno-red-zone -mgeneral-regs-only
    -mcmodel=kernel -fno-pic -fno-stack-protector -Wall -Wextra -Werror -Wno-unused-parameter)
enable_testing()
add_test(NAME freestanding_symbols
         COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} "-DOBJECTS=$<JOIN:$<TARGET_OBJECTS:xmm_core_freestanding>,|>"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/CheckSymbols.cmake)
