// cost_table: costs read once from an oracle, validated; a view of the graph's own columns when
// the graph is its own oracle, else a copy that survives the oracle.
#include <incision/partition.hpp>

#include "partition/support.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <optional>
#include <random>
#include <vector>

namespace ip = incision::partition;
using namespace partition_test;

TEST_CASE("an oracle that covers fewer layers than the graph is rejected") {
  std::mt19937_64 rng(3);
  const auto g = random_dag(rng, 6, 0.4, false, false);
  const std::vector<double> short_table(5, 1.0);
  const ip::table_oracle o(short_table, short_table, short_table);
  CHECK_THROWS_WITH_AS((void)ip::dsl(g, o, ip::simple_link(1.0)), doctest::Contains("covers 5 layers, the graph has 6"),
                       incision::invalid_argument);
  ip::layer_graph smaller;
  smaller.add_layer("only", 1, 1, 1);
  CHECK_THROWS_AS((void)ip::dsl(g, smaller, ip::simple_link(1.0)), incision::invalid_argument);
}

TEST_CASE("cost_table views the graph's columns, copies another oracle's values, and copies stay valid") {
  std::mt19937_64 rng(11);
  auto g = random_dag(rng, 8, 0.4, false, false);
  ip::detail::cost_table view;
  ip::detail::read_costs(g, g, view);
  CHECK(view.dev.data() == g.device_times().data());  // no copy
  const std::vector<double> dev(8, 2.0), srv(8, 3.0), bytes(8, 5.0);
  std::optional<ip::table_oracle> o(std::in_place, dev, srv, bytes);
  ip::detail::cost_table own;
  ip::detail::read_costs(g, *o, own);
  o.reset();  // the oracle is gone, the table keeps its values
  ip::detail::cost_table copy = own;
  own = ip::detail::cost_table{};
  for (ip::layer_id v = 0; v < 8; ++v) {
    CHECK(copy.dev[v] == 2.0);
    CHECK(copy.srv[v] == 3.0);
    CHECK(copy.bytes[v] == 5.0);
  }
  const ip::detail::cost_table view_copy = view;  // a copied view still views the graph
  CHECK(view_copy.dev.data() == g.device_times().data());
}
