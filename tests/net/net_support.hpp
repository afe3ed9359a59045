// Shared helpers of the net tests: a network pair (device and edge built from the same seed), an
// in-process edge server on a free loopback port, bit-exact output comparison, RSS.
#pragma once

#include <incision/exec/cpu_backend.hpp>
#include <incision/exec/edge_server.hpp>
#include <incision/exec/example_networks.hpp>
#include <incision/exec/run_split.hpp>
#include <incision/exec/tcp_link.hpp>
#include <incision/exec/online_loop.hpp>
#include <incision/exec/wire.hpp>

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

}  // namespace net_test
