// incision-edge --port P --model resnet|inception --seed S [--threads N] [--address A]
// Serves the server part of the example network to devices over TCP (and hosts the FedLinUCB-DW
// aggregator) until SIGINT or SIGTERM. Prints "listening on <address>:<port>" once ready (with
// --port 0, the port the system chose).
#include <incision/exec/cpu_backend.hpp>
#include <incision/exec/edge_server.hpp>
#include <incision/exec/example_networks.hpp>
#include <incision/exec/wire.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace ie = incision::exec;

namespace {
int usage(const char* why) {
  std::cerr << "incision-edge: " << why
            << "\nusage: incision-edge --port P --model resnet|inception [--seed S] [--threads N] [--address A]\n";
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  std::string model = "resnet";
  std::uint64_t seed = 0;
  ie::edge_server_options opt;
  bool have_port = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (i + 1 >= argc) return usage("missing value after an option");
      const std::string v = argv[++i];
      if (a == "--port") {
        const unsigned long p = std::stoul(v);
        if (p > 65535) return usage("port out of range");
        opt.port = static_cast<std::uint16_t>(p);
        have_port = true;
      } else if (a == "--model") {
        model = v;
      } else if (a == "--seed") {
        seed = std::stoull(v);
      } else if (a == "--threads") {
        opt.threads = std::stoul(v);
      } else if (a == "--address") {
        opt.address = v;
      } else {
        return usage("unknown option");
      }
    }
  } catch (const std::exception&) {
    return usage("bad number");
  }
  if (!have_port) return usage("--port is required (0: any free port)");
  try {
    // SIGINT/SIGTERM are taken by sigwait below: block them before the worker threads start
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    const ie::network net = ie::example_network(model, seed);
    const std::uint64_t fingerprint = ie::model_fingerprint(net);
    ie::edge_server<ie::cpu_backend> server([&] { return ie::cpu_backend(net); }, fingerprint, opt);
    server.start();
    std::cout << "listening on " << opt.address << ":" << server.port() << " model=" << model << " seed=" << seed
              << " fingerprint=" << fingerprint << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    server.stop();
    const ie::edge_stats s = server.stats();
    std::cout << "stopped: served " << s.served << " expired " << s.expired << " failed " << s.failed
              << " protocol errors " << s.protocol_errors << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "incision-edge: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
