# Helpers for ssah's own programs (tests, benchmarks, examples). Not installed.

# Warnings for ssah's own code; third-party headers come in as SYSTEM includes.
function(ssah_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    set(flags -Wall -Wextra -Wpedantic -Wshadow -Wno-unknown-pragmas)
    if(SSAH_WARNINGS_AS_ERRORS)
      list(APPEND flags -Werror)
    endif()
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${flags}>)
  endif()
  if(SSAH_DEVICE_SYSTEM STREQUAL "CUDA")
    # --extended-lambda and --expt-relaxed-constexpr come with ssah::ssah itself (SsahDependencies.cmake).
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CUDA>:-Xcudafe=--diag_suppress=20012> $<$<COMPILE_LANGUAGE:CUDA>:-Xcudafe=--diag_suppress=20011>)
    if(SSAH_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings>)
    endif()
  endif()
endfunction()

# ssah_compile_as_device(target a.cpp ...): under the CUDA device system, compiles these .cpp
# sources of `target` with nvcc (every file that instantiates ssah's Thrust kernels must be).
function(ssah_compile_as_device target)
  if(SSAH_DEVICE_SYSTEM STREQUAL "CUDA")
    set_source_files_properties(${ARGN} TARGET_DIRECTORY ${target} PROPERTIES LANGUAGE CUDA)
  endif()
endfunction()

include(CheckCXXCompilerFlag)
check_cxx_compiler_flag(-march=native SSAH_COMPILER_HAS_MARCH_NATIVE)

# ssah_build_for_this_machine(target): -march=native for ssah's own programs when SSAH_NATIVE is ON
# (the default), so that the ssah program and the benchmarks are built alike: what the benchmarks
# measure is what users run. The Hamming kernels do not depend on it (they are chosen at run time);
# Eigen's products and the compiler's own vectorisation do. Never applied to ssah::ssah itself.
function(ssah_build_for_this_machine target)
  if(SSAH_NATIVE AND SSAH_COMPILER_HAS_MARCH_NATIVE)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>
                                             $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-march=native>)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC 12 warns about its own avx512fintrin.h (`__m512 __Y = __Y;`, a deliberate undefined
      # value) once Eigen's gemm packing kernels are inlined under -march=native: a false positive.
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
    endif()
  endif()
endfunction()

# ssah_add_program(name SOURCES a.cpp ...): an executable linked to ssah, built for this machine
# (ssah_build_for_this_machine) unless PORTABLE_FLAGS is given: the tests are, so that they run
# what a consumer's default-flag build runs. Under the CUDA device system, .cpp sources are
# compiled by nvcc (Thrust kernels must be), unless NO_CUDA is given.
function(ssah_add_program name)
  cmake_parse_arguments(arg "NO_CUDA;PORTABLE_FLAGS" "" "SOURCES;LIBRARIES" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  if(NOT arg_NO_CUDA)
    ssah_compile_as_device(${name} ${arg_SOURCES})
  endif()
  target_link_libraries(${name} PRIVATE ssah::ssah ${arg_LIBRARIES})
  ssah_set_warnings(${name})
  if(NOT arg_PORTABLE_FLAGS)
    ssah_build_for_this_machine(${name})
  endif()
endfunction()
