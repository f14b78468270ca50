# Finds ssah's dependencies and defines ssah_link_dependencies(target).
#
# Used twice: by the build tree (CMakeLists.txt) and by the installed ssahConfig.cmake, which sets
# SSAH_DEVICE_SYSTEM and SSAH_IN_PACKAGE_CONFIG first. The dependencies are applied to the target in
# both places rather than exported, so that a consumer of an installed ssah gets the device system
# and the Thrust it chooses (-DSSAH_DEVICE_SYSTEM=..., -DThrust_DIR=...), with matching CUDA settings.
include(GNUInstallDirs)

string(TOUPPER "${SSAH_DEVICE_SYSTEM}" SSAH_DEVICE_SYSTEM)
if(NOT SSAH_DEVICE_SYSTEM MATCHES "^(OMP|CPP|CUDA)$")
  message(FATAL_ERROR "SSAH_DEVICE_SYSTEM must be OMP, CPP or CUDA (got '${SSAH_DEVICE_SYSTEM}')")
endif()

if(SSAH_DEVICE_SYSTEM STREQUAL "CUDA")
  if(NOT SSAH_IN_PACKAGE_CONFIG)
    include(CheckLanguage)
    check_language(CUDA)
    if(NOT CMAKE_CUDA_COMPILER)
      message(FATAL_ERROR "SSAH_DEVICE_SYSTEM=CUDA needs nvcc (set CMAKE_CUDA_COMPILER)")
    endif()
    enable_language(CUDA)
  endif()
  find_package(CUDAToolkit REQUIRED)
endif()

