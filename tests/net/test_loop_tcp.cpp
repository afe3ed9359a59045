// The online loop with a tcp_link as its offload link (a real edge server on loopback): it learns
// the cut the simulated link's loop learns at the same rate; a killed incision-edge process loses
// no frame (outputs unsplit, fallback at once) and offloading resumes after a restart; a late
// reply costs exactly one local compute (the fallback) and is dropped by its id; a connect that
// stalls never holds a frame beyond its deadline.
#include "net_support.hpp"

#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/window_stats.hpp>
#include <incision/exec/offload_link.hpp>
#include <incision/exec/online_loop.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/plan.hpp>

#include <doctest/doctest.h>

#include <asio.hpp>

#include <chrono>
#include <thread>
#include <vector>

namespace ie = incision::exec;
namespace ip = incision::partition;
namespace ib = incision::bandit;
using net_test::bit_equal;
using clk = std::chrono::steady_clock;

namespace {

// A device far slower than the edge (milliseconds per frame), so the best cut is clear against
// the loopback's wire time and its noise.
ip::layer_graph slow_device_profile(const ip::layer_graph& g0) {
  ip::layer_graph g = g0;
  for (ip::layer_id v = 0; v < g.size(); ++v)
    g.set_costs(v, 2e-4 + g[v].macs * 2e-8, 1e-5 + g[v].macs * 1e-10, g[v].out_bytes);
  return g;
}

// Modeled latency of every candidate at a rate and a one-way latency (partition::evaluate's
// pricing plus the encoded cut size on the wire), the oracle of the learned cut.
std::vector<double> modeled_latency(const ip::layer_graph& g, const std::vector<std::vector<ip::layer_id>>& cands,
                                    const std::vector<double>& wire_bytes, double rate, double latency) {
  std::vector<double> t;
  for (std::size_t a = 0; a < cands.size(); ++a) {
    const auto p = ip::evaluate(g, g, ip::simple_link(rate, latency), cands[a]);
    t.push_back(p.device_time + p.server_time + (p.server_layers.empty() ? 0.0 : wire_bytes[a] / rate + latency));
  }
  return t;
}

struct fixed_arm {
  std::size_t arm;
  std::size_t select(bool) const { return arm; }
  void update(std::size_t, double) {}
};

// Counts the server parts the device computes (the fallbacks).
struct counting_backend {
  ie::cpu_backend inner;
  int server_runs = 0;
  const ip::layer_graph& graph() const { return inner.graph(); }
  void run_device(ie::device_set d, const ie::tensor& x, ie::tensor_list& cut) { inner.run_device(d, x, cut); }
  void run_server(ie::device_set d, const ie::tensor_list& cut, ie::tensor_list& out) {
    ++server_runs;
    inner.run_server(d, cut, out);
  }
};

// An edge backend that takes its time (a loaded edge): every reply misses a short deadline.
struct slow_backend {
  ie::cpu_backend inner;
  std::chrono::milliseconds delay;
  const ip::layer_graph& graph() const { return inner.graph(); }
  void run_device(ie::device_set d, const ie::tensor& x, ie::tensor_list& cut) { inner.run_device(d, x, cut); }
  void run_server(ie::device_set d, const ie::tensor_list& cut, ie::tensor_list& out) {
    std::this_thread::sleep_for(delay);
    inner.run_server(d, cut, out);
  }
};

}  // namespace

TEST_CASE("net: tcp_link and sim_offload model the offload link concept") {
  static_assert(ie::offload_link<ie::tcp_link>);
  static_assert(ie::offload_link<ie::sim_offload<ie::cpu_backend>>);
  static_assert(!ie::offload_link<ie::sim_link>);  // a bare link has no server part
  static_assert(!ie::offload_link<ie::remote_server<ie::cpu_backend>>);
}

