/// @file
/// @brief Umbrella header: every public incision header.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/version.hpp>

#include <incision/bandit.hpp>
#include <incision/partition.hpp>
