// incision::net benchmarks, each side by side with its floor in the same run (interleaved, so the
// machine's load hits both alike):
// - small frames: a bare Asio echo of the same bytes (TCP_NODELAY) vs a request/reply through
//   edge_server and tcp_link, p50 and p99 (target: within 1.25x of the floor), with the servers'
//   threads on the client's core and on another core (both servers get the same placement: on a
//   virtual machine a wake-up across cores can cost more than the whole round trip on one, so a
//   floor and a contender placed differently by the scheduler compare placements, not code);
// - 1 MB tensors over a shaped link (as root: two network namespaces, a veth pair, tc tbf at
//   100 Mbit/s on the uplink) vs the shaped rate (target >= 80%), the bare echo alongside;
// - 64 devices at once: frames/s of the edge server vs a bare Asio echo server (target >= 80%);
// - the incision-edge executable at chain cuts of the example ResNet, for bench/net_peers.py
//   (the peers' way: pickle over a fresh socket per frame, on the same payload sizes).
// The servers run in this process on loopback unless said otherwise. Counters in microseconds.
#include <incision/exec/cpu_backend.hpp>
#include <incision/exec/edge_server.hpp>
#include <incision/exec/example_networks.hpp>
#include <incision/exec/null_backend.hpp>
#include <incision/exec/online_loop.hpp>
#include <incision/exec/tcp_link.hpp>
#include <incision/exec/wire.hpp>

#include "netns_support.hpp"

#include <benchmark/benchmark.h>

#include <asio.hpp>

#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ie = incision::exec;
using clk = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t model_id = 0x1e75;  // the in-process edge and its devices agree on it

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

double us_since(clk::time_point t0) { return std::chrono::duration<double, std::micro>(clk::now() - t0).count(); }

// Pins the calling thread to @p cpu (threads it starts inherit it); the destructor restores the
// affinity it found.
class pin_thread {
 public:
  explicit pin_thread(int cpu) {
    pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ok_ = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
  }
  ~pin_thread() { pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_); }
  pin_thread(const pin_thread&) = delete;
  pin_thread& operator=(const pin_thread&) = delete;
  [[nodiscard]] bool ok() const noexcept { return ok_; }

 private:
  cpu_set_t saved_{};
  bool ok_ = false;
};

// The first two cores this process may run on (-1 where there is no second).
std::pair<int, int> two_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  int first = -1, second = -1;
  for (int c = 0; c < CPU_SETSIZE && second < 0; ++c)
    if (CPU_ISSET(c, &set)) (first < 0 ? first : second) = c;
  return {first, second};
}

// The floor: an Asio echo server that reads one envelope (16-byte header with the payload length
// at offset 8, payload, 4-byte CRC) and writes the same bytes back; N threads, TCP_NODELAY.
class echo_server {
 public:
  explicit echo_server(std::size_t threads, const std::string& address = "127.0.0.1")
      : acceptor_(io_, {asio::ip::make_address(address), 0}) {
    accept();
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~echo_server() {
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct session : std::enable_shared_from_this<session> {
    asio::ip::tcp::socket s;
    std::vector<std::byte> buf;
    explicit session(asio::ip::tcp::socket sock) : s(std::move(sock)) {}
    void read() {
      buf.resize(ie::frame_header_size);
      asio::async_read(s, asio::buffer(buf), [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
        if (ec) return;
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i)
          n = (n << 8) | static_cast<std::uint8_t>(self->buf[8 + static_cast<std::size_t>(i)]);
        self->buf.resize(ie::frame_header_size + n + ie::frame_trailer_size);
        asio::async_read(self->s, asio::buffer(self->buf.data() + ie::frame_header_size, n + ie::frame_trailer_size),
                         [self](const asio::error_code& e2, std::size_t) {
                           if (e2) return;
                           asio::async_write(self->s, asio::buffer(self->buf),
                                             [self](const asio::error_code& e3, std::size_t) {
                                               if (!e3) self->read();
                                             });
                         });
      });
    }
  };
  void accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](const asio::error_code& ec, asio::ip::tcp::socket s) {
      if (ec) return;
      asio::error_code ignored;
      s.set_option(asio::ip::tcp::no_delay(true), ignored);
      std::make_shared<session>(std::move(s))->read();
      accept();
    });
  }
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

