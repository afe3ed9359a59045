// The link in one place: simple_link and user link types go through the same validation, whose
// message names the bad field and its value; bandwidth_map ignores the link's own bandwidth.
#include <incision/partition.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

namespace ip = incision::partition;

namespace {
struct user_link {  // a link model that is not simple_link: resolved and validated per call
  double bw = 1.0, rt = 0.0, down = std::numeric_limits<double>::infinity();
  double bandwidth() const { return bw; }
  double rtt() const { return rt; }
  double download_bandwidth() const { return down; }
};
ip::layer_graph two_layers() {
  ip::layer_graph g;
  g.add_layer("in", 1, 1, 1);
  g.add_layer("out", 1, 1, 1);
  g.add_edge(0, 1);
  return g;
}
}  // namespace

TEST_CASE("user links and simple_link share one validation that names the field and the value") {
  const auto g = two_layers();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(ip::simple_link(0.0), doctest::Contains("bandwidth must be > 0 bytes/second, got 0"),
                       incision::invalid_argument);
  CHECK_THROWS_WITH_AS((void)ip::dsl(g, g, user_link{0.0}),
                       doctest::Contains("bandwidth must be > 0 bytes/second, got 0"), incision::invalid_argument);
  CHECK_THROWS_WITH_AS((void)ip::dsh(g, g, user_link{1.0, 0.0, -2.0}),
                       doctest::Contains("download_bandwidth must be > 0 bytes/second, got -2"),
                       incision::invalid_argument);
  CHECK_THROWS_WITH_AS((void)ip::chain_scan(g, g, user_link{1.0, inf}), doctest::Contains("rtt must be finite"),
                       incision::invalid_argument);
  CHECK_THROWS_WITH_AS((void)ip::evaluate(g, g, user_link{1.0, -1.0}, std::vector<ip::layer_id>{0}),
                       doctest::Contains("rtt must be finite and >= 0, got -1"), incision::invalid_argument);
  CHECK_THROWS_AS((void)ip::dads(g, g, user_link{std::nan("")}, 1.0), incision::invalid_argument);
  // the low-level DSH entry takes raw values and checks them too
  ip::dsl_solver s;
  s.assign(g, g);
  CHECK_THROWS_WITH_AS((void)ip::dsh(s, ip::detail::link_values{-1.0, 0.0, inf}),
                       doctest::Contains("bandwidth must be > 0 bytes/second, got -1"), incision::invalid_argument);
  // free links are fine
  CHECK(ip::dsl(g, g, user_link{inf}).latency == 2.0);
}

TEST_CASE("resolve_link defaults the optional members and keeps a simple_link's values") {
  struct bare_link {
    double bandwidth() const { return 5.0; }
  };
  const auto v = ip::detail::resolve_link(bare_link{});
  CHECK(v.bandwidth == 5.0);
  CHECK(v.rtt == 0.0);
  CHECK(v.download_bandwidth == std::numeric_limits<double>::infinity());
  const auto w = ip::detail::resolve_link(ip::simple_link(2.0, 0.5, 3.0));
  CHECK(w.bandwidth == 2.0);
  CHECK(w.rtt == 0.5);
  CHECK(w.download_bandwidth == 3.0);
}

TEST_CASE("bandwidth_map ignores the link's bandwidth but checks its RTT and download rate") {
  const auto g = two_layers();
  CHECK(ip::bandwidth_map(g, g, user_link{0.0}, 1.0, 10.0).size() >= 1);  // bandwidth 0: ignored
  CHECK_THROWS_WITH_AS(ip::bandwidth_map(g, g, user_link{1.0, -1.0}, 1.0, 10.0), doctest::Contains("rtt"),
                       incision::invalid_argument);
}
