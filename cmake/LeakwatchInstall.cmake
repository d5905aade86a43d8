# cmake --install: headers, libleakwatch.so, libleakwatch_preload.so and its server companion
# libleakwatch_server.so (in the same directory: the preload library loads it from its own), the
# CLI, a CMake package (find_package(leakwatch CONFIG REQUIRED) -> leakwatch::leakwatch) and
# leakwatch.pc.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/leakwatch DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS leakwatch leakwatch_preload EXPORT leakwatchTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# A module nobody links, so not in the export set.
install(TARGETS leakwatch_server_companion LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT leakwatchTargets NAMESPACE leakwatch::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/leakwatch)
configure_package_config_file(cmake/leakwatchConfig.cmake.in
  ${PROJECT_BINARY_DIR}/leakwatchConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/leakwatch)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/leakwatchConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/leakwatchConfig.cmake
              ${PROJECT_BINARY_DIR}/leakwatchConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/leakwatch)
file(RELATIVE_PATH LW_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
configure_file(cmake/leakwatch.pc.in ${PROJECT_BINARY_DIR}/leakwatch.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/leakwatch.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
