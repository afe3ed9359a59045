// The online loop with modeled compute times (deterministic): over a trace that switches
// bandwidth, muLinUCB's cut follows the oracle (the candidate with the least modeled latency);
// a server that misses the deadline or is gone never loses a frame, and every frame's output is
// the unsplit network's.
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/window_stats.hpp>
#include <incision/exec/cpu_backend.hpp>
#include <incision/exec/example_networks.hpp>
#include <incision/exec/null_backend.hpp>
#include <incision/exec/online_loop.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/plan.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <vector>

namespace ie = incision::exec;
namespace ip = incision::partition;
namespace ib = incision::bandit;

namespace {

ip::layer_graph synthetic_profile(const ip::layer_graph& g0) {
  ip::layer_graph g = g0;
  for (ip::layer_id v = 0; v < g.size(); ++v)
    g.set_costs(v, 1e-5 + g[v].macs * 2e-9, 1e-6 + g[v].macs * 1e-10, g[v].out_bytes);
  return g;
}

bool same_outputs(const ie::tensor_list& a, const ie::tensor_list& b) {
  return a.size() == 1 && b.size() == 1 && a[0].id == b[0].id &&
         std::memcmp(a[0].value.data(), b[0].value.data(), 4 * a[0].value.size()) == 0;
}

// The candidate with the least modeled latency at a bandwidth (partition::evaluate's pricing:
// device + upload + server + the link latency as RTT); shipped bytes = the encoded cut size.
std::size_t oracle_arm(const ip::layer_graph& g, const std::vector<std::vector<ip::layer_id>>& cands,
                       const std::vector<double>& wire_bytes, double bandwidth, double latency) {
  std::size_t best = 0;
  double best_t = 0;
  for (std::size_t a = 0; a < cands.size(); ++a) {
    const auto p = ip::evaluate(g, g, ip::simple_link(bandwidth, latency), cands[a]);
    const double t =
        p.device_time + p.server_time + (p.server_layers.empty() ? 0.0 : wire_bytes[a] / bandwidth + latency);
    if (a == 0 || t < best_t) {
      best = a;
      best_t = t;
    }
  }
  return best;
}

}  // namespace

TEST_CASE("a switching bandwidth trace moves the learned cut the way the oracle does") {
  ie::cpu_backend net(ie::resnet_network(5));
  const auto g = synthetic_profile(net.graph());
  const ip::bandwidth_map map(g, 1e3, 1e9);
  const auto cands = ie::map_candidates(map);
  REQUIRE(cands.size() >= 2);
  const ie::tensor x = ie::random_tensor(net.input_shape(), 1);
  // encoded size of each candidate's cut (what the link carries)
  std::vector<double> wire_bytes;
  {
    ie::tensor_list cut;
    std::vector<std::byte> wire;
    for (const auto& d : cands) {
      net.run_device(d, x, cut);
      ie::encode(cut, wire);
      wire_bytes.push_back(static_cast<double>(wire.size()));
    }
  }
  const double high = 5e7, low = 2e4, latency = 2e-3, interval = 0.05;
  const int frames_per_phase = 400;
  const double switch_at = frames_per_phase * interval;
  ie::sim_link link(
      ie::bandwidth_trace({{0.0, high, latency}, {switch_at, low, latency}, {2 * switch_at, high, latency}}));
  const std::size_t oracle_high = oracle_arm(g, cands, wire_bytes, high, latency);
  const std::size_t oracle_low = oracle_arm(g, cands, wire_bytes, low, latency);
  REQUIRE(oracle_high != oracle_low);

  const auto arms = ie::make_arms(g, cands);
  ib::mu_linucb_options mo;
  mo.initial_horizon = 100;
  mo.alpha = 0.01;  // exploration on the scale of these delays (alpha(T) is tuned for the ANS tables)
  ib::mu_linucb<Eigen::Dynamic, ib::window_stats<>> learner(arms.contexts, arms.front_delay,
                                                            ib::window_stats<>(3, 1.0, 60), mo);
  ie::loop_options lo;
  lo.timing = ie::compute_timing::modeled;
  lo.frame_interval = interval;
  ie::online_loop loop(learner, net, net, link, cands, g, lo);
  const auto whole = ie::run(net, x);
  ie::tensor_list out;
  for (int phase = 0; phase < 3; ++phase) {
    const std::size_t oracle = phase == 1 ? oracle_low : oracle_high;
    int chosen = 0, counted = 0;
    for (int f = 0; f < frames_per_phase; ++f) {
      const auto r = loop.run_frame(x, out);
      CHECK(same_outputs(out, whole));
      CHECK_FALSE(r.fallback);
      if (f >= frames_per_phase - 100 && !learner.last_forced()) {
        ++counted;
        chosen += r.arm == oracle ? 1 : 0;
      }
    }
    MESSAGE("phase " << phase << ": oracle arm " << oracle << " chosen in " << chosen << " of " << counted
                     << " unforced frames at the end");
    CHECK(counted > 50);
    CHECK(chosen >= counted * 9 / 10);
  }
}

