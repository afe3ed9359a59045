// DSH against the brute-force max-stage optimum; the DADS controller; the bandwidth map vs DSL.
#include <incision/partition.hpp>

#include "partition/support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <random>

namespace ip = incision::partition;
using namespace partition_test;

TEST_CASE("dsh is within 3x of the brute-force max-stage optimum on small DAGs") {
  std::mt19937_64 rng(2019);
  std::uniform_int_distribution<std::size_t> size(1, 10);
  std::uniform_real_distribution<double> dens(0.1, 0.6);
  std::uniform_real_distribution<double> logbw(-1.0, 1.0);
  double worst = 1.0, mean = 0.0;
  int trials = 0, exact = 0;
  ip::dsh_options opt;
  opt.grid = 5;
  opt.levels = 3;
  for (int trial = 0; trial < 600; ++trial) {
    const auto g = random_dag(rng, size(rng), dens(rng), trial % 2 == 0, trial % 3 == 0);
    const double bw = std::pow(10.0, logbw(rng));
    const auto p = ip::dsh(g, g, ip::simple_link(bw), opt);
    const auto bf = brute_force(g, bw);
    INFO("trial " << trial);
    REQUIRE(ip::detail::first_violation(g, p.placement) == g.size());
    REQUIRE(close(price(g, p.placement, bw).max_stage, p.max_stage));
    REQUIRE(p.max_stage >= bf.best_max_stage * (1 - 1e-12));
    // never worse than plain DSL's max stage (the unweighted point is always evaluated)
    REQUIRE(p.max_stage <= ip::dsl(g, bw).max_stage * (1 + 1e-12));
    const double ratio = bf.best_max_stage > 0 ? p.max_stage / bf.best_max_stage : (p.max_stage == 0 ? 1.0 : 1e300);
    REQUIRE(ratio <= 3.0);
    worst = std::max(worst, ratio);
    mean += ratio;
    exact += ratio <= 1 + 1e-12 ? 1 : 0;
    ++trials;
  }
  MESSAGE("DSH / optimal max stage: worst " << worst << ", mean " << mean / trials << ", optimal in " << exact << " of "
                                            << trials);
}

TEST_CASE("dads picks DSL under light load, DSH under heavy load, and flags a missed rate") {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const auto g = random_dag(rng, 8, 0.3, false, false);
    const auto light = ip::dsl(g, 1.0);
    // light: 1/Q above DSL's max stage
    const auto d1 = ip::dads(g, 1.0, 0.5 / std::max(light.max_stage, 1e-9));
    CHECK_FALSE(d1.heavy_load);
    CHECK(d1.chosen.placement == light.placement);
    // heavy: 1/Q at or below DSL's max stage
    if (light.max_stage <= 0) continue;
    const auto d2 = ip::dads(g, 1.0, 1.001 / light.max_stage);
    CHECK(d2.heavy_load);
    CHECK(d2.chosen.max_stage <= light.max_stage);
    CHECK(d2.decrease_rate == !(d2.chosen.max_stage < light.max_stage / 1.001));
  }
  ip::layer_graph g;
  g.add_layer("a", 1, 1, 1);
  CHECK_THROWS_AS((void)ip::dads(g, 1.0, 0.0), incision::invalid_argument);
}

TEST_CASE("bandwidth map agrees with DSL at random bandwidths") {
  std::mt19937_64 rng(77);
  std::uniform_int_distribution<std::size_t> size(1, 12);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::size_t most = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const auto g = random_dag(rng, size(rng), 0.35, trial % 4 == 0, trial % 2 == 0);
    const double lo = 0.01, hi = trial % 5 == 0 ? std::numeric_limits<double>::infinity() : 1000.0;
    const ip::simple_link link(1.0, trial % 3 == 0 ? 0.5 : 0.0);
    const ip::bandwidth_map map(g, g, link, lo, hi);
    REQUIRE(map.size() >= 1);
    REQUIRE(map.solves() <= 2 * map.size() + 1);
    most = std::max(most, map.size());
    const auto bps = map.breakpoints();
    REQUIRE(std::is_sorted(bps.rbegin(), bps.rend()));
    for (int k = 0; k < 25; ++k) {
      const double bw = std::exp(std::log(lo) + u(rng) * (std::log(1000.0) - std::log(lo)));
      const auto direct = ip::dsl(g, g, ip::simple_link(bw, link.rtt()));
      INFO("trial " << trial << " bw " << bw);
      REQUIRE(close(map.latency(bw), direct.latency, 1e-9));
      REQUIRE(close(price(g, map.at(bw).placement, bw, link.rtt()).latency, direct.latency, 1e-9));
    }
  }
  MESSAGE("largest number of plans in a map: " << most);
  ip::layer_graph g;
  g.add_layer("a", 1, 1, 1);
  const ip::bandwidth_map m(g, 1.0, 2.0);
  CHECK_THROWS_AS((void)m.index(3.0), incision::out_of_range);
  CHECK_THROWS_AS(ip::bandwidth_map(g, 2.0, 1.0), incision::invalid_argument);
}