TEST_CASE("net: the loop over TCP learns the cut the simulated link's loop learns at the same rate") {
  const ie::network net = ie::resnet_network(5);
  ie::cpu_backend local(net), device(net);
  const auto g = slow_device_profile(local.graph());
  // chain cuts at the block boundaries (input, stem, block1, block2, block3, all on the device)
  std::vector<std::vector<ip::layer_id>> cands;
  for (const auto& d : ie::chain_candidates(g))
    if (d.size() == g.size() || g.successors(d.back()).size() == 2 || d.size() == 1) cands.push_back(d);
  REQUIRE(cands.size() >= 4);
  const ie::tensor x = ie::random_tensor(local.input_shape(), 1);
  std::vector<double> wire_bytes;
  {
    ie::tensor_list cut;
    std::vector<std::byte> wire;
    for (const auto& d : cands) {
      local.run_device(d, x, cut);
      ie::encode(cut, wire);
      wire_bytes.push_back(static_cast<double>(wire.size()));
    }
  }
  // Loopback: hundreds of MB/s to GB/s and 10-500 us per message. The best cut must be the same
  // over that whole range (and lead by a clear margin), else "the same rate" would be ill-posed.
  const double rate = 1e9, latency = 1e-4;
  const auto t_ref = modeled_latency(g, cands, wire_bytes, rate, latency);
  const std::size_t oracle = static_cast<std::size_t>(std::min_element(t_ref.begin(), t_ref.end()) - t_ref.begin());
  for (const double r : {2e8, 1e9, 1e10})
    for (const double l : {1e-5, 1e-4, 1e-3}) {
      const auto t = modeled_latency(g, cands, wire_bytes, r, l);
      for (std::size_t a = 0; a < t.size(); ++a)
        if (a != oracle) REQUIRE(t[a] > t[oracle] + 1e-3);
    }
  const auto arms = ie::make_arms(g, cands);
  ib::mu_linucb_options mo;
  mo.initial_horizon = 60;
  mo.alpha = 0.01;
  using learner_t = ib::mu_linucb<Eigen::Dynamic, ib::window_stats<>>;
  learner_t l_sim(arms.contexts, arms.front_delay, ib::window_stats<>(3, 1.0, 60), mo);
  learner_t l_tcp(arms.contexts, arms.front_delay, ib::window_stats<>(3, 1.0, 60), mo);
  ie::loop_options lo;
  lo.timing = ie::compute_timing::modeled;  // compute times from the profile; the TCP wire time is real
  lo.frame_interval = 0.05;
  lo.deadline = 1.0;
  ie::sim_link link_sim(ie::bandwidth_trace::constant(rate, latency));
  auto server = net_test::make_server(net);
  ie::tcp_link tcp(ie::model_fingerprint(net), net_test::link_options(server->port()));
  ie::online_loop loop_sim(l_sim, local, local, link_sim, cands, g, lo);
  ie::online_loop loop_tcp(l_tcp, device, tcp, cands, g, lo);
  static_assert(
      std::is_same_v<decltype(loop_tcp), ie::online_loop<learner_t, ie::cpu_backend, ie::cpu_backend, ie::tcp_link>>);
  const auto whole = ie::run(local, x);
  ie::tensor_list a, b;
  constexpr int frames = 160, tail = 60;
  int sim_hits = 0, tcp_hits = 0, sim_counted = 0, tcp_counted = 0, offloaded = 0;
  for (int f = 0; f < frames; ++f) {
    const auto ra = loop_sim.run_frame(x, a);
    const bool forced_a = l_sim.last_forced();
    const auto rb = loop_tcp.run_frame(x, b);
    const bool forced_b = l_tcp.last_forced();
    REQUIRE(bit_equal(a, whole));
    REQUIRE(bit_equal(b, whole));
    CHECK_FALSE(rb.fallback);
    offloaded += rb.offloaded ? 1 : 0;
    if (rb.offloaded) {
      CHECK(rb.shipped_bytes > 0.0);
      CHECK(rb.transfer_time < 0.5);
    }
    if (f >= frames - tail) {
      if (!forced_a) {
        ++sim_counted;
        sim_hits += ra.arm == oracle ? 1 : 0;
      }
      if (!forced_b) {
        ++tcp_counted;
        tcp_hits += rb.arm == oracle ? 1 : 0;
      }
    }
  }
  MESSAGE("oracle arm " << oracle << " of " << cands.size() << ": simulated link " << sim_hits << "/" << sim_counted
                        << ", TCP " << tcp_hits << "/" << tcp_counted << " unforced frames at the end");
  CHECK(sim_counted > tail / 2);
  CHECK(tcp_counted > tail / 2);
  CHECK(sim_hits >= sim_counted * 9 / 10);
  CHECK(tcp_hits >= tcp_counted * 9 / 10);
  CHECK(tcp.stats().offloaded == static_cast<std::uint64_t>(offloaded));
  CHECK(server->stats().served == static_cast<std::uint64_t>(offloaded));
}

