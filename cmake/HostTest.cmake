# mf_add_host_test(NAME COMMAND cmd... [LABELS l...] [ENVIRONMENT VAR=value...] [WORKING_DIRECTORY dir])
#
# A test run by a host-language interpreter (ruby, node, php...) against the library this build
# produced: MODFILTER_LIBRARY points at it. With MF_SANITIZE the interpreter is not built with ASan,
# so its runtime is preloaded first, with libstdc++ (Hyperscan throws inside hs_compile_multi before
# the interpreter would otherwise load libstdc++), exactly as for the Python tests. ASan's own
# alternate signal stack is off (use_sigaltstack=0): Ruby installs its own per thread, and ASan then
# fails to unmap the one it made when such a thread exits ("unable to unmap", about 1 run in 10 of the
# Ruby tests, a clash between the two runtimes, not a fault in the library).
function(mf_add_host_test name)
  cmake_parse_arguments(T "" "WORKING_DIRECTORY" "COMMAND;LABELS;ENVIRONMENT" ${ARGN})
  if(NOT T_WORKING_DIRECTORY)
    set(T_WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  add_test(NAME "${name}" COMMAND ${T_COMMAND} WORKING_DIRECTORY "${T_WORKING_DIRECTORY}")
  set_tests_properties("${name}" PROPERTIES
    ENVIRONMENT "MODFILTER_LIBRARY=$<TARGET_FILE:modfilter>;${T_ENVIRONMENT}"
    LABELS "${T_LABELS}")
  if(MF_SANITIZE)
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libasan.so
                    OUTPUT_VARIABLE asan OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.so
                    OUTPUT_VARIABLE stdcxx OUTPUT_STRIP_TRAILING_WHITESPACE)
    set_property(TEST "${name}" APPEND PROPERTY ENVIRONMENT
      "LD_PRELOAD=${asan} ${stdcxx};ASAN_OPTIONS=detect_leaks=0:use_sigaltstack=0")
  endif()
endfunction()
