# convjit_add_conformance_test(NAME ENGINE [ISA]): the whole public golden set through
# `convjit conformance --engine ENGINE [--isa ISA]`, as a user would run it. An ISA the host
# lacks makes the test skipped, not passed (the tool says "is not supported by this CPU").
function(convjit_add_conformance_test name engine)
  set(isa_args)
  if(ARGC GREATER 2)
    set(isa_args --isa ${ARGV2})
  endif()
  add_test(NAME ${name}
    COMMAND convjit_cli conformance --engine ${engine} ${isa_args}
            ${CONVJIT_SHARED_DIR}/conformance/cases.jsonl
            ${CONVJIT_SHARED_DIR}/conformance/variants.jsonl
            ${CONVJIT_SHARED_DIR}/conformance/extra_activations.jsonl
            ${CONVJIT_SHARED_DIR}/conformance/shapes.jsonl
            ${CONVJIT_SHARED_DIR}/conformance/invalid.jsonl)
  set_tests_properties(${name} PROPERTIES TIMEOUT 600
    SKIP_REGULAR_EXPRESSION "is not supported by this CPU")
endfunction()