TEST_CASE("net: the loop over TCP loses no frame when incision-edge is killed; it falls back at once and resumes") {
  const ie::network net = ie::resnet_network(8);  // incision-edge's --seed 8
  counting_backend device{ie::cpu_backend(net)};
  auto edge = std::make_unique<net_test::edge_process>(0);
  const std::uint16_t port = edge->port;
  ie::tcp_link tcp(ie::model_fingerprint(net), net_test::link_options(port));
  const auto cands = ie::chain_candidates(device.graph());
  fixed_arm learner{cands.size() / 2};
  ie::loop_options lo;
  lo.deadline = 5.0;  // measured timing: generous, the test must not depend on the machine's load
  ie::online_loop loop(learner, device, tcp, cands, device.graph(), lo);
  const ie::tensor x = ie::random_tensor(device.inner.input_shape(), 5);
  const auto whole = ie::run(device.inner, x);
  ie::tensor_list out;
  for (int i = 0; i < 5; ++i) {
    const auto r = loop.run_frame(x, out);
    REQUIRE(bit_equal(out, whole));
    CHECK_FALSE(r.fallback);
  }
  CHECK(tcp.stats().offloaded == 5);
  CHECK(device.server_runs == 0);
  edge->kill_now();
  for (int i = 0; i < 5; ++i) {
    const auto t0 = clk::now();
    const auto r = loop.run_frame(x, out);
    REQUIRE(bit_equal(out, whole));
    CHECK(r.fallback);
    CHECK(r.latency < 1.0);  // at once, not at the 5 s deadline
    CHECK(clk::now() - t0 < std::chrono::seconds(1));
  }
  CHECK(device.server_runs == 5);  // one local compute per frame
  CHECK(tcp.stats().late == 0);
  edge = std::make_unique<net_test::edge_process>(port);
  const auto t_end = clk::now() + std::chrono::seconds(5);
  int after = 0;
  while (tcp.stats().offloaded == 5 && clk::now() < t_end) {
    const auto r = loop.run_frame(x, out);
    REQUIRE(bit_equal(out, whole));
    ++after;
    if (r.fallback) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(tcp.stats().offloaded > 5);
  CHECK(device.server_runs == 5 + after - 1);  // every frame but the one that offloaded again
}

TEST_CASE("net: a late reply costs one local compute (the fallback) and is dropped by its id") {
  const ie::network net = ie::resnet_network(3);
  ie::edge_server<slow_backend> server(
      [&net] {
        return slow_backend{ie::cpu_backend(net), std::chrono::milliseconds(60)};
      },
      ie::model_fingerprint(net), {});
  server.start();
  counting_backend device{ie::cpu_backend(net)};
  ie::tcp_link tcp(ie::model_fingerprint(net), net_test::link_options(server.port()));
  REQUIRE(tcp.ensure_connected());
  const auto cands = ie::chain_candidates(device.graph());
  fixed_arm learner{1};
  ie::loop_options lo;
  lo.deadline = 0.02;  // 20 ms against an edge that takes 60 ms
  ie::online_loop loop(learner, device, tcp, cands, device.graph(), lo);
  const ie::tensor x = ie::random_tensor(device.inner.input_shape(), 6);
  const auto whole = ie::run(device.inner, x);
  ie::tensor_list out;
  constexpr int frames = 4;
  for (int i = 0; i < frames; ++i) {
    const auto r = loop.run_frame(x, out);
    REQUIRE(bit_equal(out, whole));
    CHECK(r.fallback);
    CHECK(r.shipped_bytes > 0.0);
  }
  CHECK(device.server_runs == frames);
  CHECK(tcp.stats().late == frames);
  // the edge answers every request in the end; each reply is recognised as abandoned
  const auto t_end = clk::now() + std::chrono::seconds(5);
  ie::tensor_list scratch;
  while (tcp.stats().late_dropped < frames && clk::now() < t_end) (void)tcp.fed_receive(std::chrono::milliseconds(20));
  CHECK(tcp.stats().late_dropped == frames);
  CHECK(tcp.stats().offloaded == 0);
  server.stop();
}

TEST_CASE(
    "net: an edge that accepts the connection but never answers the hello does not hold a frame past its deadline") {
  // A listener that never accepts: the kernel completes the TCP handshake from its backlog, the
  // hello is written, and no welcome ever comes (a stalled or wedged edge). The connect attempt
  // is bounded by connect_timeout (3 s here); each frame by its own deadline (50 ms).
  const ie::network net = ie::resnet_network(2);
  ie::cpu_backend device(net);
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  ie::tcp_link_options o = net_test::link_options(silent.local_endpoint().port());
  o.deadline = std::chrono::milliseconds(50);
  o.connect_timeout = std::chrono::milliseconds(3000);
  ie::tcp_link tcp(ie::model_fingerprint(net), o);
  const auto cands = ie::chain_candidates(device.graph());
  const auto& d = cands[cands.size() / 2];
  const ie::tensor x = ie::random_tensor(device.input_shape(), 7);
  ie::tensor_list cut, out;
  device.run_device(d, x, cut);
  for (int i = 0; i < 3; ++i) {
    const auto t0 = clk::now();
    CHECK_FALSE(tcp.offload(d, cut, out));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - t0).count();
    MESSAGE("frame " << i << " gave up after " << took << " ms");
    CHECK(took < 1000);  // the old link waited out connect_timeout (3000 ms) inside the first frame
  }
  // the loop over the same link: frames bounded by the loop's deadline, outputs unsplit
  fixed_arm learner{cands.size() / 2};
  ie::loop_options lo;
  lo.deadline = 0.03;
  ie::online_loop loop(learner, device, tcp, cands, device.graph(), lo);
  const auto whole = ie::run(device, x);
  for (int i = 0; i < 3; ++i) {
    const auto t0 = clk::now();
    const auto r = loop.run_frame(x, out);
    CHECK(bit_equal(out, whole));
    CHECK(r.fallback);
    CHECK(clk::now() - t0 < std::chrono::milliseconds(1000));
  }
  CHECK_FALSE(tcp.connected());
}
