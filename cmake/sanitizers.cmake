# Sanitizer and fuzzing builds (see docs/guarantees.md and CMakePresets.json).
#
#   CONVJIT_SANITIZE=address,undefined   ASan + UBSan (preset `asan`, build-asan/)
#   CONVJIT_SANITIZE=thread              TSan (preset `tsan`, build-tsan/)
#   CONVJIT_FUZZ=ON                      the libFuzzer target convjit_fuzzer (clang only;
#                                        presets `fuzz` (build-fuzz/, scripts/fuzz.sh) and
#                                        `asan`, where CI fuzzes beside the unit tests)
#   CONVJIT_TESTS_O0=ON                  tests, tool and bench harness at -O0, the library at
#                                        the build type's level (presets asan and tsan)
#
# This file is included after the library and the tool are defined and before tests/ and
# bench/: the flags go onto the existing targets, and onto every target made afterwards
# through the directory's compile and link options.

set(CONVJIT_SANITIZE "" CACHE STRING "Sanitizers for every target: address,undefined or thread")
option(CONVJIT_FUZZ "Build the libFuzzer target convjit_fuzzer (clang)" OFF)
# A sanitizer build spends its time compiling instrumented test code (gtest tables, CLI11),
# which runs for seconds; the library, where the tests spend their time, keeps its -O level.
option(CONVJIT_TESTS_O0 "Compile the tests, the tool and the bench harness at -O0" OFF)

set(convjit_sanitize_flags "")
if(CONVJIT_SANITIZE)
  if(CONVJIT_SANITIZE MATCHES "thread" AND CONVJIT_SANITIZE MATCHES "address")
    message(FATAL_ERROR "CONVJIT_SANITIZE: thread and address cannot be combined")
  endif()
  list(APPEND convjit_sanitize_flags -fsanitize=${CONVJIT_SANITIZE} -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC's flow analysis is unreliable under sanitizer instrumentation (false
    # -Wmaybe-uninitialized in libstdc++'s <regex> at -O1); the normal build keeps it.
    list(APPEND convjit_sanitize_flags -Wno-maybe-uninitialized)
  endif()
  if(CONVJIT_SANITIZE MATCHES "undefined")
    # A UBSan report fails the test instead of scrolling by.
    list(APPEND convjit_sanitize_flags -fno-sanitize-recover=undefined)
  endif()
endif()
if(CONVJIT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CONVJIT_FUZZ needs clang++ (libFuzzer): configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ or the `fuzz` preset")
  endif()
  # Coverage instrumentation on the library and the fuzz target (below), not on the tests:
  # the `asan` preset builds the fuzzer beside the unit tests, whose executables get the
  # coverage callbacks' defaults from the ASan runtime. The fuzzer's main only in
  # convjit_fuzzer.
  set(convjit_fuzz_flags -fsanitize=fuzzer-no-link)
  foreach(t convjit convjit_disasm convjit_llvm)
    if(TARGET ${t})
      target_compile_options(${t} PRIVATE ${convjit_fuzz_flags})
    endif()
  endforeach()
endif()

if(convjit_sanitize_flags)
  message(STATUS "convjit: sanitizer flags ${convjit_sanitize_flags}")
  foreach(t convjit convjit_disasm convjit_llvm convjit_cli)
    if(TARGET ${t})
      target_compile_options(${t} PRIVATE ${convjit_sanitize_flags})
      target_link_options(${t} PRIVATE ${convjit_sanitize_flags})
    endif()
  endforeach()
  # Targets made after this point (tests, bench, fuzzer) in this directory and below.
  add_compile_options(${convjit_sanitize_flags})
  add_link_options(${convjit_sanitize_flags})
endif()

if(CONVJIT_TESTS_O0)
  # After the build type's -O level on the command line, so it wins.
  if(TARGET convjit_cli)
    target_compile_options(convjit_cli PRIVATE -O0)
  endif()
  add_compile_options(-O0)
endif()

if(CONVJIT_FUZZ)
  add_executable(convjit_fuzzer
    ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/libfuzzer/fuzz_target.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/fuzz_case.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/tools/conformance_case.cpp)
  target_include_directories(convjit_fuzzer PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                             ${CMAKE_CURRENT_SOURCE_DIR}/tests)
  target_compile_options(convjit_fuzzer PRIVATE ${CONVJIT_WARNINGS} ${convjit_fuzz_flags})
  target_link_options(convjit_fuzzer PRIVATE -fsanitize=fuzzer)
  target_link_libraries(convjit_fuzzer PRIVATE convjit fmt::fmt nlohmann_json::nlohmann_json)
  # The fuzzer runs for minutes: it keeps the build type's -O level under CONVJIT_TESTS_O0.
  get_target_property(convjit_fuzzer_options convjit_fuzzer COMPILE_OPTIONS)
  list(REMOVE_ITEM convjit_fuzzer_options -O0)
  set_target_properties(convjit_fuzzer PROPERTIES COMPILE_OPTIONS "${convjit_fuzzer_options}")
endif()
