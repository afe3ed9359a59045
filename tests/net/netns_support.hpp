// Two network namespaces joined by a veth pair, the device side's egress (the uplink) shaped with
// a tc token bucket (tbf): for the shaped-link test and benchmark. Needs root and iproute2
// (`ip`, `tc`); netns_pair::unavailable() says why not. The namespaces are deleted (which
// deletes the veth pair) when the object goes, and stale ones of a dead process at start.
// A thread enters a namespace with enter_netns (sockets it opens then live there).
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace net_test {

inline int shell(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

class netns_pair {
 public:
  static constexpr const char* device_address = "10.213.0.1";
  static constexpr const char* edge_address = "10.213.0.2";

  // Empty when the pair can be made; else the reason (not root, no ip/tc, no netns support).
  static std::string unavailable() {
    if (geteuid() != 0) return "needs root (network namespaces, veth and tc)";
    if (shell("command -v ip") != 0 || shell("command -v tc") != 0) return "needs iproute2 (ip, tc)";
    if (shell("ip netns list") != 0) return "`ip netns` is unavailable";
    return {};
  }

  netns_pair() : tag_(std::to_string(getpid())), dev_("incd" + tag_), edge_("ince" + tag_), veth_("incv" + tag_) {
    remove_stale();
    const std::string veth_edge = "incw" + tag_;
    const std::string steps[] = {
        "ip netns add " + dev_,
        "ip netns add " + edge_,
        "ip link add " + veth_ + " netns " + dev_ + " type veth peer name " + veth_edge + " netns " + edge_,
        "ip -n " + dev_ + " addr add " + device_address + "/24 dev " + veth_,
        "ip -n " + edge_ + " addr add " + edge_address + "/24 dev " + veth_edge,
        "ip -n " + dev_ + " link set lo up",
        "ip -n " + edge_ + " link set lo up",
        "ip -n " + dev_ + " link set " + veth_ + " up",
        "ip -n " + edge_ + " link set " + veth_edge + " up",
    };
    for (const std::string& s : steps)
      if (shell(s) != 0) {
        remove();
        throw std::runtime_error("netns_pair: `" + s + "` failed");
      }
  }
  netns_pair(const netns_pair&) = delete;
  netns_pair& operator=(const netns_pair&) = delete;
  ~netns_pair() { remove(); }

  const std::string& device_ns() const { return dev_; }
  const std::string& edge_ns() const { return edge_; }

  // Shapes the device's uplink to @p mbit Mbit/s (10^6 bit/s): tbf with a bucket of one
  // packet-and-a-bit (so the rate holds from the first kilobytes) and a queue of 2 s (no drops).
  void set_uplink(double mbit) const {
    const double bytes_per_s = mbit * 1e6 / 8;
    const long limit = std::max(64L << 10, static_cast<long>(2 * bytes_per_s));
    const std::string cmd = "tc -n " + dev_ + " qdisc replace dev " + veth_ + " root tbf rate " +
                            std::to_string(static_cast<long>(mbit * 1e6)) + "bit burst " +
                            std::to_string(burst_bytes(mbit)) + " limit " + std::to_string(limit);
    if (shell(cmd) != 0) throw std::runtime_error("netns_pair: `" + cmd + "` failed");
  }
  // The token bucket: at least two full frames (tbf drops packets above it), more at high rates.
  static long burst_bytes(double mbit) { return std::max(3200L, static_cast<long>(mbit * 1e6 / 8 / 500)); }

 private:
  std::string tag_, dev_, edge_, veth_;

  void remove() const {
    shell("ip netns del " + dev_);
    shell("ip netns del " + edge_);
  }
  // Namespaces of an earlier run that died before cleaning up (its pid is gone).
  static void remove_stale() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/var/run/netns", ec)) {
      const std::string n = e.path().filename().string();
      if (n.size() <= 4 || (n.rfind("incd", 0) != 0 && n.rfind("ince", 0) != 0)) continue;
      const std::string pid = n.substr(4);
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (kill(static_cast<pid_t>(std::stol(pid)), 0) != 0) shell("ip netns del " + n);
    }
  }
};

// Moves the calling thread into a named network namespace until destroyed.
class enter_netns {
 public:
  explicit enter_netns(const std::string& name) {
    home_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int fd = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    const bool ok = home_ >= 0 && fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) close(fd);
    if (!ok) {
      if (home_ >= 0) close(home_);
      throw std::runtime_error("enter_netns: cannot enter " + name);
    }
  }
  enter_netns(const enter_netns&) = delete;
  enter_netns& operator=(const enter_netns&) = delete;
  ~enter_netns() {
    (void)setns(home_, CLONE_NEWNET);
    close(home_);
  }

 private:
  int home_ = -1;
};

}  // namespace net_test
