/// @file
/// @brief Umbrella header for incision::bandit (online learning of the cut).
#pragma once

#include <incision/config.hpp>
