# make install: libxmm.so.0 and libxmm.a, the public headers, the user-space platform
# headers they include, a CMake package (find_package(xmm) -> xmm::xmm, the shared
# library, and xmm::xmm_static) and libxmm.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS ${XMM_INSTALL_TARGETS} EXPORT xmmTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/xmm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The user-space platform's headers, found through the package's own include path
# (Cflags / the CMake target), never at the top of the include directory.
install(FILES libxmm/user/xmm_platform.h libxmm/user/xmm_platform_types.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xmm/platform/user)
install(EXPORT xmmTargets NAMESPACE xmm:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xmm)

configure_package_config_file(cmake/xmmConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/xmmConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xmm)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/xmmConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/xmmConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/xmmConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xmm)

# Relocatable: the prefix is found from the .pc file's own place, so
# `cmake --install --prefix P` gives a working file wherever P is.
file(RELATIVE_PATH XMM_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(cmake/libxmm.pc.in ${CMAKE_CURRENT_BINARY_DIR}/libxmm.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/libxmm.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