// A blocking client of the echo server: one frame out, the same bytes back.
struct echo_client {
  asio::io_context io;
  asio::ip::tcp::socket s{io};
  std::vector<std::byte> back;
  echo_client(const std::string& address, std::uint16_t port) {
    s.connect({asio::ip::make_address(address), port});
    s.set_option(asio::ip::tcp::no_delay(true));
  }
  void round_trip(const std::vector<std::byte>& frame) {
    asio::write(s, asio::buffer(frame));
    back.resize(frame.size());
    asio::read(s, asio::buffer(back));
  }
};

std::unique_ptr<ie::edge_server<ie::null_backend>> null_edge(std::size_t threads,
                                                             const std::string& address = "127.0.0.1") {
  ie::edge_server_options o;
  o.threads = threads;
  o.address = address;
  o.max_connections = 256;
  auto s = std::make_unique<ie::edge_server<ie::null_backend>>([] { return ie::null_backend(2); }, model_id, o);
  s->start();
  return s;
}

ie::tcp_link_options link_options(const std::string& host, std::uint16_t port) {
  ie::tcp_link_options o;
  o.host = host;
  o.port = port;
  o.deadline = std::chrono::seconds(10);
  return o;
}

// The null backend's two-layer chain cut after the input: the tensor is the cut (and the reply).
const std::vector<incision::partition::layer_id> input_only{0};

ie::tensor_list cut_of(std::size_t floats) {
  ie::tensor_list cut(1);
  cut[0].id = 0;
  cut[0].value = ie::random_tensor({floats}, 1);
  return cut;
}

// ---- small frames: floor vs ours, interleaved ------------------------------------------

// Args: floats in the tensor; 0: the servers' threads on the client's core, 1: on another core.
void BM_small_frame_round_trip(benchmark::State& state) {
  const auto floats = static_cast<std::size_t>(state.range(0));
  const auto [client_cpu, other_cpu] = two_cpus();
  const int server_cpu = state.range(1) == 0 ? client_cpu : other_cpu;
  if (server_cpu < 0) return state.SkipWithError("skipped: one core only");
  std::unique_ptr<echo_server> echo;
  std::unique_ptr<ie::edge_server<ie::null_backend>> edge;
  {
    const pin_thread at_server(server_cpu);  // the servers' threads start here and stay
    echo = std::make_unique<echo_server>(1);
    edge = null_edge(1);
  }
  const pin_thread at_client(client_cpu);
  echo_client ec("127.0.0.1", echo->port());
  ie::tcp_link tcp(model_id, link_options("127.0.0.1", edge->port()));
  const ie::tensor_list cut = cut_of(floats);
  ie::tensor_list out;
  std::vector<std::byte> request;  // the floor echoes our request frame: the same bytes
  ie::encode_request(1, ie::plan_fingerprint(input_only), 0, input_only, cut, request);
  if (!tcp.offload(input_only, cut, out)) return state.SkipWithError("the edge did not answer");
  for (int i = 0; i < 20; ++i) ec.round_trip(request);  // warm both
  for (int i = 0; i < 20; ++i) (void)tcp.offload(input_only, cut, out);
  std::vector<double> floor_us, ours_us;
  constexpr int batch = 100;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      auto t0 = clk::now();
      ec.round_trip(request);
      floor_us.push_back(us_since(t0));
      t0 = clk::now();
      if (!tcp.offload(input_only, cut, out)) return state.SkipWithError("a frame fell back");
      ours_us.push_back(us_since(t0));
    }
  }
  const double f50 = percentile(floor_us, 0.5), f99 = percentile(floor_us, 0.99);
  const double o50 = percentile(ours_us, 0.5), o99 = percentile(ours_us, 0.99);
  state.counters["bytes"] = static_cast<double>(request.size());
  state.counters["floor_p50_us"] = f50;
  state.counters["floor_p99_us"] = f99;
  state.counters["ours_p50_us"] = o50;
  state.counters["ours_p99_us"] = o99;
  state.counters["ratio_p50"] = o50 / f50;  // target <= 1.25
  state.counters["ratio_p99"] = o99 / f99;  // target <= 1.25
  state.SetItemsProcessed(static_cast<std::int64_t>(ours_us.size()));
}
BENCHMARK(BM_small_frame_round_trip)->ArgsProduct({{16, 1024}, {0, 1}})->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---- 1 MB over a shaped link ------------------------------------------------------------

