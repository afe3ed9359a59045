/// @file
/// @brief Umbrella header for incision::partition (optimal cuts from profiles).
#pragma once

#include <incision/config.hpp>
