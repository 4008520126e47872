# convjit_add_aot_kernel: generate a Conv1D kernel ahead of time, at build time.
#
#   convjit_add_aot_kernel(
#     TARGET   my_conv                  # a C identifier: the kernel function, header and target
#     SPEC     "filters=64,kernel_size=3,padding=causal,activation=relu"   # or get_config JSON
#     INPUT    "1,?,32"                 # N,L,C in data_format order; ? (or None) = run time
#     [ISA     avx512|avx2|x86-64]      # default avx2; x86-64 runs on any x86-64 CPU (SSE2)
#     [SCHEDULE "tile_t=4 tile_oc_vecs=2"]
#     [CONVJIT  /path/to/convjit])      # default: the convjit_cli target of this build, else
#                                       # `convjit` found on PATH
#
# Runs `convjit aot SPEC --input INPUT --isa ISA -o <build dir>/convjit_aot/TARGET` and makes
# TARGET a static library holding TARGET.o, whose include directory holds TARGET.h and which
# links libm. Link it and `#include "TARGET.h"`; nothing else of convjit is needed.
function(convjit_add_aot_kernel)
  cmake_parse_arguments(AOT "" "TARGET;SPEC;INPUT;ISA;SCHEDULE;CONVJIT" "" ${ARGN})
  if(NOT AOT_TARGET OR NOT AOT_SPEC OR NOT AOT_INPUT)
    message(FATAL_ERROR "convjit_add_aot_kernel: TARGET, SPEC and INPUT are required")
  endif()
  if(NOT AOT_ISA)
    set(AOT_ISA avx2)
  endif()
  set(tool_depends "")
  if(AOT_CONVJIT)
    set(tool ${AOT_CONVJIT})
  elseif(TARGET convjit_cli)
    set(tool $<TARGET_FILE:convjit_cli>)
    set(tool_depends convjit_cli)
  else()
    find_program(CONVJIT_EXECUTABLE convjit REQUIRED)
    set(tool ${CONVJIT_EXECUTABLE})
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/convjit_aot)
  set(prefix ${dir}/${AOT_TARGET})
  set(schedule_args "")
  if(AOT_SCHEDULE)
    set(schedule_args --schedule "${AOT_SCHEDULE}")
  endif()
  add_custom_command(
    OUTPUT ${prefix}.o ${prefix}.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${tool} aot "${AOT_SPEC}" --input "${AOT_INPUT}" --isa ${AOT_ISA} ${schedule_args}
            -o ${prefix}
    DEPENDS ${tool_depends}
    COMMENT "convjit aot ${AOT_TARGET} (${AOT_ISA})"
    VERBATIM)
  set_source_files_properties(${prefix}.o PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${AOT_TARGET} STATIC ${prefix}.o ${prefix}.h)
  set_target_properties(${AOT_TARGET} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${AOT_TARGET} INTERFACE ${dir})
  find_library(CONVJIT_LIBM m)
  if(CONVJIT_LIBM)
    target_link_libraries(${AOT_TARGET} INTERFACE ${CONVJIT_LIBM})
  endif()
endfunction()
