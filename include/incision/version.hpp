/// @file
/// @brief The one source of the incision version (read by CMake and by the Python build).
#pragma once

#define INCISION_VERSION_MAJOR 0
#define INCISION_VERSION_MINOR 1
#define INCISION_VERSION_PATCH 0

/// @brief The version as one integer, major * 10000 + minor * 100 + patch.
#define INCISION_VERSION (INCISION_VERSION_MAJOR * 10000 + INCISION_VERSION_MINOR * 100 + INCISION_VERSION_PATCH)
