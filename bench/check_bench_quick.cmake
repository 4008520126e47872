# Runs `convjit bench --quick --json OUT` on SUITE and checks the JSON: one object per suite
# shape, in suite order, with the documented keys, positive times and rates, and every
# output check passed. Usage:
#   cmake -DCONVJIT=path/to/convjit -DSUITE=suite.csv -DOUT=out.json -DONEDNN=ON|OFF -P this
cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/bench_json_rows.cmake)

foreach(var CONVJIT SUITE OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_bench_quick: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE "${OUT}")
execute_process(
  COMMAND "${CONVJIT}" bench --quick --suite "${SUITE}" --json "${OUT}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(NOT EXISTS "${OUT}")
  message(FATAL_ERROR "convjit bench --quick exited with ${rc} and wrote no ${OUT}\n${err}")
endif()
# A non-zero status with a JSON means a failed check: the loop below names the shape.

# The suite's shape names, in order (skipping the header and blank lines).
file(STRINGS "${SUITE}" lines)
set(names "")
set(header TRUE)
foreach(line IN LISTS lines)
  if(line STREQUAL "" OR line MATCHES "^#")
    continue()
  endif()
  if(header)
    set(header FALSE)
    continue()
  endif()
  string(REGEX MATCH "^[^,]+" name "${line}")
  list(APPEND names "${name}")
endforeach()
list(LENGTH names expected)

file(READ "${OUT}" json)
string(JSON type ERROR_VARIABLE json_error TYPE "${json}")
if(json_error OR NOT type STREQUAL "ARRAY")
  message(FATAL_ERROR "${OUT} is not a JSON array: ${json_error}")
endif()
string(JSON count LENGTH "${json}")
if(NOT count EQUAL expected)
  message(FATAL_ERROR "${OUT} has ${count} objects, the suite ${expected} shapes")
endif()

set(numbers threads time_us gflops pct_peak compile_us peak_gflops)
set(strings name date cpu check)
if(ONEDNN)
  list(APPEND numbers onednn_time_us onednn_gflops ratio_vs_onednn)
endif()
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  list(GET names ${i} want_name)
  string(JSON name GET "${json}" ${i} name)
  if(NOT name STREQUAL want_name)
    message(FATAL_ERROR "object ${i} is '${name}', the suite's shape ${i} is '${want_name}'")
  endif()
  convjit_check_bench_row("${json}" ${i} "${name}" "${numbers}" "${strings}")
endforeach()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "convjit bench --quick exited with ${rc}\n${err}")
endif()
message(STATUS "bench_quick: ${count} shapes, JSON complete, every check passed")
