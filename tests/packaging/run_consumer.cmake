# Builds and runs one consumer project of tests/consumers, the way a user would. Run with cmake -P:
#   -DCONSUMER=<dir>       the consumer's source folder
#   -DWORK=<dir>           scratch folder (wiped first)
#   -DGENERATOR=<name>     CMake generator (the one of the calling build)
#   -DINIT_CACHE=<file>    initial cache for every configure (compiler, flags, device system, Thrust)
#   -DMODE=install|subdirectory
#                          install: configure ssah alone, `cmake --install` it to WORK/prefix and
#                          point the consumer at that prefix; subdirectory: give the consumer the
#                          ssah source folder
#   -DSSAH_SOURCE_DIR=<dir>
#   -DRUN=<program>        program to run from the consumer's build folder afterwards (optional)
cmake_minimum_required(VERSION 3.18)
foreach(var CONSUMER WORK GENERATOR INIT_CACHE MODE SSAH_SOURCE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()

function(step what)
  message(STATUS "consumer: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: '${what}' failed (${rc})")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(consumer_args)
if(MODE STREQUAL "install")
  # What a user does: configure ssah on its own (tests, benchmarks and examples off, so none of
  # their dependencies are needed), install it, then find_package it from the prefix.
  step("configure ssah for install" "${CMAKE_COMMAND}" -G "${GENERATOR}" -C "${INIT_CACHE}" -S "${SSAH_SOURCE_DIR}"
       -B "${WORK}/ssah-build" -DSSAH_BUILD_TESTS=OFF -DSSAH_BUILD_BENCHMARKS=OFF -DSSAH_BUILD_EXAMPLES=OFF
       -DSSAH_INSTALL=ON)
  step("install ssah to ${WORK}/prefix" "${CMAKE_COMMAND}" --install "${WORK}/ssah-build" --prefix "${WORK}/prefix")
  set(consumer_args "-DCMAKE_PREFIX_PATH=${WORK}/prefix" "-DSSAH_EXPECTED_PREFIX=${WORK}/prefix")
elseif(MODE STREQUAL "subdirectory")
  set(consumer_args "-DSSAH_SOURCE_DIR=${SSAH_SOURCE_DIR}")
else()
  message(FATAL_ERROR "run_consumer.cmake: MODE must be install or subdirectory (got '${MODE}')")
endif()

step("configure ${CONSUMER}" "${CMAKE_COMMAND}" -G "${GENERATOR}" -C "${INIT_CACHE}" -S "${CONSUMER}" -B "${WORK}/build" ${consumer_args})
step("build" "${CMAKE_COMMAND}" --build "${WORK}/build")
if(DEFINED RUN AND NOT RUN STREQUAL "")
  step("run ${RUN}" "${WORK}/build/${RUN}")
endif()
