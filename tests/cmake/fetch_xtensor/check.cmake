# Configures the fetch_xtensor consumer with the system xtensor switched off and checks the
# outcome is one of the two honest ones: the download worked and incision::exec exists, or it
# failed and the configure went on with one clear warning and without incision::exec.
#   cmake -DINCISION_SOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -P check.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${CMAKE_CURRENT_LIST_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}"
          "-DINCISION_SOURCE_DIR=${INCISION_SOURCE_DIR}" -DCMAKE_DISABLE_FIND_PACKAGE_xtensor=ON
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "configure failed (${result}):\n${all}")
endif()
if(all MATCHES "INCISION_FETCH_XTENSOR: could not download xtl")
  if(NOT all MATCHES "incision::exec absent")
    message(FATAL_ERROR "download failed but incision::exec exists:\n${all}")
  endif()
  if(NOT all MATCHES "apt-get install xtensor-dev")
    message(FATAL_ERROR "the offline warning does not say how to get xtensor:\n${all}")
  endif()
  message(STATUS "offline: the configure went on without incision::exec and said why")
elseif(all MATCHES "incision::exec present")
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}" --target consumer_exec RESULT_VARIABLE built)
  if(NOT built EQUAL 0)
    message(FATAL_ERROR "incision::exec on the downloaded xtensor does not build")
  endif()
  execute_process(COMMAND "${WORK_DIR}/consumer_exec" RESULT_VARIABLE ran)
  if(NOT ran EQUAL 0)
    message(FATAL_ERROR "consumer_exec failed")
  endif()
  message(STATUS "online: built incision::exec on the downloaded xtensor")
else()
  message(FATAL_ERROR "neither the download nor its clear failure:\n${all}")
endif()
