include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(SSAH_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/cmake/ssah")
install(TARGETS ssah EXPORT ssahTargets)
install(DIRECTORY include/ssah DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ssahTargets NAMESPACE ssah:: DESTINATION ${SSAH_CMAKE_INSTALL_DIR})

configure_package_config_file(cmake/ssahConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/ssahConfig.cmake"
  INSTALL_DESTINATION ${SSAH_CMAKE_INSTALL_DIR})
# Header-only: the version file does not check the architecture.
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/ssahConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/ssahConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/ssahConfigVersion.cmake"
  cmake/SsahDependencies.cmake
  DESTINATION ${SSAH_CMAKE_INSTALL_DIR})
