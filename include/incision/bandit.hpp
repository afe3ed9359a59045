/// @file
/// @brief Umbrella header for incision::bandit (online learning of the cut).
#pragma once

#include <incision/config.hpp>

#include <incision/bandit/concepts.hpp>
#include <incision/bandit/discounted_stats.hpp>
#include <incision/bandit/disjoint_linucb.hpp>
#include <incision/bandit/linucb.hpp>
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/ridge_stats.hpp>
#include <incision/bandit/simulate.hpp>
#include <incision/bandit/window_stats.hpp>
