/// @file
/// @brief Umbrella header for incision::exec (run a split network through an inference backend).
/// Needs xtensor (target incision::exec).
#pragma once

#include <incision/config.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/cpu_backend.hpp>
#include <incision/exec/device_set.hpp>
#include <incision/exec/example_networks.hpp>
#include <incision/exec/network.hpp>
#include <incision/exec/null_backend.hpp>
#include <incision/exec/offload_link.hpp>
#include <incision/exec/online_loop.hpp>
#include <incision/exec/presplit_backend.hpp>
#include <incision/exec/profile.hpp>
#include <incision/exec/run_split.hpp>
#include <incision/exec/sim_link.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/exec/tensor_codec.hpp>
