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

# A Python build (scikit-build-core sets SKBUILD=2) fetches by default: the same two outcomes.
file(REMOVE_RECURSE "${WORK_DIR}-skbuild")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${INCISION_SOURCE_DIR}" -B "${WORK_DIR}-skbuild" -G "${GENERATOR}" -DSKBUILD=2
          -DINCISION_BUILD_PYTHON=OFF -DINCISION_BUILD_TESTS=OFF -DINCISION_BUILD_EXAMPLES=OFF
          -DCMAKE_DISABLE_FIND_PACKAGE_xtensor=ON
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0 OR NOT "${out}${err}" MATCHES "could not download xtl|using downloaded xtl")
  message(FATAL_ERROR "a Python build did not try to download xtensor (${result}):\n${out}${err}")
endif()
message(STATUS "a Python build tries the download by default")
