/// @file
/// @brief Umbrella header: every public incision header.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/version.hpp>

#include <incision/bandit.hpp>
#include <incision/federated.hpp>
#include <incision/partition.hpp>

// The executor needs xtensor (CMake target incision::exec); without it the rest stays usable.
#if __has_include(<xtensor/xarray.hpp>)
#include <incision/exec.hpp>
#endif
