# Finds ssah's dependencies and defines ssah_link_dependencies(target).
# Shared by the build tree and by the installed ssahConfig.cmake (which sets SSAH_DEVICE_SYSTEM first).
include(GNUInstallDirs)

string(TOUPPER "${SSAH_DEVICE_SYSTEM}" SSAH_DEVICE_SYSTEM)
if(NOT SSAH_DEVICE_SYSTEM MATCHES "^(OMP|CPP|CUDA)$")
  message(FATAL_ERROR "SSAH_DEVICE_SYSTEM must be OMP, CPP or CUDA (got '${SSAH_DEVICE_SYSTEM}')")
endif()

if(SSAH_DEVICE_SYSTEM STREQUAL "CUDA")
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "SSAH_DEVICE_SYSTEM=CUDA needs nvcc (set CMAKE_CUDA_COMPILER)")
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
endif()

# Thrust: the CUDA toolkit's when it is found first, Debian's libthrust-dev with
# -DThrust_DIR=/usr/share/cmake/thrust. Never both in one translation unit.
find_package(Thrust REQUIRED CONFIG)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(OpenMP)

if(NOT TARGET ssah::thrust)
  thrust_create_target(ssah::thrust HOST CPP DEVICE ${SSAH_DEVICE_SYSTEM})
endif()

function(ssah_link_dependencies target)
  target_link_libraries(${target} INTERFACE ssah::thrust Eigen3::Eigen)
  if(OpenMP_CXX_FOUND)
    # Host-side parallel loops (Hamming search, evaluation) use OpenMP whatever the device system.
    target_link_libraries(${target} INTERFACE OpenMP::OpenMP_CXX)
  endif()
  if(SSAH_DEVICE_SYSTEM STREQUAL "CUDA")
    target_link_libraries(${target} INTERFACE CUDA::cublas CUDA::cudart)
  endif()
endfunction()