TEST_CASE("a server that misses the deadline, or is gone, still completes every frame with the unsplit output") {
  ie::cpu_backend device(ie::inception_network(2)), server(ie::inception_network(2));
  const auto g = synthetic_profile(device.graph());
  auto cands = ie::chain_candidates(g);
  ie::round_robin_learner learner{cands.size()};
  double all_device = 0;
  for (ip::layer_id v = 0; v < g.size(); ++v) all_device += g[v].device_time;
  ie::loop_options lo;
  lo.timing = ie::compute_timing::modeled;
  lo.deadline = 1.5 * all_device;
  lo.server_slowdown = 1e4;  // far too slow for any offloaded frame
  ie::sim_link link(ie::bandwidth_trace::constant(1e9, 1e-4));
  ie::online_loop loop(learner, device, server, link, cands, g, lo);
  const ie::tensor x = ie::random_tensor(device.input_shape(), 4);
  const auto whole = ie::run(device, x);
  ie::tensor_list out;
  for (std::size_t f = 0; f < cands.size(); ++f) {
    const auto r = loop.run_frame(x, out);
    CHECK(same_outputs(out, whole));
    CHECK(r.fallback == r.offloaded);
    if (r.fallback) CHECK(r.latency >= lo.deadline);
  }
  // a healthy but absent server: every offloaded frame falls back; back again: offloading resumes
  ie::loop_options ok = lo;
  ok.server_slowdown = 1.0;
  ie::online_loop healthy(learner, device, server, link, cands, g, ok);
  healthy.set_server_available(false);
  std::size_t offloaded = 0, fell_back = 0;
  for (std::size_t f = 0; f < cands.size(); ++f) {
    const auto r = healthy.run_frame(x, out);
    CHECK(same_outputs(out, whole));
    offloaded += r.offloaded;
    fell_back += r.fallback;
  }
  CHECK(offloaded > 0);
  CHECK(fell_back == offloaded);
  healthy.set_server_available(true);
  fell_back = 0;
  for (std::size_t f = 0; f < cands.size(); ++f) {
    const auto r = healthy.run_frame(x, out);
    CHECK(same_outputs(out, whole));
    fell_back += r.fallback;
  }
  CHECK(fell_back == 0);
  // a link that goes down for good
  ie::sim_link dead(ie::bandwidth_trace({{0.0, 1e9}, {1e-9, 0.0}}));
  ie::online_loop cut_off(learner, device, server, dead, cands, g, ok);
  for (std::size_t f = 0; f < 5; ++f) {
    const auto r = cut_off.run_frame(x, out);
    CHECK(same_outputs(out, whole));
    CHECK(r.fallback == r.offloaded);
  }
}

TEST_CASE("online_loop validates its arguments") {
  ie::cpu_backend net(ie::resnet_network(1));
  const auto g = net.graph();
  struct fixed {
    std::size_t arm;
    std::size_t select(bool) { return arm; }
    void update(std::size_t, double) {}
  } learner{99};
  ie::sim_link link(ie::bandwidth_trace::constant(1e6));
  CHECK_THROWS_WITH_AS(ie::online_loop(learner, net, net, link, {}, g), doctest::Contains("no candidate"),
                       incision::invalid_argument);
  CHECK_THROWS_WITH_AS(ie::online_loop(learner, net, net, link, {{0, 999}}, g), doctest::Contains("names layer 999"),
                       incision::invalid_argument);
  ie::loop_options bad;
  bad.deadline = 0;
  CHECK_THROWS_AS(ie::online_loop(learner, net, net, link, {{0}}, g, bad), incision::invalid_argument);
  ie::online_loop loop(learner, net, net, link, {{0}}, g);
  ie::tensor_list out;
  CHECK_THROWS_WITH_AS((void)loop.run_frame(ie::random_tensor(net.input_shape(), 1), out),
                       doctest::Contains("chose arm 99 of 1"), incision::out_of_range);
}
