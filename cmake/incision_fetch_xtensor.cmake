# xtensor has no PyPI package, so a `pip install .` on a system without Debian's xtensor-dev (or
# a CMake user who asks for it with INCISION_FETCH_XTENSOR=ON) downloads the two header-only
# releases incision::exec is tested with (xtl 0.7, xtensor 0.24) from their GitHub release tags.
# Without network the build goes on without incision::exec and says so: the partition, bandit and
# federated parts (and the Python modules for them) need nothing from here.
#
# Sets xtensor_FOUND to TRUE and defines the `xtensor` target when both downloads succeed.
set(incision_fetch_versions xtl 0.7.7 xtensor 0.24.7)
set(incision_fetch_dir "${CMAKE_BINARY_DIR}/_incision_fetch")
set(incision_fetch_ok TRUE)
while(incision_fetch_versions)
  list(POP_FRONT incision_fetch_versions name version)
  set(url "https://github.com/xtensor-stack/${name}/archive/refs/tags/${version}.tar.gz")
  set(archive "${incision_fetch_dir}/${name}-${version}.tar.gz")
  if(NOT EXISTS "${archive}")
    # file(DOWNLOAD) reports failure in STATUS instead of stopping the configure, so an offline
    # machine gets one clear message rather than FetchContent's git or curl error.
    file(DOWNLOAD "${url}" "${archive}.part" STATUS status TIMEOUT 120 INACTIVITY_TIMEOUT 30)
    list(GET status 0 code)
    if(NOT code EQUAL 0)
      list(GET status 1 why)
      file(REMOVE "${archive}.part")
      message(WARNING "incision: INCISION_FETCH_XTENSOR: could not download ${name} ${version} from "
                      "${url} (${why}); building without incision::exec. Install xtensor 0.24 "
                      "(Debian/Ubuntu: apt-get install xtensor-dev) or build with network access.")
      set(incision_fetch_ok FALSE)
      break()
    endif()
    file(RENAME "${archive}.part" "${archive}")
  endif()
  set(incision_fetch_${name} "${archive}")
endwhile()

if(incision_fetch_ok)
  include(FetchContent)
  # OVERRIDE_FIND_PACKAGE: xtensor's own find_package(xtl) finds the fetched copy.
  FetchContent_Declare(xtl URL "${incision_fetch_xtl}" OVERRIDE_FIND_PACKAGE)
  FetchContent_Declare(xtensor URL "${incision_fetch_xtensor}" OVERRIDE_FIND_PACKAGE)
  FetchContent_MakeAvailable(xtl xtensor)
  set(xtensor_FOUND TRUE)
  message(STATUS "incision: using downloaded xtl ${incision_fetch_xtl} and xtensor")
endif()
