# Fails when a header under include/ssah includes one from a higher layer (docs/architecture.md):
#   cmake -DSSAH_INCLUDE_DIR=include -P .ci/check-layers.cmake
# Registered as the CTest test `ssah_layers`, so every test run (CI's included) checks it.
#
# Layers, lowest first; a header may include headers of its own layer and of lower ones:
#   core      config.hpp error.hpp host_rng.hpp shape.hpp random.hpp tensor.hpp gemm.hpp tensor_ops.hpp
#             autodiff.hpp detail/ core.hpp
#   ops       ops/ ops.hpp
#   nn        nn/ parameters.hpp init.hpp optim.hpp nn.hpp
#   model     model/ model.hpp
#   pipeline  pipeline.hpp
#   adapters  recipes.hpp checkpoint.hpp matconvnet.hpp (join the model with io/ formats)
#   umbrella  ssah.hpp
# and beside them, on host arrays without tensors or autodiff: hashing/ < eval/ < io/, data/
# (each with its umbrella: hashing.hpp, eval.hpp, io.hpp), and dist/ (communicators, and hashing and
# eval spread over ranks: it includes those two).
# These may include config.hpp, error.hpp, host_rng.hpp and detail/ of the core and the side layers below them;
# only pipeline and the layers above it include them, except that model/ may include dist/communicator.hpp
# (the interface the trainer runs data-parallel through).
if(NOT SSAH_INCLUDE_DIR)
  set(SSAH_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../include")
endif()
# Relative to where cmake runs (file(GLOB ... RELATIVE) finds nothing with a relative directory).
get_filename_component(SSAH_INCLUDE_DIR "${SSAH_INCLUDE_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")

# Layer of a header path relative to include/ (ssah/...): a name, and a rank for the main stack.
function(ssah_layer header out_name out_rank)
  string(REGEX REPLACE "^ssah/" "" h "${header}")
  set(name "")
  if(h MATCHES "^(config|error|host_rng|shape|random|tensor|gemm|tensor_ops|autodiff|core)\\.hpp$" OR h MATCHES "^detail/")
    set(name core)
    set(rank 0)
  elseif(h MATCHES "^ops/" OR h STREQUAL "ops.hpp")
    set(name ops)
    set(rank 1)
  elseif(h MATCHES "^nn/" OR h MATCHES "^(parameters|init|optim|nn)\\.hpp$")
    set(name nn)
    set(rank 2)
  elseif(h MATCHES "^model/" OR h STREQUAL "model.hpp")
    set(name model)
    set(rank 3)
  elseif(h STREQUAL "pipeline.hpp")
    set(name pipeline)
    set(rank 4)
  elseif(h MATCHES "^(recipes|checkpoint|matconvnet)\\.hpp$")
    set(name adapters)
    set(rank 5)
  elseif(h STREQUAL "ssah.hpp")
    set(name umbrella)
    set(rank 6)
  elseif(h MATCHES "^hashing/" OR h STREQUAL "hashing.hpp")
    set(name hashing)
    set(rank -1)
  elseif(h MATCHES "^eval/" OR h STREQUAL "eval.hpp")
    set(name eval)
    set(rank -2)
  elseif(h MATCHES "^io/" OR h STREQUAL "io.hpp")
    set(name io)
    set(rank -3)
  elseif(h MATCHES "^data/")
    set(name data)
    set(rank -4)
  elseif(h MATCHES "^dist/")
    set(name dist)
    set(rank -5)
  else()
    set(name unknown)
    set(rank 99)
  endif()
  set(${out_name} ${name} PARENT_SCOPE)
  set(${out_rank} ${rank} PARENT_SCOPE)
endfunction()

# Whether a header of layer `from` may include one of layer `to`.
function(ssah_may_include from from_rank to to_rank included out)
  set(ok FALSE)
  if(from_rank GREATER_EQUAL 0 AND to_rank GREATER_EQUAL 0)
    if(to_rank LESS_EQUAL from_rank)
      set(ok TRUE)
    endif()
  elseif(from_rank GREATER_EQUAL 3 AND included STREQUAL "ssah/dist/communicator.hpp")
    set(ok TRUE)  # the trainer trains over ranks through the interface alone (error.hpp its only include)
  elseif(from_rank GREATER_EQUAL 4)  # pipeline and above: anything of the side layers
    set(ok TRUE)
  elseif(from_rank LESS 0)  # a side layer
    if(to STREQUAL "core")
      set(ok TRUE)  # narrowed below to config.hpp, error.hpp, host_rng.hpp, detail/
    elseif(to_rank LESS 0)
      # hashing (-1) < eval (-2) < io (-3); data (-4) includes none of them; dist (-5) spreads
      # hashing and eval over ranks.
      if(from STREQUAL to OR (from_rank GREATER -4 AND to_rank GREATER_EQUAL from_rank)
         OR (from STREQUAL "dist" AND to_rank GREATER_EQUAL -2))
        set(ok TRUE)
      endif()
    endif()
  endif()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE headers RELATIVE "${SSAH_INCLUDE_DIR}" "${SSAH_INCLUDE_DIR}/ssah/*.hpp")
list(SORT headers)
set(violations "")
foreach(header IN LISTS headers)
  ssah_layer("${header}" from from_rank)
  if(from STREQUAL "unknown")
    string(APPEND violations "\n  ${header}: in no layer (add it to .ci/check-layers.cmake and docs/architecture.md)")
    continue()
  endif()
  file(STRINGS "${SSAH_INCLUDE_DIR}/${header}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"ssah/")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*$" "\\1" included "${line}")
    ssah_layer("${included}" to to_rank)
    ssah_may_include(${from} ${from_rank} ${to} ${to_rank} "${included}" ok)
    if(ok AND from_rank LESS 0 AND to STREQUAL "core"
       AND NOT included MATCHES "^ssah/(config\\.hpp|error\\.hpp|host_rng\\.hpp|detail/)")
      set(ok FALSE)
    endif()
    if(NOT ok)
      string(APPEND violations "\n  ${header} (${from}) includes ${included} (${to})")
    endif()
  endforeach()
endforeach()

list(LENGTH headers count)
if(count EQUAL 0)
  message(FATAL_ERROR "no headers under ${SSAH_INCLUDE_DIR}/ssah: wrong SSAH_INCLUDE_DIR")
endif()
if(violations)
  message(FATAL_ERROR "includes against the layers of docs/architecture.md:${violations}")
endif()
message(STATUS "layers: ${count} headers, every include goes to the same or a lower layer")
