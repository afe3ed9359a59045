// The edge server and the TCP link on loopback: the online loop over TCP picks the same cuts as
// over the simulated link with outputs bit-equal to the unsplit run; a server stopped mid-stream
// loses no frame, the device falls back at once and offloads again after a restart; bad, slow
// and vanishing clients do not disturb a well-behaved device; 64 devices at once with bounded
// memory; FedLinUCB-DW messages reach the hosted aggregator over the same connection.
#include "net_support.hpp"

#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/window_stats.hpp>
#include <incision/exec/online_loop.hpp>
#include <incision/federated/linucb_dw.hpp>

#include <doctest/doctest.h>

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ie = incision::exec;
namespace ip = incision::partition;
namespace ib = incision::bandit;
using net_test::bit_equal;

namespace {

ip::layer_graph synthetic_profile(const ip::layer_graph& g0) {
  ip::layer_graph g = g0;
  for (ip::layer_id v = 0; v < g.size(); ++v)
    g.set_costs(v, 1e-5 + g[v].macs * 2e-9, 1e-6 + g[v].macs * 1e-10, g[v].out_bytes);
  return g;
}

// A raw client socket for misbehaving peers.
struct raw_client {
  asio::io_context io;
  asio::ip::tcp::socket s{io};
  explicit raw_client(std::uint16_t port) { s.connect({asio::ip::make_address("127.0.0.1"), port}); }
  void send(const std::vector<std::byte>& b) { asio::write(s, asio::buffer(b)); }
  // true if the server closed the connection (reads until EOF or error)
  bool closed_by_server() {
    std::vector<std::byte> buf(4096);
    asio::error_code ec;
    while (!ec) (void)s.read_some(asio::buffer(buf), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
};

}  // namespace

TEST_CASE("net: the loop over TCP chooses the same cuts as over the simulated link, outputs unsplit") {
  const ie::network net = ie::resnet_network(5);
  ie::cpu_backend local(net), device(net);
  const auto g = synthetic_profile(local.graph());
  const ip::bandwidth_map map(g, 1e3, 1e9);
  const auto cands = ie::map_candidates(map);
  const auto arms = ie::make_arms(g, cands);
  ib::mu_linucb_options mo;
  mo.initial_horizon = 50;
  mo.alpha = 0.01;
  using learner_t = ib::mu_linucb<Eigen::Dynamic, ib::window_stats<>>;
  learner_t l_sim(arms.contexts, arms.front_delay, ib::window_stats<>(3, 1.0, 60), mo);
  learner_t l_tcp(arms.contexts, arms.front_delay, ib::window_stats<>(3, 1.0, 60), mo);
  const double high = 5e7, low = 2e4, latency = 2e-3, interval = 0.05;
  const int per_phase = 120;
  const ie::bandwidth_trace trace(
      {{0.0, high, latency}, {per_phase * interval, low, latency}, {2 * per_phase * interval, high, latency}});
  ie::sim_link link_sim(trace), link_tcp(trace);
  ie::loop_options lo;
  lo.timing = ie::compute_timing::modeled;  // the same delays reach both learners
  lo.frame_interval = interval;
  auto server = net_test::make_server(net);
  ie::tcp_link tcp(ie::model_fingerprint(net), net_test::link_options(server->port()));
  ie::remote_server remote(device, tcp);
  ie::online_loop loop_sim(l_sim, local, local, link_sim, cands, g, lo);
  ie::online_loop loop_tcp(l_tcp, device, remote, link_tcp, cands, g, lo);
  const ie::tensor x = ie::random_tensor(local.input_shape(), 1);
  const auto whole = ie::run(local, x);
  ie::tensor_list a, b;
  int same = 0, offloaded = 0;
  for (int f = 0; f < 3 * per_phase; ++f) {
    const auto ra = loop_sim.run_frame(x, a);
    const auto rb = loop_tcp.run_frame(x, b);
    same += ra.arm == rb.arm ? 1 : 0;
    offloaded += rb.offloaded ? 1 : 0;
    REQUIRE(bit_equal(b, whole));
    REQUIRE(bit_equal(a, whole));
  }
  CHECK(same == 3 * per_phase);
  CHECK(offloaded > 0);
  CHECK(remote.fallbacks() == 0);
  CHECK(tcp.stats().offloaded == static_cast<std::uint64_t>(offloaded));
  CHECK(server->stats().served == static_cast<std::uint64_t>(offloaded));
  CHECK(tcp.stats().last_server_seconds > 0.0);
}

TEST_CASE(
    "net: a server stopped mid-stream loses no frame; the device falls back at once and offloads after a restart") {
  const ie::network net = ie::inception_network(3);
  ie::cpu_backend device(net);
  auto server = net_test::make_server(net);
  const std::uint16_t port = server->port();
  ie::tcp_link tcp(ie::model_fingerprint(net), net_test::link_options(port));
  ie::remote_server remote(device, tcp);
  const auto cands = ie::chain_candidates(device.graph());
  const std::vector<ip::layer_id>& d = cands[cands.size() / 2];
  const ie::tensor x = ie::random_tensor(device.input_shape(), 2);
  const auto whole = ie::run(device, x);
  ie::tensor_list cut, out, outputs;
  auto frame = [&] {
    remote.run_device(d, x, cut);
    remote.run_server(d, cut, out);
    ie::collect_outputs(device.graph(), cut, out, outputs);
    return bit_equal(outputs, whole);
  };
  for (int i = 0; i < 5; ++i) REQUIRE(frame());
  CHECK(tcp.stats().offloaded == 5);
  server->stop();
  server.reset();
  const auto late_before = tcp.stats().late;
  for (int i = 0; i < 5; ++i) REQUIRE(frame());
  CHECK(remote.fallbacks() == 5);
  CHECK(tcp.stats().late == late_before);  // none waited for a deadline: the closed stream was seen at once
  CHECK_FALSE(tcp.connected());
  ie::edge_server_options o;
  o.port = port;
  server = net_test::make_server(net, o);
  const auto t_end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  const auto offloaded_before = tcp.stats().offloaded;
  while (tcp.stats().offloaded == offloaded_before && std::chrono::steady_clock::now() < t_end) {
    REQUIRE(frame());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(tcp.stats().offloaded > offloaded_before);
  CHECK(tcp.connected());
}

TEST_CASE(
    "net: malformed, truncated, oversized, wrong-version, slow and vanishing clients leave a good device served") {
  const ie::network net = ie::resnet_network(4);
  ie::cpu_backend device(net);
  ie::edge_server_options o;
  o.limits.max_frame_bytes = 1U << 20;
  o.memory_budget = 4U << 20;
  o.read_timeout = std::chrono::milliseconds(300);
  o.idle_timeout = std::chrono::milliseconds(2000);
  auto server = net_test::make_server(net, o);
  const std::uint16_t port = server->port();
  const std::uint64_t model = ie::model_fingerprint(net);
  std::atomic<bool> stop{false};
  std::atomic<int> good_frames{0}, bad_outputs{0};
  std::thread good([&] {
    ie::cpu_backend dev(net);
    ie::tcp_link tcp(model, net_test::link_options(port));
    ie::remote_server remote(dev, tcp);
    const auto cands = ie::chain_candidates(dev.graph());
    const ie::tensor x = ie::random_tensor(dev.input_shape(), 3);
    const auto whole = ie::run(dev, x);
    ie::tensor_list cut, out, outputs;
    for (std::size_t i = 0; !stop.load() || i < 20; ++i) {
      const auto& d = cands[1 + i % (cands.size() - 1)];
      remote.run_device(d, x, cut);
      remote.run_server(d, cut, out);
      ie::collect_outputs(dev.graph(), cut, out, outputs);
      if (!bit_equal(outputs, whole)) bad_outputs.fetch_add(1);
      good_frames.fetch_add(tcp.stats().offloaded > 0 ? 1 : 0);
    }
    CHECK(remote.fallbacks() == 0);
  });
  std::vector<std::byte> hello, req;
  ie::encode(ie::wire_hello{ie::wire_protocol_version, model}, hello);
  ie::tensor_list cut;
  device.run_device(ie::chain_candidates(device.graph())[3], ie::random_tensor(device.input_shape(), 3), cut);
  ie::encode_request(1, 1, 0, ie::chain_candidates(device.graph())[3], cut, req);
  {  // random garbage
    raw_client c(port);
    std::vector<std::byte> junk(64, std::byte{0x5A});
    c.send(junk);
    CHECK(c.closed_by_server());
  }
  {  // a header announcing 1 TB
    raw_client c(port);
    c.send(hello);
    auto big = req;
    big[13] = std::byte{1};  // payload length += 2^40
    c.send(std::vector<std::byte>(big.begin(), big.begin() + 16));
    CHECK(c.closed_by_server());
  }
  {  // wrong envelope version
    raw_client c(port);
    auto h = hello;
    h[4] = std::byte{2};
    c.send(h);
    CHECK(c.closed_by_server());
  }
  {  // wrong protocol version in the hello
    raw_client c(port);
    std::vector<std::byte> h;
    ie::encode(ie::wire_hello{99, model}, h);
    c.send(h);
    CHECK(c.closed_by_server());
  }
  {  // wrong model
    raw_client c(port);
    std::vector<std::byte> h;
    ie::encode(ie::wire_hello{ie::wire_protocol_version, model + 1}, h);
    c.send(h);
    CHECK(c.closed_by_server());
  }
  {  // a corrupted request (CRC) after a good hello
    raw_client c(port);
    c.send(hello);
    auto bad = req;
    bad[40] ^= std::byte{0xFF};
    c.send(bad);
    CHECK(c.closed_by_server());
  }
  {  // truncated: half a request, then the client vanishes
    raw_client c(port);
    c.send(hello);
    c.send(std::vector<std::byte>(req.begin(), req.begin() + static_cast<std::ptrdiff_t>(req.size() / 2)));
  }
  {  // slow: a request one byte every 20 ms, cut off by the read timeout (300 ms)
    raw_client c(port);
    c.send(hello);
    asio::error_code ec;
    for (std::size_t i = 0; i < req.size() && !ec; ++i) {
      asio::write(c.s, asio::buffer(&req[i], 1), ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (i > 40) break;  // bounded: well past the timeout
    }
    CHECK(c.closed_by_server());
  }
  stop.store(true);
  good.join();
  CHECK(bad_outputs.load() == 0);
  CHECK(good_frames.load() > 0);
  const auto s = server->stats();
  CHECK(s.protocol_errors >= 6);
  CHECK(s.timeouts >= 1);
  CHECK(s.budget_peak <= o.memory_budget);
  // and the server still serves a new device
  ie::tcp_link tcp(model, net_test::link_options(port));
  ie::tensor_list out;
  CHECK(tcp.offload(ie::chain_candidates(device.graph())[3], cut, out));
}

TEST_CASE("net: 64 devices at once; every output unsplit, memory bounded") {
  const ie::network net = ie::resnet_network(6);
  ie::edge_server_options o;
  o.limits.max_frame_bytes = 1U << 20;
  o.memory_budget = 8U << 20;
  auto server = net_test::make_server(net, o);
  const std::uint64_t model = ie::model_fingerprint(net);
  const long rss_before = net_test::rss_kb();
  constexpr int devices = 64, per_thread = 8, frames = 4;
  std::atomic<int> wrong{0}, fallbacks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < devices / per_thread; ++t)
    threads.emplace_back([&, t] {
      ie::cpu_backend dev(net);
      const auto cands = ie::chain_candidates(dev.graph());
      const ie::tensor x = ie::random_tensor(dev.input_shape(), static_cast<std::uint64_t>(t));
      const auto whole = ie::run(dev, x);
      std::vector<std::unique_ptr<ie::tcp_link>> links;
      for (int i = 0; i < per_thread; ++i) {
        links.push_back(std::make_unique<ie::tcp_link>(model, net_test::link_options(server->port())));
        links.back()->ensure_connected();  // all 64 connections open before the frames start
      }
      ie::tensor_list cut, out, outputs;
      for (int f = 0; f < frames; ++f)
        for (int i = 0; i < per_thread; ++i) {
          const auto& d = cands[static_cast<std::size_t>(1 + (f * per_thread + i)) % cands.size()];
          ie::remote_server remote(dev, *links[static_cast<std::size_t>(i)]);
          remote.run_device(d, x, cut);
          remote.run_server(d, cut, out);
          ie::collect_outputs(dev.graph(), cut, out, outputs);
          if (!bit_equal(outputs, whole)) wrong.fetch_add(1);
          fallbacks.fetch_add(static_cast<int>(remote.fallbacks()));
        }
    });
  for (auto& th : threads) th.join();
  const long rss_after = net_test::rss_kb();
  const auto s = server->stats();
  MESSAGE("64 devices: served " << s.served << ", RSS " << rss_before << " kB -> " << rss_after
                                << " kB, frame buffers peak " << s.budget_peak << " bytes");
  CHECK(wrong.load() == 0);
  CHECK(fallbacks.load() == 0);
  CHECK(s.accepted == 64);
  CHECK(s.served + s.expired == static_cast<std::uint64_t>(devices * frames) - s.failed);
  CHECK(s.budget_peak <= o.memory_budget);
  CHECK(rss_after - rss_before < 200 * 1024);  // 64 connections and 8 device networks: far below 200 MB
}

TEST_CASE("net: FedLinUCB-DW messages reach the hosted aggregator over the same connection") {
  const ie::network net = ie::resnet_network(7);
  auto server = net_test::make_server(net);
  ie::tcp_link tcp(ie::model_fingerprint(net), net_test::link_options(server->port()));
  Eigen::MatrixXd contexts(3, 3);
  contexts << 3, 1, 1, 2, 2, 1, 0, 0, 0;
  Eigen::VectorXd front(3);
  front << 0.01, 0.02, 0.03;
  incision::federated::fed_linucb_dw<> dev(11, "phones", contexts, front);
  tcp.fed_send(dev.hello());
  auto m = tcp.fed_receive(std::chrono::seconds(5));
  REQUIRE(m.has_value());
  dev.receive(*m);
  dev.update(0, 0.3);
  tcp.fed_send(dev.make_upload());
  m = tcp.fed_receive(std::chrono::seconds(5));
  REQUIRE(m.has_value());
  CHECK(dev.receive(*m) == incision::federated::fed_event::acked);
  m = tcp.fed_receive(std::chrono::seconds(5));  // the personal download after the ack
  REQUIRE(m.has_value());
  (void)dev.receive(*m);
  server->stop();
  CHECK(server->aggregator().n_devices() == 1);
  CHECK(server->aggregator().group_count("phones") == 1);
}
