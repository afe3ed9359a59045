/// @file
/// @brief Umbrella header for incision::federated (FedLinUCB-DW: devices of one type share what
/// they learn through an edge server).
#pragma once

#include <incision/config.hpp>

#include <incision/federated/aggregator.hpp>
#include <incision/federated/exchange.hpp>
#include <incision/federated/linucb_dw.hpp>
#include <incision/federated/messages.hpp>
