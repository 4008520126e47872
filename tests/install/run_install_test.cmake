# The install test (ctest: install_examples), run with cmake -P by cmake/install.cmake:
#
#  1. `cmake --install` the current build into WORK_DIR/prefix, and check the file list;
#  2. no installed header includes anything from Xbyak, LLVM, fmt or nlohmann;
#  3. tests/install/consumer: find_package(convjit VERSION EXACT), each header compiled
#     alone (C++ and C), a host linked against the static library, run, and a
#     convjit_add_aot_kernel() kernel when the package has that function;
#  4. examples/wavenet, examples/streaming and examples/c, each configured as its own CMake
#     project against the prefix, built, run, and their output checked;
#  5. examples/c built again with plain `cc` and `pkg-config --cflags --libs convjit`;
#  6. the installed `convjit` tool runs.
#
# Inputs (-D): CONVJIT_SOURCE_DIR CONVJIT_BUILD_DIR WORK_DIR GENERATOR C_COMPILER CXX_COMPILER
#              CXX_FLAGS LINKER_FLAGS SANITIZE_FLAGS VERSION
cmake_minimum_required(VERSION 3.20)

foreach(var CONVJIT_SOURCE_DIR CONVJIT_BUILD_DIR WORK_DIR GENERATOR C_COMPILER CXX_COMPILER VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_install_test.cmake needs -D${var}=...")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
string(TIMESTAMP start_seconds "%s")

# Runs a command; stops the test with its output when it fails. The output goes to
# <out_var>.
function(step title out_var)
  string(TIMESTAMP now "%s")
  math(EXPR elapsed "${now} - ${start_seconds}")
  message(STATUS "[${elapsed}s] ${title}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "FAILED: ${title} (exit ${status})\ncommand: ${ARGN}\n"
                        "--- stdout ---\n${out}\n--- stderr ---\n${err}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

# Checks that `text` matches each regular expression.
function(expect what text)
  foreach(regex IN LISTS ARGN)
    if(NOT text MATCHES "${regex}")
      message(FATAL_ERROR "FAILED: ${what}: no match for '${regex}' in:\n${text}")
    endif()
  endforeach()
endfunction()

# Configures, builds a CMake project against the prefix.
function(build_project title source binary)
  step("configure ${title}" out "${CMAKE_COMMAND}" -S "${source}" -B "${binary}" -G "${GENERATOR}"
       "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=Release"
       "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
       "-DCMAKE_C_FLAGS=${SANITIZE_FLAGS}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS} ${SANITIZE_FLAGS}"
       "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS} ${SANITIZE_FLAGS}"
       # Only the prefix: no system-wide or user convjit package may answer find_package.
       "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF" ${ARGN})
  step("build ${title}" out "${CMAKE_COMMAND}" --build "${binary}" -j 2)
endfunction()

# --- 1. install ---
step("cmake --install into ${prefix}" out "${CMAKE_COMMAND}" --install "${CONVJIT_BUILD_DIR}"
     --prefix "${prefix}")
file(GLOB_RECURSE installed RELATIVE "${prefix}" "${prefix}/*")
list(SORT installed)
string(REPLACE ";" "\n" installed_text "${installed}")
set(lib_dir "")
foreach(file IN LISTS installed)
  if(file MATCHES "^(.*)/libconvjit\\.a$")
    set(lib_dir "${CMAKE_MATCH_1}")
  endif()
endforeach()
if(lib_dir STREQUAL "")
  message(FATAL_ERROR "FAILED: no libconvjit.a installed:\n${installed_text}")
endif()
string(REPLACE "." "\\." version_regex "${VERSION}")
expect("installed files" "${installed_text}"
       "(^|\n)bin/convjit\n"
       "(^|\n)include/convjit/convjit\\.h\n"
       "(^|\n)include/convjit/convjit\\.hpp\n"
       "(^|\n)include/convjit/version\\.hpp\n"
       "(^|\n)include/convjit/kernel\\.hpp\n"
       "\n${lib_dir}/libconvjit\\.so\n"
       "\n${lib_dir}/libconvjit\\.so\\.${version_regex}\n"
       "\n${lib_dir}/cmake/convjit/convjitConfig\\.cmake\n"
       "\n${lib_dir}/cmake/convjit/convjitConfigVersion\\.cmake\n"
       "\n${lib_dir}/cmake/convjit/convjitTargets\\.cmake\n"
       "\n${lib_dir}/pkgconfig/convjit\\.pc(\n|$)")
foreach(file IN LISTS installed)
  if(file MATCHES "^include/" AND NOT file MATCHES "^include/convjit/[a-z_0-9]+\\.(h|hpp)$")
    message(FATAL_ERROR "FAILED: unexpected file under include/: ${file}")
  endif()
endforeach()
file(READ "${prefix}/include/convjit/version.hpp" version_header)
string(REPLACE "." ";" version_parts "${VERSION}")
list(GET version_parts 0 major)
list(GET version_parts 1 minor)
list(GET version_parts 2 patch)
expect("version.hpp" "${version_header}" "#define CONVJIT_VERSION_MAJOR ${major}\n"
       "#define CONVJIT_VERSION_MINOR ${minor}\n" "#define CONVJIT_VERSION_PATCH ${patch}\n"
       "#define CONVJIT_VERSION_STRING \"${version_regex}\"")

# --- 2. public headers include nothing private ---
file(GLOB headers "${prefix}/include/convjit/*")
foreach(header IN LISTS headers)
  file(STRINGS "${header}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(line MATCHES "xbyak|llvm|fmt/|nlohmann|CLI/|compiler/|runtime/")
      message(FATAL_ERROR "FAILED: ${header} includes a private dependency: ${line}")
    endif()
  endforeach()
endforeach()

# --- 3. the consumer project: version, targets, headers alone, static link ---
build_project("consumer (headers, static library)" "${CONVJIT_SOURCE_DIR}/tests/install/consumer"
              "${WORK_DIR}/consumer" "-DEXPECTED_VERSION=${VERSION}")
step("run static_host" out "${WORK_DIR}/consumer/static_host")
expect("static_host" "${out}" "static host: conv1d_[a-z0-9_]+, max error [0-9.e+-]+: ok")
step("readelf static_host" out readelf -d "${WORK_DIR}/consumer/static_host")
if(out MATCHES "libconvjit")
  message(FATAL_ERROR "FAILED: static_host depends on the shared library:\n${out}")
endif()

if(EXISTS "${prefix}/${lib_dir}/cmake/convjit/ConvjitAot.cmake" AND
   NOT EXISTS "${WORK_DIR}/consumer/aot_host")
  message(FATAL_ERROR "FAILED: the package has convjit_add_aot_kernel but aot_host was not built")
endif()

# --- 4. the examples, as their own projects ---
build_project("examples/wavenet" "${CONVJIT_SOURCE_DIR}/examples/wavenet" "${WORK_DIR}/wavenet")
step("run wavenet" out "${WORK_DIR}/wavenet/wavenet"
     "${CONVJIT_SOURCE_DIR}/examples/wavenet/wavenet.jsonl" 300 3000 1200)
message(STATUS "wavenet output:\n${out}")
expect("wavenet" "${out}"
       "convjit ${version_regex}: 10 layers from [^\n]*wavenet\\.jsonl"
       "dilated_7    dilation 128 residual 32 -> 32 channels, glu"
       "first forward pass: [^\n]* ms, 10 compiles, 0 cache hits \\(10 layers\\)"
       "\nlength    300: [^\n]* ms [^\n]*checksum"
       "\nlength   3000: "
       "\nlength   1200: "
       "while the length changed: 0 compiles, 0 cache hits"
       "causality: [^\n]*: ok")
step("readelf wavenet" out readelf -d "${WORK_DIR}/wavenet/wavenet")
expect("wavenet links the shared library" "${out}" "NEEDED[^\n]*libconvjit\\.so")

build_project("examples/streaming" "${CONVJIT_SOURCE_DIR}/examples/streaming"
              "${WORK_DIR}/streaming")
step("run streaming" out "${WORK_DIR}/streaming/streaming")
message(STATUS "streaming output:\n${out}")
expect("streaming" "${out}"
       "convjit ${version_regex}: streaming Conv1D"
       "wavenet: 11 layers \\(receptive field 513 samples\\), 16000 samples one at a time: [0-9.]+ us per sample"
       "\nwavenet: last samples -?[0-9]"
       "\nwavenet: bit-identical to the whole-sequence layers: yes"
       "\nmamba: 64 streams in a pool of 96 slots, depthwise 1536 channels K4 silu: [0-9.]+ us per decode step \\(64 steps, [1-9][0-9]* sequences finished"
       "\nmamba: [0-9]+ sequences bit-identical to the whole-sequence kernel: yes")

build_project("examples/c" "${CONVJIT_SOURCE_DIR}/examples/c" "${WORK_DIR}/c")
step("run the C example" c_out "${WORK_DIR}/c/convjit_c_example")
message(STATUS "C example output:\n${c_out}")
set(c_expectations
    "convjit ${version_regex} \\(headers ${version_regex}\\)"
    "kernel: conv1d_[a-z0-9_]+relu"
    "length 8: [^\n]*max error 0: ok"
    "length 1000: [^\n]*: ok"
    "cache: 1 misses, 1 hits"
    "asm: ; kernel: conv1d_"
    "error: invalid_value, argument 'filters': [^\n]*filters")
expect("C example" "${c_out}" ${c_expectations})

# --- 5. pkg-config, with a plain compiler command ---
find_program(PKG_CONFIG NAMES pkg-config pkgconf)
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "FAILED: pkg-config is not installed (Debian: pkgconf)")
endif()
set(pc_env "PKG_CONFIG_PATH=${prefix}/${lib_dir}/pkgconfig")
step("pkg-config --modversion" out "${CMAKE_COMMAND}" -E env "${pc_env}" "${PKG_CONFIG}"
     --modversion convjit)
expect("pkg-config --modversion" "${out}" "^${version_regex}\n")
step("pkg-config --cflags --libs" out "${CMAKE_COMMAND}" -E env "${pc_env}" "${PKG_CONFIG}"
     --cflags --libs convjit)
string(STRIP "${out}" out)
separate_arguments(pc_flags UNIX_COMMAND "${out}")
separate_arguments(sanitize_flags UNIX_COMMAND "${SANITIZE_FLAGS}")
step("cc with pkg-config flags" out "${C_COMPILER}" -std=c99 -Wall -Wextra -Werror ${sanitize_flags}
     "${CONVJIT_SOURCE_DIR}/examples/c/main.c" ${pc_flags} -lm
     "-Wl,-rpath,${prefix}/${lib_dir}" -o "${WORK_DIR}/c_pkg_config")
step("run the pkg-config build" out "${WORK_DIR}/c_pkg_config")
expect("C example (pkg-config)" "${out}" ${c_expectations})

# --- 6. the installed tool ---
step("convjit asm" out "${prefix}/bin/convjit" asm "filters=8,kernel_size=3" --input "1,16,4")
expect("convjit asm" "${out}" "conv1d_")

string(TIMESTAMP now "%s")
math(EXPR elapsed "${now} - ${start_seconds}")
message(STATUS "install test passed in ${elapsed}s")