void BM_shaped_link_1MB(benchmark::State& state) {
  if (const std::string why = net_test::netns_pair::unavailable(); !why.empty())
    return state.SkipWithError(("skipped: the shaped link " + why).c_str());
  const double mbit = 100.0;
  net_test::netns_pair ns;
  ns.set_uplink(mbit);
  const std::string edge_ip = net_test::netns_pair::edge_address;
  std::unique_ptr<ie::edge_server<ie::null_backend>> edge;
  std::unique_ptr<echo_server> echo;
  std::thread([&] {  // both servers listen in the edge's namespace
    const net_test::enter_netns in(ns.edge_ns());
    edge = null_edge(1, edge_ip);
    echo = std::make_unique<echo_server>(1, edge_ip);
  })
      .join();
  const net_test::enter_netns in(ns.device_ns());
  echo_client ec(edge_ip, echo->port());
  ie::tcp_link tcp(model_id, link_options(edge_ip, edge->port()));
  const ie::tensor_list cut = cut_of(std::size_t{1} << 18);  // 1 MiB of floats
  ie::tensor_list out;
  std::vector<std::byte> request;
  ie::encode_request(1, ie::plan_fingerprint(input_only), 0, input_only, cut, request);
  if (!tcp.offload(input_only, cut, out)) return state.SkipWithError("the edge did not answer");
  std::vector<double> ours_s, floor_s;
  for (auto _ : state) {
    for (int i = 0; i < 3; ++i) {
      auto t0 = clk::now();
      ec.round_trip(request);
      floor_s.push_back(us_since(t0) * 1e-6);
      ie::offload_request q;
      q.device_layers = input_only;
      q.cut = &cut;
      t0 = clk::now();
      const auto r = tcp.offload(q, out);
      if (!r.delivered) return state.SkipWithError("a frame fell back");
      ours_s.push_back(r.elapsed);
    }
  }
  // the uplink carries the request; the reply comes back over the unshaped direction
  const double rate = mbit * 1e6 / 8, bytes = static_cast<double>(request.size());
  state.counters["bytes"] = bytes;
  state.counters["shaped_MBps"] = rate / 1e6;
  state.counters["ours_MBps"] = bytes / percentile(ours_s, 0.5) / 1e6;
  state.counters["floor_MBps"] = bytes / percentile(floor_s, 0.5) / 1e6;
  state.counters["ours_of_rate"] = bytes / percentile(ours_s, 0.5) / rate;  // target >= 0.8
  state.counters["floor_of_rate"] = bytes / percentile(floor_s, 0.5) / rate;
}
BENCHMARK(BM_shaped_link_1MB)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- 64 devices at once ----------------------------------------------------------------

// frames/s of `devices` clients (8 threads, each driving its share of connections in turn) doing
// `frames` round trips each; connect(n) opens a thread's n connections before the clock starts.
template <class Connect, class RoundTrip>
double throughput(int devices, int frames, Connect connect, RoundTrip round_trip) {
  constexpr int threads = 8;
  std::vector<std::thread> pool;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  clk::time_point t0;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      auto conns = connect(devices / threads);
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int f = 0; f < frames; ++f)
        for (auto& c : conns) round_trip(c);
    });
  while (ready.load() < threads) std::this_thread::yield();
  t0 = clk::now();
  go.store(true);
  for (auto& th : pool) th.join();
  return devices * frames / (us_since(t0) * 1e-6);
}

