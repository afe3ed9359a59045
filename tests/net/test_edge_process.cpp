// The incision-edge executable as a subprocess: a device streams frames, the process is killed
// (SIGKILL) mid-stream, every frame still equals the unsplit run, the device falls back at once,
// and offloads again once the executable is restarted on the same port.
#include "net_support.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ie = incision::exec;

namespace {
struct edge_process {
  pid_t pid = -1;
  std::uint16_t port = 0;
  explicit edge_process(std::uint16_t want_port) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      const std::string p = std::to_string(want_port);
      execl(INCISION_EDGE_EXE, INCISION_EDGE_EXE, "--port", p.c_str(), "--model", "resnet", "--seed", "8",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    FILE* f = fdopen(fds[0], "r");
    char line[256] = {};
    REQUIRE(std::fgets(line, sizeof line, f) != nullptr);  // "listening on 127.0.0.1:<port> ..."
    std::fclose(f);
    const std::string s(line);
    const auto colon = s.find(':');
    REQUIRE(colon != std::string::npos);
    port = static_cast<std::uint16_t>(std::stoul(s.substr(colon + 1)));
  }
  void kill_now() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~edge_process() { kill_now(); }
};
}  // namespace

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
