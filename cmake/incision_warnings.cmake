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
    if("thread" IN_LIST INCISION_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # Asio's handler completion uses std::atomic_thread_fence, which GCC warns TSan does not
      # model; its queues are mutex-protected, which TSan does see.
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
  endif()
endfunction()