# Thrust: the CUDA toolkit's when it is found first, Debian's libthrust-dev with
# -DThrust_DIR=/usr/share/cmake/thrust. Never both in one translation unit.
find_package(Thrust REQUIRED CONFIG)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(OpenMP)
if(SSAH_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
endif()
# NCCL (ssah/dist/nccl.hpp): its header and library beside the CUDA toolkit's, or under NCCL_ROOT.
if(SSAH_NCCL)
  if(NOT SSAH_DEVICE_SYSTEM STREQUAL "CUDA" OR NOT SSAH_MPI)
    message(FATAL_ERROR "SSAH_NCCL=ON needs SSAH_DEVICE_SYSTEM=CUDA and SSAH_MPI=ON (NCCL's unique id goes through MPI)")
  endif()
  if(NOT TARGET ssah::nccl)
    find_path(SSAH_NCCL_INCLUDE_DIR nccl.h HINTS ${NCCL_ROOT} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
    find_library(SSAH_NCCL_LIBRARY nccl HINTS ${NCCL_ROOT} ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
    if(NOT SSAH_NCCL_INCLUDE_DIR OR NOT SSAH_NCCL_LIBRARY)
      message(FATAL_ERROR "SSAH_NCCL=ON: nccl.h or libnccl not found beside the CUDA toolkit; set NCCL_ROOT")
    endif()
    add_library(ssah::nccl INTERFACE IMPORTED)
    set_target_properties(ssah::nccl PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${SSAH_NCCL_INCLUDE_DIR}"
                                                INTERFACE_LINK_LIBRARIES "${SSAH_NCCL_LIBRARY}")
  endif()
endif()
# Host BLAS for the gemm entry point (ssah/detail/gemm_blas.hpp) instead of Eigen's products. SSAH_BLAS:
# AUTO (the default) uses OpenBLAS (or the BLA_VENDOR given) when it is found and Eigen otherwise; ON
# requires a BLAS; OFF always uses Eigen. Debian's libopenblas-openmp-dev (installed by
# scripts/setup-debian.sh) shares ssah's OpenMP threads and picks its kernels for the CPU at run time;
# where it does not know the CPU and falls back to a core without AVX2, ssah uses Eigen instead
# (decided once per process, ssah/detail/gemm_blas.hpp).
# Ignored under CUDA, where cuBLAS does the products. SSAH_USES_HOST_BLAS is the outcome (the
# installed package records it).
set(SSAH_USES_HOST_BLAS FALSE)
string(TOUPPER "${SSAH_BLAS}" _ssah_blas)
if(NOT SSAH_DEVICE_SYSTEM STREQUAL "CUDA" AND _ssah_blas MATCHES "^(AUTO|ON|TRUE|YES|1)$")
  if(_ssah_blas STREQUAL "AUTO")
    if(NOT DEFINED BLA_VENDOR)
      # A generic libblas.so may be the reference BLAS, slower than Eigen: ask for OpenBLAS by name.
      set(BLA_VENDOR OpenBLAS)
    endif()
    find_package(BLAS QUIET)
  else()
    find_package(BLAS REQUIRED)
  endif()
  if(BLAS_FOUND)
    set(SSAH_USES_HOST_BLAS TRUE)
  endif()
endif()
if(NOT SSAH_IN_PACKAGE_CONFIG)
  if(SSAH_USES_HOST_BLAS)
    message(STATUS "ssah: host gemm through BLAS (${BLAS_LIBRARIES}) or Eigen, chosen at run time (detail/gemm_blas.hpp)")
  elseif(NOT SSAH_DEVICE_SYSTEM STREQUAL "CUDA")
    message(STATUS "ssah: host gemm through Eigen (SSAH_BLAS=${SSAH_BLAS}; Debian: libopenblas-openmp-dev for OpenBLAS)")
  endif()
endif()
# JSON for the safetensors header, reports and metadata (header-only; Debian nlohmann-json3-dev).
find_package(nlohmann_json 3 REQUIRED)

# MATLAB .mat files (ssah/io/mat.hpp) need the compiled matio library, and zlib (ssah inflates v5
# variables to check them before matio parses them). Optional: ssah::matio exists when both are
# found, and only programs that include ssah/io/mat.hpp link it.
if(NOT TARGET ssah::matio)
  find_package(ZLIB QUIET)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND AND ZLIB_FOUND)
    pkg_check_modules(SSAH_MATIO QUIET IMPORTED_TARGET matio)
  endif()
  if(NOT ZLIB_FOUND)
    # no .mat support
  elseif(SSAH_MATIO_FOUND)
    add_library(ssah::matio INTERFACE IMPORTED)
    target_link_libraries(ssah::matio INTERFACE PkgConfig::SSAH_MATIO)
  else()
    find_path(SSAH_MATIO_INCLUDE_DIR matio.h)
    find_library(SSAH_MATIO_LIBRARY matio)
    if(SSAH_MATIO_INCLUDE_DIR AND SSAH_MATIO_LIBRARY)
      add_library(ssah::matio INTERFACE IMPORTED)
      target_include_directories(ssah::matio INTERFACE "${SSAH_MATIO_INCLUDE_DIR}")
      target_link_libraries(ssah::matio INTERFACE "${SSAH_MATIO_LIBRARY}")
    endif()
  endif()
  if(TARGET ssah::matio)
    target_link_libraries(ssah::matio INTERFACE ZLIB::ZLIB)
  endif()
  if(NOT SSAH_IN_PACKAGE_CONFIG)
    if(TARGET ssah::matio)
      message(STATUS "ssah: matio found (ssah::matio, for ssah/io/mat.hpp)")
    else()
      message(STATUS "ssah: matio not found: .mat support (ssah/io/mat.hpp) and its tests are off")
    endif()
  endif()
endif()

if(NOT TARGET ssah::thrust)
  thrust_create_target(ssah::thrust HOST CPP DEVICE ${SSAH_DEVICE_SYSTEM})
endif()
if(NOT SSAH_IN_PACKAGE_CONFIG)
  message(STATUS "ssah: device system ${SSAH_DEVICE_SYSTEM}, Thrust ${Thrust_VERSION} from ${Thrust_DIR}")
endif()

# Links the dependencies to `target` (ssah in the build tree, the imported ssah::ssah in a consumer).
# In the build tree they are BUILD_INTERFACE only: ssahConfig.cmake applies them again on import.
function(ssah_link_dependencies target)
  set(libs ssah::thrust Eigen3::Eigen nlohmann_json::nlohmann_json)
  if(OpenMP_CXX_FOUND)
    # Host-side parallel loops (Hamming search, evaluation) use OpenMP whatever the device system.
    list(APPEND libs OpenMP::OpenMP_CXX)
  endif()
  # sqrt and friends may not set errno in ssah's kernels: with errno, GCC and Clang keep every sqrtf
  # a possible library call and cannot vectorise the loop around it (Adam's update over 18.9M floats:
  # 31 ms with errno, 12 ms without, in a standalone check on 2 cores). ssah never reads errno; a
  # consumer's own code is affected only if it does.
  set(options $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU,Clang,AppleClang>>:-fno-math-errno>)
  set(definitions)
  if(SSAH_USES_HOST_BLAS)
    list(APPEND libs BLAS::BLAS)
    list(APPEND definitions SSAH_HOST_BLAS=1)
  endif()
  if(SSAH_MPI)
    list(APPEND libs MPI::MPI_CXX)
    list(APPEND definitions SSAH_HAVE_MPI=1)
  endif()
  if(SSAH_NCCL)
    list(APPEND libs ssah::nccl)
    list(APPEND definitions SSAH_HAVE_NCCL=1)
  endif()
  if(SSAH_DEVICE_SYSTEM STREQUAL "CUDA")
    list(APPEND libs CUDA::cublas CUDA::cudart)
    # ssah's kernels are `[=] SSAH_HOST_DEVICE` lambdas: every CUDA translation unit that includes
    # ssah needs these, the consumer's included.
    foreach(option --extended-lambda --expt-relaxed-constexpr)
      list(APPEND options $<$<COMPILE_LANGUAGE:CUDA>:${option}>)
    endforeach()
    target_compile_features(${target} INTERFACE cuda_std_17)
  endif()
  get_target_property(imported ${target} IMPORTED)
  if(NOT imported)
    list(TRANSFORM libs PREPEND "$<BUILD_INTERFACE:")
    list(TRANSFORM libs APPEND ">")
    list(TRANSFORM options PREPEND "$<BUILD_INTERFACE:")
    list(TRANSFORM options APPEND ">")
    list(TRANSFORM definitions PREPEND "$<BUILD_INTERFACE:")
    list(TRANSFORM definitions APPEND ">")
  endif()
  target_link_libraries(${target} INTERFACE ${libs})
  target_compile_options(${target} INTERFACE ${options})
  target_compile_definitions(${target} INTERFACE ${definitions})
endfunction()
