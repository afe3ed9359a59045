// The incision-edge executable as a subprocess: a device streams frames, the process is killed
// (SIGKILL) mid-stream, every frame still equals the unsplit run, the device falls back at once,
// and offloads again once the executable is restarted on the same port.
#include "net_support.hpp"

#include <doctest/doctest.h>

#include <thread>

namespace ie = incision::exec;

using net_test::edge_process;

TEST_CASE("net: killing the incision-edge process mid-stream loses no frame; offloading resumes after a restart") {
  const ie::network net = ie::resnet_network(8);
  ie::cpu_backend device(net);
  auto edge = std::make_unique<edge_process>(0);
  const std::uint16_t port = edge->port;
  ie::tcp_link tcp(ie::model_fingerprint(net), net_test::link_options(port));
  ie::remote_server remote(device, tcp);
  const auto cands = ie::chain_candidates(device.graph());
  const auto& d = cands[cands.size() / 2];
  const ie::tensor x = ie::random_tensor(device.input_shape(), 5);
  const auto whole = ie::run(device, x);
  ie::tensor_list cut, out, outputs;
  auto frame = [&] {
    remote.run_device(d, x, cut);
    remote.run_server(d, cut, out);
    ie::collect_outputs(device.graph(), cut, out, outputs);
    return net_test::bit_equal(outputs, whole);
  };
  for (int i = 0; i < 5; ++i) REQUIRE(frame());
  CHECK(tcp.stats().offloaded == 5);
  edge->kill_now();
  for (int i = 0; i < 5; ++i) REQUIRE(frame());
  CHECK(remote.fallbacks() == 5);
  CHECK(tcp.stats().late == 0);  // the dead process was seen at once, no deadline waited out
  edge = std::make_unique<edge_process>(port);
  const auto t_end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (tcp.stats().offloaded == 5 && std::chrono::steady_clock::now() < t_end) {
    REQUIRE(frame());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(tcp.stats().offloaded > 5);
}
