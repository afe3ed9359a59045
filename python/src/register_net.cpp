// Bindings for incision::net: the edge server in-process (any backend: the CPU network or a
// Python object) and the device's TCP link to an edge (used by OnlineLoop(edge=...)).
// Compiled only when the build found Asio and xtensor (INCISION_PY_HAVE_NET).
#if defined(INCISION_PY_HAVE_NET)

#include "bindings/common.hpp"
#include "bindings/exec.hpp"
#include "bindings/exec_backends.hpp"
#include "bindings/exec_net.hpp"

#include <incision/exec/edge_server.hpp>

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace py = pybind11;
using namespace pybind11::literals;
using namespace incision_py;

namespace {

template <class Duration>
Duration seconds_to(double s, const char* what) {
  if (!(s > 0.0) || !std::isfinite(s)) throw_exec(std::string(what) + " must be a finite number of seconds > 0");
  const auto d = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
  return d.count() > 0 ? d : Duration(1);
}

template <class Duration>
double to_seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

// ---- EdgeServer ----------------------------------------------------------------------------

struct server_iface {
  virtual ~server_iface() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  [[nodiscard]] virtual ie::edge_stats stats() const = 0;
};

template <class B>
struct server_model final : server_iface {
  server_model(std::function<B()> make, std::uint64_t model, ie::edge_server_options o)
      : s(std::move(make), model, std::move(o)) {}
  ie::edge_server<B> s;
  void start() override { s.start(); }
  void stop() override { s.stop(); }
  std::uint16_t port() const override { return s.port(); }
  ie::edge_stats stats() const override { return s.stats(); }
};

/// A bound EdgeServer: the C++ server (its worker threads run without the GIL and take it only
/// inside a Python backend's calls) and the Python backend object it serves.
struct py_edge_server {
  std::unique_ptr<server_iface> impl;
  py::object backend_ref;
  std::string address, backend_type;
  std::uint64_t fingerprint = 0;
  std::size_t threads = 0;
  bool running = false;
  mutable object_mutex m;

