// Shared helpers of the net tests: a network pair (device and edge built from the same seed), an
// in-process edge server on a free loopback port, the incision-edge executable as a subprocess,
// bit-exact output comparison, RSS.
#pragma once

#include <incision/exec/cpu_backend.hpp>
#include <incision/exec/edge_server.hpp>
#include <incision/exec/example_networks.hpp>
#include <incision/exec/online_loop.hpp>
#include <incision/exec/run_split.hpp>
#include <incision/exec/tcp_link.hpp>
#include <incision/exec/wire.hpp>

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

namespace net_test {

namespace ie = incision::exec;

inline bool bit_equal(const ie::tensor_list& a, const ie::tensor_list& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].value.shape() != b[i].value.shape() ||
        std::memcmp(a[i].value.data(), b[i].value.data(), 4 * a[i].value.size()) != 0)
      return false;
  return true;
}

inline std::unique_ptr<ie::edge_server<ie::cpu_backend>> make_server(const ie::network& net,
                                                                     ie::edge_server_options o = {}) {
  auto s = std::make_unique<ie::edge_server<ie::cpu_backend>>([&net] { return ie::cpu_backend(net); },
                                                              ie::model_fingerprint(net), o);
  s->start();
  return s;
}

inline ie::tcp_link_options link_options(std::uint16_t port) {
  ie::tcp_link_options o;
  o.port = port;
  o.deadline = std::chrono::seconds(5);  // generous: the tests must not depend on timing
  o.backoff_min = std::chrono::milliseconds(1);
  o.backoff_max = std::chrono::milliseconds(20);
  return o;
}

// Resident set size of this process in kB (VmRSS of /proc/self/status); 0 if unavailable.
inline long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      long kb = 0;
      f >> kb;
      return kb;
    }
    std::getline(f, key);
  }
  return 0;
}

// The incision-edge executable (INCISION_EDGE_EXE) as a child process, optionally run through a
// prefix command (e.g. `ip netns exec NAME`); killed with SIGKILL when destroyed.
struct edge_process {
  pid_t pid = -1;
  std::uint16_t port = 0;
  explicit edge_process(std::uint16_t want_port, const char* model = "resnet", const char* seed = "8",
                        std::vector<std::string> prefix = {}, const char* address = "127.0.0.1") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    std::vector<std::string> args = std::move(prefix);
    for (const char* a : {INCISION_EDGE_EXE, "--port"}) args.emplace_back(a);
    args.push_back(std::to_string(want_port));
    for (const char* a : {"--model", model, "--seed", seed, "--address", address}) args.emplace_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    FILE* f = fdopen(fds[0], "r");
    char line[256] = {};
    const bool got = std::fgets(line, sizeof line, f) != nullptr;  // "listening on <address>:<port> ..."
    std::fclose(f);
    REQUIRE_MESSAGE(got, "incision-edge did not start");
    const std::string s(line);
    const auto colon = s.find(':');
    REQUIRE(colon != std::string::npos);
    port = static_cast<std::uint16_t>(std::stoul(s.substr(colon + 1)));
  }
  edge_process(const edge_process&) = delete;
  edge_process& operator=(const edge_process&) = delete;
  void kill_now() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~edge_process() { kill_now(); }
};

}  // namespace net_test
