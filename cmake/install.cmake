# Installing convjit for hosts: `cmake --install build --prefix PREFIX` puts in PREFIX
#
#   include/convjit/*.hpp, convjit.h, version.hpp   public headers (nothing from Xbyak or LLVM)
#   lib/libconvjit.so.X.Y.Z (+ links)                the shared library: convjit::convjit
#   lib/libconvjit.a                                  the static library: convjit::convjit_static
#   bin/convjit                                       the tool: convjit::tool
#   lib/cmake/convjit/convjitConfig*.cmake            find_package(convjit)
#   lib/pkgconfig/convjit.pc                          pkg-config convjit
#
# The shared library is libconvjit.a linked whole (no second compile), with fmt and LLVM
# as its own dependencies. The installed libconvjit.a is self-contained: the library's
# internal static parts (convjit_disasm, convjit_llvm, ...) are merged into it, and what
# stays outside (system libraries such as libfmt and libLLVM) is listed in the package
# config and in convjit.pc's Libs.private by full path. docs/hosts.md has the details.
#
# Included by the top-level CMakeLists.txt after the library, the tool and the optional
# backends, before tests.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CONVJIT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/convjit")
set(CONVJIT_GENERATED_DIR "${PROJECT_BINARY_DIR}/generated")

# --- The version header, on the library's public include path in the build tree too. ---
configure_file("${CMAKE_CURRENT_LIST_DIR}/version.hpp.in"
               "${CONVJIT_GENERATED_DIR}/include/convjit/version.hpp" @ONLY)
target_include_directories(convjit PUBLIC $<BUILD_INTERFACE:${CONVJIT_GENERATED_DIR}/include>)