  void stop() {
    // workers may be waiting for the GIL inside a Python backend: never join them holding it
    if (PyGILState_Check() != 0) {
      py::gil_scoped_release release;
      object_lock lock(m);
      if (running) impl->stop();
      running = false;
    } else {
      object_lock lock(m);
      if (running) impl->stop();
      running = false;
    }
  }
  ~py_edge_server() {
    if (impl) stop();
    impl.reset();  // backends drop their Python references (they take the GIL themselves)
  }
};

py::dict stats_dict(const ie::edge_stats& s) {
  py::dict d;
  d["accepted"] = s.accepted;
  d["refused"] = s.refused;
  d["open"] = s.open;
  d["served"] = s.served;
  d["expired"] = s.expired;
  d["failed"] = s.failed;
  d["protocol_errors"] = s.protocol_errors;
  d["timeouts"] = s.timeouts;
  d["fed_messages"] = s.fed_messages;
  d["budget_peak"] = s.budget_peak;
  return d;
}

void bind_edge_server(py::module_& m) {
  const ie::edge_server_options defaults;
  py::class_<py_edge_server>(m, "EdgeServer", R"doc(
An edge server in this process (incision::exec::edge_server): serves the server part of each
device's frames over TCP, and hosts the FedLinUCB-DW aggregator on the same connections.

``backend``: an incision.exec.Network (each worker thread gets its own copy), or a Python
backend object with ``graph``, ``run_device``, ``run_server`` and ``fingerprint`` (see
docs/python-network.md; incision.torch's ``TracedModel.backend()`` is one), shared by the
worker threads. ``fingerprint`` overrides the model fingerprint devices must present (default:
the Network's model_fingerprint, or the backend's ``fingerprint``).

Starts listening at once (``port=0``: a free port, see ``port``). Worker threads run without
the GIL; a Python backend is called with it. ``stop()`` (idempotent) closes every connection
and joins the threads; so do ``with`` and garbage collection. Times in seconds. OSError when the
address cannot be bound.)doc")
      .def(py::init([](py::object backend, std::uint16_t port, const std::string& address,
                       std::optional<std::size_t> threads, std::optional<py::object> fingerprint,
                       std::size_t max_connections, std::size_t memory_budget, std::uint64_t max_frame_bytes,
                       double idle_timeout, double read_timeout, double write_timeout, bool host_aggregator) {
             ie::edge_server_options o;
             o.address = address;
             o.port = port;
             o.max_connections = max_connections;
             o.memory_budget = memory_budget;
             o.limits.max_frame_bytes = max_frame_bytes;
             o.idle_timeout = seconds_to<std::chrono::milliseconds>(idle_timeout, "idle_timeout");
             o.read_timeout = seconds_to<std::chrono::milliseconds>(read_timeout, "read_timeout");
             o.write_timeout = seconds_to<std::chrono::milliseconds>(write_timeout, "write_timeout");
             o.host_aggregator = host_aggregator;
             auto self = std::make_unique<py_edge_server>();
             self->address = address;
             const std::uint64_t fp = fingerprint ? fingerprint_of(*fingerprint) : fingerprint_of(backend);
             self->fingerprint = fp;
             if (py::isinstance<py_network>(backend)) {
               o.threads = threads.value_or(o.threads);
               const auto& n = backend.cast<const py_network&>();
               std::shared_ptr<const ie::network> net;
               {
                 object_lock lock(n.m, object_lock::shared);
                 net = std::make_shared<const ie::network>(n.backend.net());
               }
               self->backend_type = "Network";
               self->threads = o.threads;
               py::gil_scoped_release release;
               self->impl =
                   std::make_unique<server_model<ie::cpu_backend>>([net] { return ie::cpu_backend(*net); }, fp, o);
             } else {
               o.threads = threads.value_or(1);
               const py_backend pb(backend);
               self->backend_type = pb.type_name();
               self->threads = o.threads;
               self->impl = std::make_unique<server_model<py_backend>>([pb] { return pb; }, fp, o);
             }
             self->backend_ref = std::move(backend);
             {
               py::gil_scoped_release release;
               self->impl->start();
             }
             self->running = true;
             return self;
           }),
           "backend"_a, py::kw_only(), "port"_a = defaults.port, "address"_a = defaults.address,
           "threads"_a = py::none(), "fingerprint"_a = py::none(), "max_connections"_a = defaults.max_connections,
           "memory_budget"_a = defaults.memory_budget, "max_frame_bytes"_a = defaults.limits.max_frame_bytes,
           "idle_timeout"_a = to_seconds(defaults.idle_timeout), "read_timeout"_a = to_seconds(defaults.read_timeout),
           "write_timeout"_a = to_seconds(defaults.write_timeout), "host_aggregator"_a = defaults.host_aggregator,
           "threads: worker threads (default: 2 for a Network, 1 for a Python backend).")
      .def_property_readonly(
          "port", [](const py_edge_server& s) { return s.impl->port(); }, "The bound port.")
      .def_property_readonly("address", [](const py_edge_server& s) { return s.address; })
      .def_property_readonly(
          "fingerprint", [](const py_edge_server& s) { return s.fingerprint; },
          "The model fingerprint devices must present.")
      .def_property_readonly("threads", [](const py_edge_server& s) { return s.threads; })
      .def_property_readonly("running",
                             [](const py_edge_server& s) {
                               object_lock lock(s.m, object_lock::shared);
                               return s.running;
                             })
      .def_property_readonly("backend", [](const py_edge_server& s) { return s.backend_ref; })
      .def_property_readonly(
          "stats", [](const py_edge_server& s) { return stats_dict(s.impl->stats()); }, R"doc(
Counters as a dict: accepted, refused, open (connections), served, expired, failed (requests),
protocol_errors, timeouts, fed_messages, budget_peak (most frame-body bytes held at once).)doc")
      .def("stop", &py_edge_server::stop, "Closes the listener and every connection, joins the threads. Idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](py_edge_server& s, const py::args&) { s.stop(); })
      .def("__repr__", [](const py_edge_server& s) {
        object_lock lock(s.m, object_lock::shared);
        return "EdgeServer(" + s.address + ":" + std::to_string(s.impl->port()) + ", backend=" + s.backend_type +
               ", threads=" + std::to_string(s.threads) + (s.running ? ", running)" : ", stopped)");
      });
}

// ---- TcpLink -------------------------------------------------------------------------------

py::dict link_stats_dict(const ie::tcp_link_stats& s) {
  py::dict d;
  d["offloaded"] = s.offloaded;
  d["late"] = s.late;
  d["down"] = s.down;
  d["refused"] = s.refused;
  d["late_dropped"] = s.late_dropped;
  d["connects"] = s.connects;
  d["disconnects"] = s.disconnects;
  d["last_server_seconds"] = s.last_server_seconds;
  return d;
}

void bind_tcp_link(py::module_& m) {
  const ie::tcp_link_options defaults;
  py::class_<py_tcp_link>(m, "TcpLink", R"doc(
The device's connection to an edge (incision::exec::tcp_link): hand it to
``incision.exec.OnlineLoop(..., edge=link)`` and each offloaded frame's server part runs on the
edge. ``model`` is what the handshake names: a Network, a Python backend with a
``fingerprint``, or the int fingerprint itself; an edge serving another model refuses it.

Per frame the device waits at most ``deadline`` seconds for the edge's reply, then completes the
frame itself; a broken connection falls back at once and is retried after ``backoff_min``
seconds, doubling up to ``backoff_max``; offloading resumes with the first successful
handshake. Connecting is lazy (the first frame, or ``connect()``). Times in seconds.)doc")
      .def(py::init([](std::uint16_t port, const py::object& model, const std::string& host, double deadline,
                       double connect_timeout, double backoff_min, double backoff_max) {
             ie::tcp_link_options o;
             o.host = host;
             o.port = port;
             o.deadline = seconds_to<std::chrono::microseconds>(deadline, "deadline");
             o.connect_timeout = seconds_to<std::chrono::milliseconds>(connect_timeout, "connect_timeout");
             o.backoff_min = seconds_to<std::chrono::milliseconds>(backoff_min, "backoff_min");
             o.backoff_max = seconds_to<std::chrono::milliseconds>(backoff_max, "backoff_max");
             if (o.backoff_max < o.backoff_min) throw_exec("TcpLink: backoff_max must be >= backoff_min");
             if (port == 0) throw_exec("TcpLink: port 0 names no server (use the EdgeServer's port)");
             return std::make_unique<py_tcp_link>(fingerprint_of(model), o);
           }),
           "port"_a, "model"_a, py::kw_only(), "host"_a = defaults.host, "deadline"_a = to_seconds(defaults.deadline),
           "connect_timeout"_a = to_seconds(defaults.connect_timeout),
           "backoff_min"_a = to_seconds(defaults.backoff_min), "backoff_max"_a = to_seconds(defaults.backoff_max))
      .def(
          "connect",
          [](py_tcp_link& self) {
            py::gil_scoped_release release;
            object_lock lock(self.m);
            return self.link.ensure_connected();
          },
          "Connects now if down and the backoff allows (waits up to connect_timeout). True when connected.")
      .def_property_readonly("connected",
                             [](const py_tcp_link& self) {
                               object_lock lock(self.m);
                               return self.link.connected();
                             })
      .def_property_readonly(
          "stats",
          [](const py_tcp_link& self) {
            ie::tcp_link_stats s;
            {
              object_lock lock(self.m);
              s = self.link.stats();
            }
            return link_stats_dict(s);
          },
          R"doc(
Counters as a dict: offloaded (replies in time), late (deadline first), down (not sent: no
connection), refused (replies with a status other than ok), late_dropped, connects,
disconnects, last_server_seconds (the edge's compute time in the last reply).)doc")
      .def_property_readonly(
          "last_error",
          [](const py_tcp_link& self) {
            object_lock lock(self.m);
            return self.link.last_error();
          },
          "Why the link last went down ('' if it never did).")
      .def_property_readonly("fingerprint", [](const py_tcp_link& self) { return self.fingerprint; })
      .def_property_readonly("host", [](const py_tcp_link& self) { return self.opt.host; })
      .def_property_readonly("port", [](const py_tcp_link& self) { return self.opt.port; })
      .def_property_readonly("deadline", [](const py_tcp_link& self) { return to_seconds(self.opt.deadline); })
      .def("__repr__", [](const py_tcp_link& self) {
        object_lock lock(self.m);
        return "TcpLink(" + self.opt.host + ":" + std::to_string(self.opt.port) +
               (self.link.connected() ? ", connected)" : ", not connected)");
      });
}

}  // namespace

void register_net(py::module_& m) {
  bind_edge_server(m);
  bind_tcp_link(m);
}

#endif  // INCISION_PY_HAVE_NET
