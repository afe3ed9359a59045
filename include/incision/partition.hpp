/// @file
/// @brief Umbrella header for incision::partition (optimal cuts from profiles).
#pragma once

#include <incision/config.hpp>
#include <incision/partition/bandwidth_map.hpp>
#include <incision/partition/chain_scan.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/cost_table.hpp>
#include <incision/partition/dads.hpp>
#include <incision/partition/dsh.hpp>
#include <incision/partition/dsl.hpp>
#include <incision/partition/graph_json.hpp>
#include <incision/partition/layer_graph.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/max_flow.hpp>
#include <incision/partition/plan.hpp>
#include <incision/partition/pricing.hpp>
#include <incision/partition/table_oracle.hpp>