void BM_64_devices(benchmark::State& state) {
  constexpr int devices = 64, frames = 10;
  echo_server echo(2);
  auto edge = null_edge(2);
  const ie::tensor_list cut = cut_of(16);
  std::vector<std::byte> request;
  ie::encode_request(1, ie::plan_fingerprint(input_only), 0, input_only, cut, request);
  std::vector<double> floor_fps, ours_fps;
  std::atomic<int> fallbacks{0};
  for (auto _ : state) {
    floor_fps.push_back(throughput(
        devices, frames,
        [&](int n) {
          std::vector<std::unique_ptr<echo_client>> v;
          for (int i = 0; i < n; ++i) v.push_back(std::make_unique<echo_client>("127.0.0.1", echo.port()));
          return v;
        },
        [&](std::unique_ptr<echo_client>& c) { c->round_trip(request); }));
    struct device {
      std::unique_ptr<ie::tcp_link> link;
      ie::tensor_list out;
    };
    ours_fps.push_back(throughput(
        devices, frames,
        [&](int n) {
          std::vector<device> v(static_cast<std::size_t>(n));
          for (auto& d : v) {
            d.link = std::make_unique<ie::tcp_link>(model_id, link_options("127.0.0.1", edge->port()));
            d.link->ensure_connected();
          }
          return v;
        },
        [&](device& d) {
          if (!d.link->offload(input_only, cut, d.out)) fallbacks.fetch_add(1);
        }));
  }
  if (fallbacks.load() != 0) state.SkipWithError("frames fell back");
  const double f = percentile(floor_fps, 0.5), o = percentile(ours_fps, 0.5);
  state.counters["floor_frames_per_s"] = f;
  state.counters["ours_frames_per_s"] = o;
  state.counters["ours_of_floor"] = o / f;  // target >= 0.8
}
BENCHMARK(BM_64_devices)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- the incision-edge executable (for bench/net_peers.py) ---------------------------

struct edge_child {
  pid_t pid = -1;
  std::uint16_t port = 0;
  edge_child() {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      execl(INCISION_EDGE_EXE, INCISION_EDGE_EXE, "--port", "0", "--model", "resnet", "--seed", "0",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    FILE* f = fdopen(fds[0], "r");
    char line[256] = {};
    if (std::fgets(line, sizeof line, f) != nullptr) {
      const std::string s(line);
      const auto colon = s.find(':');
      if (colon != std::string::npos) port = static_cast<std::uint16_t>(std::stoul(s.substr(colon + 1)));
    }
    std::fclose(f);
  }
  ~edge_child() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

// Arg: the chain cut (the device runs layers 0..k of the example ResNet; the request carries
// that cut). Counters: request and reply bytes, the round trip and the edge's compute, p50/p99.
void BM_incision_edge_process(benchmark::State& state) {
  edge_child edge;
  if (edge.port == 0) return state.SkipWithError("incision-edge did not start");
  const ie::network net = ie::resnet_network(0);
  ie::cpu_backend device(net);
  const auto chain = ie::chain_candidates(device.graph());
  const auto& d = chain[static_cast<std::size_t>(state.range(0))];
  ie::tensor_list cut, out;
  device.run_device(d, ie::random_tensor(device.input_shape(), 1), cut);
  ie::tcp_link tcp(ie::model_fingerprint(net), link_options("127.0.0.1", edge.port));
  ie::offload_request q;
  q.device_layers = d;
  q.cut = &cut;
  std::vector<double> rtt_us, server_us;
  double request_bytes = 0;
  for (int i = 0; i < 10; ++i) (void)tcp.offload(q, out);
  for (auto _ : state) {
    for (int i = 0; i < 50; ++i) {
      const auto r = tcp.offload(q, out);
      if (!r.delivered) return state.SkipWithError("a frame fell back");
      rtt_us.push_back(r.elapsed * 1e6);
      server_us.push_back(r.server_time * 1e6);
      request_bytes = r.shipped_bytes;
    }
  }
  std::vector<std::byte> reply;
  ie::encode_reply(1, 1, ie::wire_status::ok, 0, {}, out, reply);
  state.counters["request_bytes"] = request_bytes;
  state.counters["reply_bytes"] = static_cast<double>(reply.size());
  state.counters["rtt_p50_us"] = percentile(rtt_us, 0.5);
  state.counters["rtt_p99_us"] = percentile(rtt_us, 0.99);
  state.counters["server_p50_us"] = percentile(server_us, 0.5);
}
BENCHMARK(BM_incision_edge_process)->Arg(0)->Arg(3)->Arg(14)->Arg(21)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
