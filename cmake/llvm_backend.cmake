# The LLVM backend (compiler/backend/llvm): a second code generator (ORC LLJIT), the path to
# x86-64 CPUs without AVX2, and ahead-of-time kernels (`convjit aot`). LLVM headers are
# included only here, as system headers; the objects are part of libconvjit.a.
file(GLOB CONVJIT_LLVM_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/compiler/backend/llvm/*.cpp)
add_library(convjit_llvm OBJECT ${CONVJIT_LLVM_SOURCES})
target_include_directories(convjit_llvm PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_include_directories(convjit_llvm SYSTEM PRIVATE ${LLVM_INCLUDE_DIRS})
# Debian's LLVM 16 is built with RTTI (llvm-config-16 --has-rtti: YES); convjit keeps
# exceptions on (LLVM's headers do not need -fno-exceptions).
target_compile_definitions(convjit_llvm PRIVATE ${LLVM_DEFINITIONS})
target_compile_options(convjit_llvm PRIVATE ${CONVJIT_WARNINGS})
target_link_libraries(convjit_llvm PRIVATE LLVM fmt::fmt)
# An object library whose objects go into libconvjit.a (one archive for hosts to link). The
# layers point down: the backend includes compiler/ only; runtime/backend_choice.cpp picks it.
target_sources(convjit PRIVATE $<TARGET_OBJECTS:convjit_llvm>)
target_link_libraries(convjit PRIVATE LLVM)
target_compile_definitions(convjit PRIVATE CONVJIT_HAVE_LLVM_BACKEND=1)

# convjit_add_aot_kernel(TARGET ... SPEC ... INPUT ... [ISA ...]) for host projects.
include(${CMAKE_CURRENT_LIST_DIR}/ConvjitAot.cmake)

if(CONVJIT_BUILD_TESTS)
  enable_testing()
  # `convjit conformance --engine llvm` on every public golden file, per target. avx512 runs
  # where the host has it and is reported as skipped elsewhere (LlvmAvx512.* still compiles
  # every kernel there).
  include(${CMAKE_CURRENT_LIST_DIR}/conformance_test.cmake)
  foreach(isa avx2 x86-64 avx512)
    convjit_add_conformance_test(conformance_llvm_${isa} llvm ${isa})
  endforeach()
  add_subdirectory(${CMAKE_CURRENT_SOURCE_DIR}/tests/aot ${CMAKE_CURRENT_BINARY_DIR}/tests/aot)
endif()