TEST_CASE("a plan handed out by the bandwidth map is priced at the bandwidth asked for") {
  // every time of at(B) equals a fresh dsl(g, B); the plan may differ only on a tie
  auto check = [](const ip::layer_graph& g, const ip::bandwidth_map& map, double bw, double rtt, double down) {
    const ip::simple_link link(bw, rtt, down);
    const auto direct = ip::dsl(g, g, link);
    const ip::plan p = map.at(bw);
    const ip::plan again = ip::evaluate(g, g, link, p.device_layers);  // its placement priced at bw
    INFO("bw " << bw);
    REQUIRE(close(p.latency, direct.latency));
    REQUIRE(close(p.latency, map.latency(bw)));
    REQUIRE(close(p.upload_time, again.upload_time));
    REQUIRE(close(p.latency, again.latency));
    REQUIRE(close(p.max_stage, again.max_stage));
    REQUIRE(p.device_time == again.device_time);
    REQUIRE(p.server_time == again.server_time);
    REQUIRE(close(p.download_time, again.download_time));
    REQUIRE(p.rtt == again.rtt);
  };
  std::mt19937_64 rng(19);
  std::uniform_int_distribution<std::size_t> size(1, 12);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {
    const auto g = random_dag(rng, size(rng), 0.35, trial % 4 == 0, trial % 2 == 0);
    const double rtt = trial % 3 == 0 ? 0.5 : 0.0;
    const double down = trial % 5 == 0 ? 3.0 : std::numeric_limits<double>::infinity();
    const ip::bandwidth_map map(g, g, ip::simple_link(1.0, rtt, down), 0.01, 1000.0);
    INFO("trial " << trial);
    for (int k = 0; k < 10; ++k) check(g, map, std::exp(std::log(0.01) + u(rng) * std::log(1e5)), rtt, down);
  }
  for (const char* name : {"layer_resnet50_inference.json", "layer_inceptionv3_inference.json",
                           "op_resnet50_inference.json", "layer_bert24_inference.json"}) {
    const auto g = ip::load_msr_json(std::filesystem::path(INCISION_DATA_DIR) / "msr-fiddle" / name);
    const ip::bandwidth_map map(g, 1e5, 1e10);
    INFO(name);
    for (const double bw : {1e5, 3e6, 1e8, 7.7e8, 1e10})
      check(g, map, bw, 0.0, std::numeric_limits<double>::infinity());
  }
}

namespace {
// the issue 12 #18 case: finite download, four stages; DSH keeps all-device (0.1638), {0, 3, 5}
// balances all four stages at 0.0410
ip::layer_graph four_stage_case() {
  const double dev[] = {0.03988689179847268, 0.013051534224606016, 0.07803659086948463, 0.0,
                        0.03179097413176735, 0.0010754106338944094};
  const double srv[] = {1.7941384192124439, 0.006038186171042688, 0.0,
                        6533.653819789442,  0.03491991655519479,  0.009849560591480585};
  const double bytes[] = {39909.4339113389,   40962.33950292749, 278619.5632053323,
                          2977.5055445783278, 308974.2030402504, 1049.5692584587155};
  ip::layer_graph g;
  for (int i = 0; i < 6; ++i) g.add_layer("L" + std::to_string(i), dev[i], srv[i], bytes[i]);
  for (const auto& [a, b] : {std::pair{0, 1}, {0, 4}, {2, 1}, {3, 5}, {4, 2}, {5, 0}, {5, 4}})
    g.add_edge(static_cast<ip::layer_id>(a), static_cast<ip::layer_id>(b));
  return g;
}
}  // namespace

