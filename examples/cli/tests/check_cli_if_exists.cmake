# check_cli.cmake when the file NEED exists (real data); otherwise prints SKIPPED (the test's
# SKIP_REGULAR_EXPRESSION) and passes.
if(NOT EXISTS "${NEED}")
  message("SKIPPED: ${NEED} not found (real data; configure with -DSSAH_DATA_DIR=...)")
  return()
endif()
include("${CMAKE_CURRENT_LIST_DIR}/check_cli.cmake")
