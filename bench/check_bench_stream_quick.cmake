# Runs `convjit bench --stream --quick --json OUT` and checks the JSON: one object per
# streaming shape, in order, with the documented keys, positive times and rates, and every
# output check passed. Usage:
#   cmake -DCONVJIT=path/to/convjit -DOUT=out.json -DONEDNN=ON|OFF -P this
cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/bench_json_rows.cmake)

foreach(var CONVJIT OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_bench_stream_quick: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE "${OUT}")
execute_process(
  COMMAND "${CONVJIT}" bench --stream --quick --json "${OUT}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(NOT EXISTS "${OUT}")
  message(FATAL_ERROR "convjit bench --stream --quick exited with ${rc} and wrote no ${OUT}\n${err}")
endif()

set(names wavenet_d1 wavenet_d256 mamba_dw tcn_d4 frontend_s5)
list(LENGTH names expected)
file(READ "${OUT}" json)
string(JSON type ERROR_VARIABLE json_error TYPE "${json}")
if(json_error OR NOT type STREQUAL "ARRAY")
  message(FATAL_ERROR "${OUT} is not a JSON array: ${json_error}")
endif()
string(JSON count LENGTH "${json}")
if(NOT count EQUAL expected)
  message(FATAL_ERROR "${OUT} has ${count} objects, the streaming bench ${expected} shapes")
endif()

set(numbers threads flops_per_output peak_gflops step1_us step1_gflops step1_pct_peak
  step64_us step64_gflops step64_pct_peak window_convjit_us naive_us
  speedup_vs_window_convjit speedup_vs_naive t256_stream_us t256_stream_gflops t256_full_us
  t256_full_gflops t256_ratio)
set(strings name spec kernel date cpu check)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  list(GET names ${i} want_name)
  string(JSON name GET "${json}" ${i} name)
  if(NOT name STREQUAL want_name)
    message(FATAL_ERROR "object ${i} is '${name}', expected '${want_name}'")
  endif()
  set(row_numbers ${numbers})
  # oneDNN has an eltwise post-op for every activation of these shapes.
  if(ONEDNN)
    list(APPEND row_numbers window_onednn_us speedup_vs_window_onednn)
  endif()
  convjit_check_bench_row("${json}" ${i} "${name}" "${row_numbers}" "${strings}")
endforeach()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "convjit bench --stream --quick exited with ${rc}\n${err}")
endif()
message(STATUS "bench_stream_quick: ${count} shapes, JSON complete, every check passed")