TEST_CASE("dsh with a finite download: within 4x (four stages), and the 4 is nearly reached") {
  const auto g = four_stage_case();
  const double bw = 1e6;
  const auto bf = brute_force(g, bw, 0.0, bw);
  const auto p = ip::dsh(g, g, ip::simple_link(bw, 0.0, bw));
  REQUIRE(close(price(g, p.placement, bw, 0.0, bw).max_stage, p.max_stage));
  const double ratio = p.max_stage / bf.best_max_stage;
  MESSAGE("issue 12 #18 case: DSH / optimal max stage " << ratio);
  CHECK(ratio <= 4.0);
  CHECK(ratio > 3.0);  // the documented bound 4 is the right one: 3 does not hold here
  // the optimum balances all four stages
  CHECK(bf.best_max_stage == doctest::Approx(0.0410).epsilon(0.01));
}

TEST_CASE("dsh with a finite download is within 4x of brute force and never worse than dsl (even grids too)") {
  // Even grids do not contain alpha = gamma = 1, so "never worse than DSL" rests on the explicit
  // unweighted point; the download stage must be part of DSH's objective.
  std::mt19937_64 rng(418);
  std::uniform_int_distribution<std::size_t> size(1, 9);
  std::uniform_real_distribution<double> dens(0.1, 0.6);
  std::uniform_real_distribution<double> logbw(-1.0, 1.0);
  double worst = 1.0;
  for (int trial = 0; trial < 1500; ++trial) {
    const auto g = random_dag(rng, size(rng), dens(rng), trial % 2 == 0, trial % 3 == 0);
    const double bw = std::pow(10.0, logbw(rng));
    const double down = trial % 4 == 3 ? std::numeric_limits<double>::infinity() : std::pow(10.0, logbw(rng));
    ip::dsh_options opt;
    opt.grid = 2 + 2 * (trial % 3);  // 2, 4, 6
    opt.levels = 1 + trial % 2;
    const ip::simple_link link(bw, 0.0, down);
    const auto p = ip::dsh(g, g, link, opt);
    const auto bf = brute_force(g, bw, 0.0, down);
    INFO("trial " << trial << " grid " << opt.grid);
    REQUIRE(ip::detail::first_violation(g, p.placement) == g.size());
    REQUIRE(close(price(g, p.placement, bw, 0.0, down).max_stage, p.max_stage));
    REQUIRE(p.max_stage <= ip::dsl(g, g, link).max_stage * (1 + 1e-12));
    const double ratio = bf.best_max_stage > 0 ? p.max_stage / bf.best_max_stage : (p.max_stage == 0 ? 1.0 : 1e300);
    REQUIRE(ratio <= (std::isfinite(down) ? 4.0 : 3.0));
    worst = std::max(worst, ratio);
  }
  MESSAGE("DSH / optimal max stage with even grids, mostly finite download: worst " << worst);
}

TEST_CASE("dsh counts the download stage") {
  // in -> out, out's result is large: shipping after `in` leaves a 100 s download, all-device 11 s.
  // A DSH that forgot the download would see max stage 1 for the offloaded plan and take it.
  ip::layer_graph g;
  g.add_layer("in", 1.0, 1.0, 1.0);
  g.add_layer("out", 10.0, 1.0, 100.0);
  g.add_edge(0, 1);
  const ip::simple_link link(1.0, 0.0, 1.0);
  const auto p = ip::dsh(g, g, link);
  CHECK(p.device_layers == std::vector<ip::layer_id>{0, 1});
  CHECK(p.max_stage == 11.0);
}

TEST_CASE("dsh bounds its grid and names itself in errors") {
  std::mt19937_64 rng(3);
  const auto g = random_dag(rng, 6, 0.4, false, false);
  ip::dsh_options opt;
  opt.grid = ip::dsh_options::max_grid;
  opt.levels = 1;
  CHECK_NOTHROW((void)ip::dsh(g, g, ip::simple_link(1.0), opt));
  opt.grid = ip::dsh_options::max_grid + 1;
  CHECK_THROWS_WITH_AS((void)ip::dsh(g, g, ip::simple_link(1.0), opt), doctest::Contains("grid <= 64"),
                       incision::invalid_argument);
  opt.grid = 10000;
  CHECK_THROWS_AS((void)ip::dsh(g, g, ip::simple_link(1.0), opt), incision::invalid_argument);
  opt.grid = 7;
  opt.levels = ip::dsh_options::max_levels + 1;
  CHECK_THROWS_AS((void)ip::dsh(g, g, ip::simple_link(1.0), opt), incision::invalid_argument);
  const ip::layer_graph empty;
  CHECK_THROWS_WITH_AS((void)ip::dsh(empty, 1.0), doctest::Contains("dsh: the layer graph is empty"),
                       incision::invalid_argument);
}
