# Warning and sanitizer flags for our own tests, benchmarks and examples only; consumers of the
# incision target never see them.
function(incision_apply_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
    if(INCISION_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(INCISION_SANITIZE)
    string(REPLACE ";" "," sanitizers "${INCISION_SANITIZE}")
    target_compile_options(${target} PRIVATE -fsanitize=${sanitizers} -fno-sanitize-recover=all
                                             -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${sanitizers})
  endif()
endfunction()