# --- What the static library needs besides itself. ---
# Walks the link libraries of convjit: our own static libraries are merged into the
# installed archive; imported libraries are linked by file; Threads stays Threads::Threads;
# header-only (INTERFACE) libraries bring nothing.
function(_convjit_walk_links target)
  get_target_property(imported ${target} IMPORTED)
  get_target_property(type ${target} TYPE)
  if(imported OR type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(items ${target} INTERFACE_LINK_LIBRARIES)
  else()
    get_target_property(items ${target} LINK_LIBRARIES)
  endif()
  if(NOT items)
    return()
  endif()
  foreach(item IN LISTS items)
    if(item MATCHES "^::@")  # directory markers of target_link_libraries from elsewhere
      continue()
    endif()
    if(item MATCHES "^\\$<LINK_ONLY:([^$<>]+)>$")
      set(item "${CMAKE_MATCH_1}")
    endif()
    if(item MATCHES "^Threads::Threads$")
      set_property(GLOBAL APPEND PROPERTY _CONVJIT_STATIC_LINKS "Threads::Threads")
      continue()
    endif()
    if(NOT TARGET "${item}")
      if(NOT item STREQUAL "")
        set_property(GLOBAL APPEND PROPERTY _CONVJIT_STATIC_LINKS "${item}")
      endif()
      continue()
    endif()
    get_target_property(aliased ${item} ALIASED_TARGET)
    if(aliased)
      set(item "${aliased}")
    endif()
    get_property(seen GLOBAL PROPERTY _CONVJIT_SEEN)
    if(item IN_LIST seen)
      continue()
    endif()
    set_property(GLOBAL APPEND PROPERTY _CONVJIT_SEEN "${item}")
    get_target_property(item_type ${item} TYPE)
    get_target_property(item_imported ${item} IMPORTED)
    if(item_type STREQUAL "STATIC_LIBRARY" AND NOT item_imported)
      set_property(GLOBAL APPEND PROPERTY _CONVJIT_STATIC_MERGE "${item}")
    elseif(item_type STREQUAL "STATIC_LIBRARY" OR item_type STREQUAL "SHARED_LIBRARY")
      set_property(GLOBAL APPEND PROPERTY _CONVJIT_STATIC_LINKS "$<TARGET_LINKER_FILE:${item}>")
    elseif(item_type STREQUAL "UNKNOWN_LIBRARY")
      set_property(GLOBAL APPEND PROPERTY _CONVJIT_STATIC_LINKS "$<TARGET_FILE:${item}>")
    endif()
    _convjit_walk_links(${item})
  endforeach()
endfunction()

set_property(GLOBAL PROPERTY _CONVJIT_SEEN convjit)
set_property(GLOBAL PROPERTY _CONVJIT_STATIC_MERGE "")
set_property(GLOBAL PROPERTY _CONVJIT_STATIC_LINKS "")
_convjit_walk_links(convjit)
get_property(_convjit_merge GLOBAL PROPERTY _CONVJIT_STATIC_MERGE)
get_property(_convjit_links GLOBAL PROPERTY _CONVJIT_STATIC_LINKS)
list(REMOVE_DUPLICATES _convjit_links)
list(REMOVE_ITEM _convjit_links "Threads::Threads")
list(APPEND _convjit_links "Threads::Threads")

# --- The shared library: libconvjit.a linked whole, no second compile. ---
file(CONFIGURE OUTPUT "${CONVJIT_GENERATED_DIR}/convjit_shared.cpp"
     CONTENT "// libconvjit.so is libconvjit.a linked whole (cmake/install.cmake).\n")
add_library(convjit_shared SHARED "${CONVJIT_GENERATED_DIR}/convjit_shared.cpp")
add_library(convjit::convjit_shared ALIAS convjit_shared)
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.24)
  target_link_libraries(convjit_shared PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,convjit>")
else()
  target_link_options(convjit_shared PRIVATE "LINKER:--whole-archive" "$<TARGET_FILE:convjit>"
                      "LINKER:--no-whole-archive")
  target_link_libraries(convjit_shared PRIVATE convjit)
endif()
target_include_directories(convjit_shared INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${CONVJIT_GENERATED_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(convjit_shared INTERFACE cxx_std_17)
set_target_properties(convjit_shared PROPERTIES
  OUTPUT_NAME convjit
  EXPORT_NAME convjit
  VERSION ${PROJECT_VERSION}
  # Before 1.0 a minor release may break the ABI.
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
  INSTALL_RPATH_USE_LINK_PATH ON)
set_target_properties(convjit_cli PROPERTIES EXPORT_NAME tool INSTALL_RPATH_USE_LINK_PATH ON)

# --- The installed static library: libconvjit.a with our internal archives merged in. ---
set(_convjit_archive "${CONVJIT_GENERATED_DIR}/lib/libconvjit.a")
set(_convjit_archive_inputs "$<TARGET_FILE:convjit>")
foreach(lib IN LISTS _convjit_merge)
  list(APPEND _convjit_archive_inputs "$<TARGET_FILE:${lib}>")
endforeach()
list(JOIN _convjit_archive_inputs "\naddlib " _convjit_addlibs)
file(GENERATE OUTPUT "${CONVJIT_GENERATED_DIR}/merge_archives.mri"
     CONTENT "create ${_convjit_archive}\naddlib ${_convjit_addlibs}\nsave\nend\n")
file(GENERATE OUTPUT "${CONVJIT_GENERATED_DIR}/merge_archives.cmake" CONTENT "
file(MAKE_DIRECTORY \"${CONVJIT_GENERATED_DIR}/lib\")
file(REMOVE \"${_convjit_archive}\")
execute_process(COMMAND \"${CMAKE_AR}\" -M INPUT_FILE \"${CONVJIT_GENERATED_DIR}/merge_archives.mri\"
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR \"merging the static archives failed: \${status}\")
endif()
execute_process(COMMAND \"${CMAKE_RANLIB}\" \"${_convjit_archive}\")
")
add_custom_command(OUTPUT "${_convjit_archive}"
  COMMAND "${CMAKE_COMMAND}" -P "${CONVJIT_GENERATED_DIR}/merge_archives.cmake"
  DEPENDS convjit ${_convjit_merge}
  COMMENT "Merging libconvjit.a for installation"
  VERBATIM)
add_custom_target(convjit_static_archive ALL DEPENDS "${_convjit_archive}")

# --- Installation. ---
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/convjit"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(FILES "${CONVJIT_GENERATED_DIR}/include/convjit/version.hpp"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/convjit")
install(TARGETS convjit_shared convjit_cli EXPORT convjitTargets
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES "${_convjit_archive}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(EXPORT convjitTargets NAMESPACE convjit:: DESTINATION "${CONVJIT_INSTALL_CMAKEDIR}")

# The package config: the exported targets plus convjit::convjit_static, whose link
# dependencies are generator expressions resolved here (hence file(GENERATE)).
list(JOIN _convjit_links ";" CONVJIT_STATIC_LINK_LIBRARIES)
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/convjitConfig.cmake.in"
  "${CONVJIT_GENERATED_DIR}/convjitConfig.cmake.in"
  INSTALL_DESTINATION "${CONVJIT_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
file(GENERATE OUTPUT "${CONVJIT_GENERATED_DIR}/convjitConfig.cmake"
     INPUT "${CONVJIT_GENERATED_DIR}/convjitConfig.cmake.in")
write_basic_package_version_file("${CONVJIT_GENERATED_DIR}/convjitConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES "${CONVJIT_GENERATED_DIR}/convjitConfig.cmake"
              "${CONVJIT_GENERATED_DIR}/convjitConfigVersion.cmake"
        DESTINATION "${CONVJIT_INSTALL_CMAKEDIR}")
# convjit_add_aot_kernel() for hosts (cmake/ConvjitAot.cmake, when this build has it): the
# package config includes it and points it at the installed tool.
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/ConvjitAot.cmake")
  install(FILES "${CMAKE_CURRENT_LIST_DIR}/ConvjitAot.cmake" DESTINATION "${CONVJIT_INSTALL_CMAKEDIR}")
endif()

# pkg-config: relocatable through ${pcfiledir}. Libs.private lists what a static link needs.
set(_convjit_pc_libs_private "")
foreach(link IN LISTS _convjit_links)
  if(link STREQUAL "Threads::Threads")
    string(APPEND _convjit_pc_libs_private " -pthread")
  elseif(link MATCHES "^-")
    string(APPEND _convjit_pc_libs_private " ${link}")
  elseif(link MATCHES "^\\$<" OR IS_ABSOLUTE "${link}")
    string(APPEND _convjit_pc_libs_private " ${link}")
  else()
    string(APPEND _convjit_pc_libs_private " -l${link}")
  endif()
endforeach()
string(APPEND _convjit_pc_libs_private " -lstdc++ -lm")
string(STRIP "${_convjit_pc_libs_private}" CONVJIT_PC_LIBS_PRIVATE)
file(RELATIVE_PATH CONVJIT_PC_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" CONVJIT_PC_PREFIX "${CONVJIT_PC_PREFIX}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/convjit.pc.in" "${CONVJIT_GENERATED_DIR}/convjit.pc.in"
               @ONLY)
file(GENERATE OUTPUT "${CONVJIT_GENERATED_DIR}/convjit.pc"
     INPUT "${CONVJIT_GENERATED_DIR}/convjit.pc.in")
install(FILES "${CONVJIT_GENERATED_DIR}/convjit.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# --- The install test: install into a temporary prefix, build the examples against it. ---
# A sanitizer build installs sanitized libraries: the test's projects get the same
# -fsanitize flags so that they link. Fuzzing builds (coverage callbacks without the fuzzer
# runtime) do not install usable libraries and have no install test.
set(_convjit_test_sanitize "")
if(CONVJIT_SANITIZE)
  set(_convjit_test_sanitize "-fsanitize=${CONVJIT_SANITIZE}")
endif()
if(CONVJIT_BUILD_TESTS AND CONVJIT_FUZZ)
  message(STATUS "convjit: no install test in a CONVJIT_FUZZ build")
elseif(CONVJIT_BUILD_TESTS)
  add_test(NAME install_examples
    COMMAND "${CMAKE_COMMAND}"
            "-DCONVJIT_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
            "-DCONVJIT_BUILD_DIR=${PROJECT_BINARY_DIR}"
            "-DWORK_DIR=${PROJECT_BINARY_DIR}/install_test"
            "-DGENERATOR=${CMAKE_GENERATOR}"
            "-DC_COMPILER=${CMAKE_C_COMPILER}"
            "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
            "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}"
            "-DLINKER_FLAGS=${CMAKE_EXE_LINKER_FLAGS}"
            "-DSANITIZE_FLAGS=${_convjit_test_sanitize}"
            "-DVERSION=${PROJECT_VERSION}"
            -P "${PROJECT_SOURCE_DIR}/tests/install/run_install_test.cmake")
  # Starts early in a parallel ctest run: it is one of the longest tests.
  set_tests_properties(install_examples PROPERTIES TIMEOUT 600 COST 10000 LABELS install)
endif()
