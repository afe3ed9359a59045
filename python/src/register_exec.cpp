// Bindings for incision::exec: the reference CPU backend's example networks (run, split runs,
// profiling, weights), Python objects as backends, tensor serialisation, the simulated link and
// the online loop (optionally with its server part on an edge, see register_net.cpp).
// Compiled only when the build found xtensor (INCISION_PY_HAVE_EXEC, python/CMakeLists.txt).
#if defined(INCISION_PY_HAVE_EXEC)

#include "bindings/common.hpp"
#include "bindings/exec.hpp"
#include "bindings/exec_backends.hpp"
#if defined(INCISION_PY_HAVE_NET)
#include "bindings/exec_net.hpp"
#endif

#include <pybind11/stl/filesystem.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace py = pybind11;
using namespace pybind11::literals;
using namespace incision_py;

namespace {

using py_graph = locked_object<ip::layer_graph>;
using py_link = locked_object<ie::sim_link>;

/// online_loop's learner: the arm is chosen by the Python learner before the frame (select
/// runs with the GIL and no object lock) and the delay is handed back after it.
struct prefetched_learner {
  std::size_t next = 0;
  std::size_t arm = 0;
  double delay = 0.0;
  [[nodiscard]] std::size_t select(bool /*key_frame*/) const noexcept { return next; }
  void update(std::size_t a, double d) noexcept {
    arm = a;
    delay = d;
  }
};

/// The operations of an offload link (offload_link.hpp) behind virtual calls, with the loop's
/// server switch: one loop type offloads through the simulated link or to an edge over TCP.
struct link_iface {
  virtual ~link_iface() = default;
  virtual ie::offload_result offload(const ie::offload_request& r, ie::tensor_list& outputs) = 0;
  virtual void set_server_available(bool up) noexcept = 0;
};

/// A non-owning handle that models offload_link over any link_iface.
struct any_link {
  link_iface* impl = nullptr;
  ie::offload_result offload(const ie::offload_request& r, ie::tensor_list& outputs) {
    return impl->offload(r, outputs);
  }
  void set_server_available(bool up) noexcept { impl->set_server_available(up); }
};
static_assert(ie::offload_link<any_link>);

/// The simulated link in front of the local server part (the device's own backend).
struct sim_link_model final : link_iface {
  sim_link_model(ie::sim_link& l, any_backend& server) : s(l, server) {}
  ie::sim_offload<any_backend> s;
  ie::offload_result offload(const ie::offload_request& r, ie::tensor_list& outputs) override {
    return s.offload(r, outputs);
  }
  void set_server_available(bool up) noexcept override { s.set_server_available(up); }
};

#if defined(INCISION_PY_HAVE_NET)
/// An edge over TCP; taken away, frames fall back at once without touching the connection.
struct tcp_link_model final : link_iface {
  explicit tcp_link_model(ie::tcp_link& l) : link(l) {}
  ie::tcp_link& link;
  bool up = true;
  ie::offload_result offload(const ie::offload_request& r, ie::tensor_list& outputs) override {
    if (!up) return {};  // not delivered, given up at once
    return link.offload(r, outputs);
  }
  void set_server_available(bool u) noexcept override { up = u; }
};
#endif

using loop_type = ie::online_loop<prefetched_learner, any_backend, any_backend, any_link>;

/// A bound OnlineLoop: the C++ loop over a backend (the CPU network or a Python object) and an
/// offload link (a SimLink in front of the device's own backend, or a TcpLink to an edge; kept
/// alive through the Python references), the Python learner, and the loop's own lock.
/// Members are destroyed bottom up: the loop before what it references.
struct py_loop {
  py::object net_ref, link_ref, edge_ref, learner;
  resolved_backend device;  // the network, or a py_backend
  any_backend device_any;
  py_link* link = nullptr;
#if defined(INCISION_PY_HAVE_NET)
  py_tcp_link* edge = nullptr;
#endif
  std::unique_ptr<link_iface> link_impl;
  any_link link_any;
  std::vector<object_mutex*> frame_locks;  // taken around each frame (GIL released)
  prefetched_learner adaptor;
  std::unique_ptr<loop_type> loop;
  std::size_t key_frame_every = 1;
  bool server_up = true;
  std::atomic<std::thread::id> runner{};  // the thread inside run(), to refuse re-entry from the learner
  mutable object_mutex m;
};

constexpr double inf = std::numeric_limits<double>::infinity();

// ---- Network --------------------------------------------------------------------------

/// f(network) with the GIL released and the network locked (f touches no Python object).
template <class F>
auto on_network(py_network& n, F&& f) {
  py::gil_scoped_release release;
  object_lock lock(n.m);
  return f(n);
}

py::tuple shape_tuple(const ie::shape_type& s) {
  py::tuple t(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) t[i] = s[i];
  return t;
}

const char* kind_name(ie::op_kind k) {
  switch (k) {
    case ie::op_kind::input:
      return "input";
    case ie::op_kind::conv2d:
      return "conv2d";
    case ie::op_kind::relu:
      return "relu";
    case ie::op_kind::max_pool:
      return "max_pool";
    case ie::op_kind::avg_pool:
      return "avg_pool";
    case ie::op_kind::global_avg_pool:
      return "global_avg_pool";
    case ie::op_kind::linear:
      return "linear";
    case ie::op_kind::flatten:
      return "flatten";
    case ie::op_kind::add:
      return "add";
    case ie::op_kind::concat:
      return "concat";
    case ie::op_kind::softmax:
      return "softmax";
  }
  return "unknown";
}

// Device part, encode, decode, server part; outputs into n.outputs. Network locked, no GIL.
void split_run(py_network& n, const std::vector<ip::layer_id>& d, const ie::tensor& x) {
  n.backend.run_device(d, x, n.cut);
  ie::encode(n.cut, n.wire);
  ie::decode(n.wire, n.received);
  n.backend.run_server(d, n.received, n.server);
  ie::collect_outputs(n.backend.graph(), n.received, n.server, n.outputs);
}

void bind_network(py::module_& m) {
  py::class_<py_network>(m, "Network", R"doc(
A DNN run by incision's reference CPU backend (xtensor buffers, Eigen GEMMs, float32, one
thread). Build one with example_network(). Layer ids are those of ``graph``, so every plan of
the partitioners (dsl, chain_scan, BandwidthMap, ...) applies as is.

Inputs are float32 numpy arrays of shape ``input_shape`` (other dtypes or shapes: ValueError).
A split run's outputs equal the unsplit run's bit for bit (both parts run the same kernels).

Threads: every method takes a per-network lock; run, run_split, profile and layer_outputs
release the GIL while they compute.)doc")
      .def_property_readonly("name", [](const py_network& n) { return n.name; })
      .def_property_readonly("seed", [](const py_network& n) { return n.backend.net().seed(); })
      .def_property_readonly(
          "graph",
          [](const py_network& n) {
            object_lock lock(n.m, object_lock::shared);
            return py_graph(n.backend.graph());
          },
          "The network's LayerGraph (a copy; times are 0 until profile() fills them; out_bytes = 4 per "
          "element; type and macs per layer).")
      .def_property_readonly(
          "input_shape", [](const py_network& n) { return shape_tuple(n.backend.input_shape()); },
          "Shape of the input tensor, e.g. (1, 3, 32, 32).")
      .def_property_readonly(
          "fingerprint",
          [](const py_network& n) {
            object_lock lock(n.m, object_lock::shared);
            return ie::model_fingerprint(n.backend.net());
          },
          "The model fingerprint an edge and its devices compare in the handshake (graph and weights).")
      .def_property_readonly(
          "total_macs", [](const py_network& n) { return n.backend.net().total_macs(); },
          "Multiply-accumulates of one inference (element operations included).")
      .def("__len__", [](const py_network& n) { return n.backend.graph().size(); })
      .def(
          "run",
          [](py_network& self, const py::array& x) {
            const ie::tensor in = to_tensor(x, "x");
            const ie::tensor_list out = on_network(self, [&](py_network& n) { return ie::run(n.backend, in); });
            return outputs_to_python(out);
          },
          "x"_a, "The unsplit run: the network output (a tuple of outputs if it has several).")
      .def(
          "run_split",
          [](py_network& self, const py::object& device_layers, const py::array& x) {
            const auto d = to_device_set(device_layers);
            const ie::tensor in = to_tensor(x, "x");
            const ie::tensor_list out = on_network(self, [&](py_network& n) {
              split_run(n, d, in);
              return n.outputs;
            });
            return outputs_to_python(out);
          },
          "device_layers"_a, "x"_a, R"doc(
Split run at a device set (a Plan or ascending layer ids holding the input and every
predecessor of its members): the device part, the tensors crossing the cut serialised into
one envelope (kind 301) and deserialised, then the server part. Returns what run() returns.
ValueError for an infeasible set, an unknown id or a wrong input.)doc")
      .def(
          "run_device",
          [](py_network& self, const py::object& device_layers, const py::array& x) {
            const auto d = to_device_set(device_layers);
            const ie::tensor in = to_tensor(x, "x");
            const std::vector<std::byte> wire = on_network(self, [&](py_network& n) {
              n.backend.run_device(d, in, n.cut);
              ie::encode(n.cut, n.wire);
              return n.wire;
            });
            return to_py_bytes(wire);
          },
          "device_layers"_a, "x"_a,
          "The device part alone: the serialised tensors crossing the cut (bytes, envelope kind 301), to ship "
          "yourself and hand to run_server.")
      .def(
          "run_server",
          [](py_network& self, const py::object& device_layers, const py::bytes& data) {
            const auto d = to_device_set(device_layers);
            const auto span = as_byte_span(data);
            const py::bytes keep = data;  // the span views this object's buffer
            const ie::tensor_list out = on_network(self, [&](py_network& n) {
              ie::decode(span, n.received);
              n.backend.run_server(d, n.received, n.server);
              ie::collect_outputs(n.backend.graph(), n.received, n.server, n.outputs);
              return n.outputs;
            });
            return outputs_to_python(out);
          },
          "device_layers"_a, "data"_a,
          "The server part from run_device's bytes (same device set): returns what run() returns. ValueError "
          "on corrupt bytes or a cut that lacks a tensor.")
      .def(
          "profile",
          [](py_network& self, const std::optional<py::array>& x, std::size_t repeats, std::size_t warmup,
             double server_speedup, std::uint64_t seed) {
            std::optional<ie::tensor> in;
            if (x) in = to_tensor(*x, "x");
            ip::layer_graph g = on_network(self, [&](py_network& n) {
              const ie::tensor input = in ? *in : ie::random_tensor(n.backend.input_shape(), seed);
              return ie::profile(n.backend, input, ie::profile_options{repeats, warmup, server_speedup});
            });
            return py_graph(std::move(g));
          },
          "x"_a = py::none(), py::kw_only(), "repeats"_a = 5, "warmup"_a = 1, "server_speedup"_a = 1.0, "seed"_a = 1,
          R"doc(
Times every layer on this machine (median of ``repeats`` runs after ``warmup``) on ``x`` (default:
uniform [-1, 1) noise from ``seed``) and returns the LayerGraph with device_time, server_time =
device_time / server_speedup, and out_bytes filled, ready for dsl/BandwidthMap.)doc")
      .def(
          "layer_outputs",
          [](py_network& self, const py::array& x) {
            const ie::tensor in = to_tensor(x, "x");
            const std::vector<ie::tensor> values = on_network(self, [&](py_network& n) {
              const auto all = ie::all_layers(n.backend.graph());
              n.backend.run_device(all, in, n.cut);
              std::vector<ie::tensor> v;
              v.reserve(all.size());
              for (const ip::layer_id id : all) v.push_back(n.backend.value(id));
              return v;
            });
            py::list out;
            for (const auto& t : values) out.append(to_numpy(t));
            return out;
          },
          "x"_a, "Every layer's output of the unsplit run on x, in layer id order (for checks against references).")
      .def(
          "layer",
          [](const py_network& self, ip::layer_id v) {
            // the registered Python object of self: the base that keeps the views' memory alive
            const py::object self_obj = py::cast(&self, py::return_value_policy::reference);
            object_lock lock(self.m, object_lock::shared);
            const ie::op& o = self.backend.net().at(v);  // IndexError for an unknown id
            const auto& g = self.backend.graph();
            py::dict d;
            d["name"] = g[v].name;
            d["kind"] = kind_name(o.kind);
            d["inputs"] = g.predecessors(v);
            d["out_shape"] = shape_tuple(o.out_shape);
            if (o.kind == ie::op_kind::conv2d) {
              d["kernel"] = o.conv.kernel;
              d["stride"] = o.conv.stride;
              d["padding"] = o.conv.padding;
              d["groups"] = o.conv.groups;
            }
            if (o.kind == ie::op_kind::max_pool || o.kind == ie::op_kind::avg_pool) {
              d["kernel"] = o.pool.kernel;
              d["stride"] = o.pool.stride;
              d["padding"] = o.pool.padding;
            }
            if (o.kind == ie::op_kind::conv2d || o.kind == ie::op_kind::linear) {
              // the weights never change after construction: read-only views, no copy
              d["weight"] = read_only_view(o.weight, self_obj);
              d["bias"] = o.bias.size() != 0 ? py::object(read_only_view(o.bias, self_obj)) : py::object(py::none());
            }
            if (o.kind == ie::op_kind::conv2d && o.bn_gamma.size() != 0) {
              py::dict bn;
              bn["gamma"] = read_only_view(o.bn_gamma, self_obj);
              bn["beta"] = read_only_view(o.bn_beta, self_obj);
              bn["mean"] = read_only_view(o.bn_mean, self_obj);
              bn["var"] = read_only_view(o.bn_var, self_obj);
              bn["eps"] = ie::op::bn_eps;
              bn["raw_weight"] = read_only_view(o.raw_weight, self_obj);
              bn["raw_bias"] = read_only_view(o.raw_bias, self_obj);
              d["batch_norm"] = bn;
            }
            return d;
          },
          "layer"_a, R"doc(
One layer as a dict: name, kind ('input', 'conv2d', 'relu', 'max_pool', 'avg_pool',
'global_avg_pool', 'linear', 'flatten', 'add', 'concat', 'softmax'), inputs (predecessor ids, in
operand order), out_shape; kernel/stride/padding (and groups) for convolutions and pooling;
weight and bias (read-only float32 views, batch norm already folded into convolutions; bias None
when absent) for conv2d (K, C/groups, k, k) and linear (out, in); for a convolution with batch
norm, batch_norm: gamma, beta, mean, var, eps and the weight and bias before folding. Average pooling divides by the
full window (count_include_pad).)doc")
      .def("__repr__", [](const py_network& n) {
        return "Network(name='" + n.name + "', layers=" + std::to_string(n.backend.graph().size()) +
               ", input_shape=" + ie::shape_string(n.backend.input_shape()) + ")";
      });

  m.def(
      "example_network",
      [](const std::string& name, std::uint64_t seed) {
        return std::make_unique<py_network>(ie::example_network(name, seed), name);
      },
      "name"_a, "seed"_a = 0, R"doc(
One of the built-in example networks for a (1, 3, 32, 32) input, weights drawn from ``seed``:
'resnet' (residual blocks: adds across branches, 25 layers) or 'inception' (parallel branches
joined by concat, 37 layers). ValueError for another name.)doc");
}

// ---- Tensor codec -----------------------------------------------------------------------

void bind_codec(py::module_& m) {
  m.def(
      "encode_tensor",
      [](const py::array& x) {
        const ie::tensor t = to_tensor(x, "x");
        std::vector<std::byte> out;
        ie::encode(t, out);
        return to_py_bytes(out);
      },
      "x"_a, "A float32 array serialised as (shape, dtype, bytes) in incision's envelope (kind 300).");
  m.def(
      "decode_tensor",
      [](const py::bytes& data) {
        const ie::tensor t = ie::decode_tensor(as_byte_span(data));
        return to_numpy(t);
      },
      "data"_a, "The array of encode_tensor's bytes. ValueError naming the first bad field on corrupt input.");
  m.def(
      "encode_tensors",
      [](const std::map<ip::layer_id, py::array>& tensors) {
        ie::tensor_list list;
        for (const auto& [id, a] : tensors) list.push_back({id, to_tensor(a, "tensor")});
        std::vector<std::byte> out;
        ie::encode(list, out);
        return to_py_bytes(out);
      },
      "tensors"_a, "Named tensors {layer id: float32 array} serialised as one envelope (kind 301).");
  m.def(
      "decode_tensors",
      [](const py::bytes& data) {
        ie::tensor_list list;
        ie::decode(as_byte_span(data), list);
        py::dict d;
        for (const auto& t : list) d[py::int_(t.id)] = to_numpy(t.value);
        return d;
      },
      "data"_a, "{layer id: array} from encode_tensors' bytes (or a split run's cut). ValueError on corrupt input.");
}

// ---- Trace and link ----------------------------------------------------------------------

ie::bandwidth_trace trace_from_arrays(const Eigen::VectorXd& time, const Eigen::VectorXd& bandwidth,
                                      const std::optional<Eigen::VectorXd>& latency,
                                      const std::optional<Eigen::VectorXd>& jitter) {
  const Eigen::Index n = time.size();
  const auto check = [&](const std::optional<Eigen::VectorXd>& v, const char* name) {
    if (v && v->size() != n)
      throw_exec(std::string("bandwidth trace: ") + name + " has " + std::to_string(v->size()) + " values, time has " +
                 std::to_string(n));
  };
  if (bandwidth.size() != n)
    throw_exec("bandwidth trace: bandwidth has " + std::to_string(bandwidth.size()) + " values, time has " +
               std::to_string(n));
  check(latency, "latency");
  check(jitter, "jitter");
  std::vector<ie::trace_point> pts(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i)
    pts[static_cast<std::size_t>(i)] = {time(i), bandwidth(i), latency ? (*latency)(i) : 0.0,
                                        jitter ? (*jitter)(i) : 0.0};
  return ie::bandwidth_trace(std::move(pts));
}

Eigen::VectorXd trace_column(const ie::bandwidth_trace& t, double ie::trace_point::*field) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(t.points().size()));
  for (std::size_t i = 0; i < t.points().size(); ++i) v(static_cast<Eigen::Index>(i)) = t.points()[i].*field;
  return v;
}

void bind_link(py::module_& m) {
  py::class_<ie::bandwidth_trace>(m, "BandwidthTrace", R"doc(
A piecewise-constant uplink: from time[i] (seconds, strictly increasing, >= 0) on, the link sends
at bandwidth[i] bytes/s (0: down) with a one-way latency[i] plus a uniform random delay in
[0, jitter[i]) per message. Before the first row the first row holds. Immutable.

CSV form (from_csv / parse_csv): a header ``time,bandwidth[,latency[,jitter]]`` then one row per
change; blank lines and lines starting with '#' are skipped.)doc")
      .def(py::init(&trace_from_arrays), "time"_a, "bandwidth"_a, "latency"_a = py::none(), "jitter"_a = py::none())
      .def_static("constant", &ie::bandwidth_trace::constant, "bandwidth"_a, "latency"_a = 0.0, "jitter"_a = 0.0)
      .def_static(
          "from_csv", [](const std::filesystem::path& path) { return ie::bandwidth_trace::load_csv(path); }, "path"_a,
          "Loads a CSV file (OSError if unreadable; ValueError naming file:line on bad content).")
      .def_static(
          "parse_csv",
          [](const std::string& text, const std::string& source) {
            return ie::bandwidth_trace::parse_csv(text, source);
          },
          "text"_a, "source"_a = "<string>")
      .def("__len__", [](const ie::bandwidth_trace& t) { return t.points().size(); })
      .def_property_readonly("time",
                             [](const ie::bandwidth_trace& t) { return trace_column(t, &ie::trace_point::time); })
      .def_property_readonly("bandwidth",
                             [](const ie::bandwidth_trace& t) { return trace_column(t, &ie::trace_point::bandwidth); })
      .def_property_readonly("latency",
                             [](const ie::bandwidth_trace& t) { return trace_column(t, &ie::trace_point::latency); })
      .def_property_readonly("jitter",
                             [](const ie::bandwidth_trace& t) { return trace_column(t, &ie::trace_point::jitter); })
      .def(
          "bandwidth_at", [](const ie::bandwidth_trace& t, double time) { return t.at(time).bandwidth; }, "t"_a)
      .def("transmit_end", &ie::bandwidth_trace::transmit_end, "start"_a, "nbytes"_a,
           "When nbytes sent from start have left (inf if the link never carries them).")
      .def("__repr__", [](const ie::bandwidth_trace& t) {
        return "BandwidthTrace(rows=" + std::to_string(t.points().size()) + ")";
      });

  py::class_<py_link>(m, "SimLink", R"doc(
A simulated uplink over a BandwidthTrace on a virtual clock (never sleeps): one message on the
wire at a time (FIFO), rate changes mid-message apply to the rest, latency and jitter as in force
when the transmission started; jitter is drawn from ``seed``. Per-object lock.)doc")
      .def(py::init(
               [](const ie::bandwidth_trace& trace, std::uint64_t seed) { return py_link(ie::sim_link(trace, seed)); }),
           "trace"_a, "seed"_a = 0)
      .def(py::init([](const std::filesystem::path& path, std::uint64_t seed) {
             return py_link(ie::sim_link(ie::bandwidth_trace::load_csv(path), seed));
           }),
           "csv_path"_a, "seed"_a = 0, "A link over the trace in a CSV file (see BandwidthTrace).")
      .def(
          "send",
          [](py_link& self, double t, std::size_t nbytes) {
            if (!(t >= 0.0) || !std::isfinite(t)) throw_exec("SimLink.send: t must be finite and >= 0");
            object_lock lock(self.m);
            return self.obj.send(t, nbytes);
          },
          "t"_a, "nbytes"_a, "Sends nbytes at virtual time t (seconds); returns the delivery time (inf: never).")
      .def_property_readonly("busy_until", locked<py_link>(&ie::sim_link::busy_until), "When the wire is free again.")
      .def_property_readonly("trace",
                             [](const py_link& self) {
                               object_lock lock(self.m, object_lock::shared);
                               return self.obj.trace();
                             })
      .def("reset", locked<py_link>(&ie::sim_link::reset), "Back to an idle wire and the initial jitter sequence.")
      .def("__repr__", [](const py_link& self) {
        object_lock lock(self.m, object_lock::shared);
        return "SimLink(rows=" + std::to_string(self.obj.trace().points().size()) +
               ", busy_until=" + std::to_string(self.obj.busy_until()) + ")";
      });
}

// ---- Candidates, arms and the online loop --------------------------------------------------

// The device sets of anything with a `plans` sequence of Plans (a BandwidthMap), in its order.
std::vector<std::vector<ip::layer_id>> plans_candidates(const py::object& map) {
  std::vector<std::vector<ip::layer_id>> out;
  for (const py::handle p : map.attr("plans")) {
    if (!py::isinstance<ip::plan>(p)) throw_exec("map_candidates: the plans must be Plan objects");
    out.push_back(p.cast<const ip::plan&>().device_layers);
  }
  return out;
}

std::vector<std::vector<ip::layer_id>> to_candidates(const py::object& c, const ip::layer_graph& g) {
  if (py::isinstance<py::str>(c)) {
    if (c.cast<std::string>() == "chain") return ie::chain_candidates(g);
    throw_exec("candidates: the only named set is 'chain', got '" + c.cast<std::string>() + "'");
  }
  if (py::hasattr(c, "plans")) return plans_candidates(c);
  if (!py::isinstance<py::sequence>(c))
    throw_exec("candidates must be 'chain', a BandwidthMap or a sequence of device sets (Plans or id lists)");
  std::vector<std::vector<ip::layer_id>> out;
  for (const py::handle h : c.cast<py::sequence>()) out.push_back(to_device_set(h));
  return out;
}

void bind_loop(py::module_& m) {
  m.def(
      "chain_candidates",
      [](const py_graph& g) {
        object_lock lock(g.m);
        return ie::chain_candidates(g.obj);
      },
      "graph"_a, "Every topological prefix of the graph (ascending ids): the chain cuts, all-device last.");
  m.def("map_candidates", &plans_candidates, "bandwidth_map"_a,
        "The device sets of a BandwidthMap's plans (highest bandwidth first).");
  m.def(
      "make_arms",
      [](const py_graph& g, const py::object& candidates) {
        object_lock lock(g.m);
        const auto cands = to_candidates(candidates, g.obj);
        auto t = ie::make_arms(g.obj, cands);
        return py::make_tuple(std::move(t.contexts), std::move(t.front_delay));
      },
      "profile"_a, "candidates"_a, R"doc(
(contexts, front_delay) for MuLinUCB from a profiled graph: per candidate the context row
(server-side MACs, shipped bytes, 1), all zeros for the all-device set, and the front delay (the
device time of its layers, seconds).)doc");

  py::class_<py_loop>(m, "OnlineLoop", R"doc(
Split inference frame by frame with a learner choosing the cut (incision::exec::online_loop).

Per frame (virtual time, see SimLink): ``learner.select(key_frame)`` picks a candidate device
set; the device runs its part; the cut is serialised and sent over ``link``; the server
decodes it and runs the rest; ``learner.update(arm, offload_delay)`` gets the frame's latency
minus its device time. Deadline: when the server's result is not back ``deadline`` seconds
after the frame started (late, link down, server gone), the device finishes the frame itself.
No frame is lost and every frame's output equals the unsplit network's.

``network``: an incision.exec.Network, or a Python backend object (``graph``,
``run_device(device_layers, x)``, ``run_server(device_layers, cut)``, optionally
``input_shape`` and ``layer_shapes``; incision.torch's ``TracedModel.backend()`` is one; see
docs/python-network.md). A Python backend is called with the GIL held; an exception it raises
ends run() with a ValueError (for ValueError/TypeError) or RuntimeError naming the method, the
original as ``__cause__``; a result of the wrong count, dtype or shape is a ValueError.
``learner``: any object with ``select(key_frame) -> int`` and ``update(arm, delay)``, e.g.
incision.MuLinUCB over make_arms(...) or incision.exec.LinUCBCutLearner. It is called with the
GIL held and outside the network's and link's locks; compute runs with the GIL released.
``link``: the SimLink that carries the cut to the server part, run on the device's own
backend (None with an edge).
``candidates``: 'chain', a BandwidthMap, or a sequence of Plans / ascending id lists.
``profile``: the profiled LayerGraph (required for timing='modeled', whose compute times are the
profile's sums: deterministic). ``timing='measured'`` times the parts with a steady clock.
``edge``: an incision.net.TcpLink (with ``link=None``): each offloaded frame's server part
runs on that edge server; when the edge does not deliver by the frame's deadline (the earlier of
``deadline`` and the TcpLink's), refuses it or is unreachable, the device completes the frame
itself (``fallback``), so no frame is lost. transfer_time and server_time are then the real
round trip and the edge's reported compute time (modeled timing replaces the compute times
only); records also carry ``edge`` and ``edge_server_time``.
The loop keeps the network, the link and the edge alive; it must not be driven from inside its
learner.)doc")
      .def(
          py::init([](py::object network, py::object learner, py::object link, const py::object& candidates,
                      const std::optional<py::object>& profile, double deadline, double frame_interval,
                      const std::string& timing, double server_slowdown, std::size_t key_frame_every, py::object edge) {
            auto self = std::make_unique<py_loop>();
            if (!py::hasattr(learner, "select") || !py::hasattr(learner, "update"))
              throw_exec("OnlineLoop: the learner needs select(key_frame) and update(arm, delay)");
            ie::loop_options o;
            o.deadline = deadline;
            o.frame_interval = frame_interval;
            if (timing == "measured")
              o.timing = ie::compute_timing::measured;
            else if (timing == "modeled")
              o.timing = ie::compute_timing::modeled;
            else
              throw_exec("OnlineLoop: timing must be 'measured' or 'modeled', got '" + timing + "'");
            o.server_slowdown = server_slowdown;
            o.key_frame_every = key_frame_every;
            if (o.timing == ie::compute_timing::modeled && !profile)
              throw_exec("OnlineLoop: timing='modeled' needs a profile (Network.profile())");
            self->device = resolve_backend(network);
            self->device_any.impl = self->device.impl.get();
            if (!edge.is_none()) {
#if defined(INCISION_PY_HAVE_NET)
              if (!py::isinstance<py_tcp_link>(edge))
                throw_exec("OnlineLoop: edge must be an incision.net.TcpLink, got " +
                           py::str(py::type::handle_of(edge).attr("__name__")).cast<std::string>());
              if (!link.is_none())
                throw_exec("OnlineLoop: with an edge the TcpLink carries the frames: pass link=None");
              self->edge = &edge.cast<py_tcp_link&>();
              self->link_impl = std::make_unique<tcp_link_model>(self->edge->link);
#else
              throw_exec("OnlineLoop: edge needs incision.net, which this build lacks (no Asio: apt-get install "
                         "libasio-dev and reinstall incision)");
#endif
            } else {
              if (!py::isinstance<py_link>(link))
                throw_exec("OnlineLoop: link must be a SimLink (or None with an edge), got " +
                           py::str(py::type::handle_of(link).attr("__name__")).cast<std::string>());
              self->link = &link.cast<py_link&>();
              self->link_impl = std::make_unique<sim_link_model>(self->link->obj, self->device_any);
            }
            self->link_any.impl = self->link_impl.get();
            if (self->device.net != nullptr) self->frame_locks.push_back(&self->device.net->m);
            if (self->link != nullptr) self->frame_locks.push_back(&self->link->m);
#if defined(INCISION_PY_HAVE_NET)
            if (self->edge != nullptr) self->frame_locks.push_back(&self->edge->m);
#endif
            ip::layer_graph g = self->device_any.graph();  // a py_backend's graph never changes
            if (self->device.net != nullptr) {
              object_lock lock(self->device.net->m, object_lock::shared);
              g = self->device.net->backend.graph();
            }
            std::vector<std::vector<ip::layer_id>> cands = to_candidates(candidates, g);
            if (profile) {
              const auto& pg = profile->cast<const py_graph&>();
              object_lock lock(pg.m);
              g = pg.obj;
            }
            if (py::hasattr(learner, "n_arms")) {
              const auto k = learner.attr("n_arms").cast<std::size_t>();
              if (k != cands.size())
                throw_exec("OnlineLoop: the learner has " + std::to_string(k) + " arms, there are " +
                           std::to_string(cands.size()) + " candidates");
            }
            {
              object_lock lock(self->frame_locks);
              self->loop = std::make_unique<loop_type>(self->adaptor, self->device_any, self->link_any,
                                                       std::move(cands), std::move(g), o);
            }
            self->key_frame_every = key_frame_every;
            self->net_ref = std::move(network);
            self->link_ref = std::move(link);
            self->edge_ref = std::move(edge);
            self->learner = std::move(learner);
            return self;
          }),
          "network"_a, "learner"_a, "link"_a, "candidates"_a = "chain", "profile"_a = py::none(), py::kw_only(),
          "deadline"_a = inf, "frame_interval"_a = 0.0, "timing"_a = "measured", "server_slowdown"_a = 1.0,
          "key_frame_every"_a = 1, "edge"_a = py::none())
      .def(
          "run",
          [](py_loop& self, std::size_t frames, const std::optional<py::array>& x, std::uint64_t seed) {
            if (self.runner.load() == std::this_thread::get_id())
              throw std::runtime_error(incision::detail::message("exec", "OnlineLoop.run called from its own learner"));
            std::optional<ie::tensor> in;
            if (x)
              in = to_tensor(*x, "x");
            else if (!self.device.input_shape)
              throw_exec("OnlineLoop.run: x is required (the backend declares no input_shape)");
            object_lock loop_lock(self.m);
            self.runner = std::this_thread::get_id();
            struct clear_runner {
              py_loop& s;
              ~clear_runner() { s.runner = std::thread::id{}; }
            } clear{self};
            ie::tensor input;
            ie::tensor_list reference, outputs;
            {
              py::gil_scoped_release release;
              std::optional<object_lock> lock;
              if (self.device.net != nullptr) lock.emplace(self.device.net->m);
              input = in ? std::move(*in) : ie::random_tensor(*self.device.input_shape, seed);
              reference = ie::run(self.device_any, input);  // also checks the input's shape
            }
            const bool with_edge = !self.edge_ref.is_none();
            std::vector<ie::frame_record> recs;
            std::vector<double> errors, edge_time;
            std::vector<char> on_edge;
            recs.reserve(frames);
            errors.reserve(frames);
            for (std::size_t f = 0; f < frames; ++f) {
              const bool key = self.loop->frames() % self.key_frame_every == 0;
              const auto arm = self.learner.attr("select")(key).cast<long long>();
              if (arm < 0)
                throw incision::out_of_range(
                    incision::detail::message("exec", "OnlineLoop: the learner chose arm " + std::to_string(arm)));
              self.adaptor.next = static_cast<std::size_t>(arm);
              ie::frame_record r;
              double err = 0.0;
              bool served = false;
              double server_seconds = std::numeric_limits<double>::quiet_NaN();
              {
                py::gil_scoped_release release;
                object_lock lock(self.frame_locks);
#if defined(INCISION_PY_HAVE_NET)
                const std::uint64_t before = self.edge != nullptr ? self.edge->link.stats().offloaded : 0;
#endif
                r = self.loop->run_frame(input, outputs);
#if defined(INCISION_PY_HAVE_NET)
                if (self.edge != nullptr && self.edge->link.stats().offloaded > before) {
                  served = true;
                  server_seconds = self.edge->link.stats().last_server_seconds;
                }
#endif
                for (std::size_t i = 0; i < outputs.size() && i < reference.size(); ++i) {
                  const auto& a = outputs[i].value;
                  const auto& b = reference[i].value;
                  if (a.shape() != b.shape()) err = inf;
                  for (std::size_t j = 0; j < a.size() && j < b.size(); ++j)
                    err = std::max(err, static_cast<double>(std::abs(a.data()[j] - b.data()[j])));
                }
                if (outputs.size() != reference.size()) err = inf;
              }
              self.learner.attr("update")(self.adaptor.arm, self.adaptor.delay);
              recs.push_back(r);
              errors.push_back(err);
              on_edge.push_back(served ? 1 : 0);
              edge_time.push_back(server_seconds);
              if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            }
            const auto col = [&](auto field) {
              using T = std::remove_cvref_t<decltype(recs[0].*field)>;
              py::array_t<T> a(static_cast<py::ssize_t>(recs.size()));
              auto w = a.template mutable_unchecked<1>();
              for (std::size_t i = 0; i < recs.size(); ++i) w(static_cast<py::ssize_t>(i)) = recs[i].*field;
              return a;
            };
            py::dict d;
            d["frame"] = col(&ie::frame_record::frame);
            d["arm"] = col(&ie::frame_record::arm);
            d["start"] = col(&ie::frame_record::start);
            d["device_time"] = col(&ie::frame_record::device_time);
            d["transfer_time"] = col(&ie::frame_record::transfer_time);
            d["server_time"] = col(&ie::frame_record::server_time);
            d["fallback_time"] = col(&ie::frame_record::fallback_time);
            d["latency"] = col(&ie::frame_record::latency);
            d["shipped_bytes"] = col(&ie::frame_record::shipped_bytes);
            d["offloaded"] = col(&ie::frame_record::offloaded);
            d["fallback"] = col(&ie::frame_record::fallback);
            d["output_error"] = py::array_t<double>(static_cast<py::ssize_t>(errors.size()), errors.data());
            if (with_edge) {
              py::array_t<bool> e(static_cast<py::ssize_t>(on_edge.size()));
              auto w = e.mutable_unchecked<1>();
              for (std::size_t i = 0; i < on_edge.size(); ++i) w(static_cast<py::ssize_t>(i)) = on_edge[i] != 0;
              d["edge"] = e;
              d["edge_server_time"] = py::array_t<double>(static_cast<py::ssize_t>(edge_time.size()), edge_time.data());
            }
            return d;
          },
          "frames"_a, "x"_a = py::none(), py::kw_only(), "seed"_a = 1, R"doc(
Runs ``frames`` frames on ``x`` (default: noise from ``seed`` of the backend's input_shape),
the same input each frame. Returns per-frame records as numpy arrays in a dict: frame, arm,
start, device_time, transfer_time (inf: never delivered), server_time, fallback_time, latency,
shipped_bytes (seconds, bytes), offloaded, fallback (bool), and output_error (max |output -
unsplit output|, 0 when the frame reproduced the unsplit run; inf for another count or shape).
With an edge also ``edge`` (bool: the edge delivered the server part; an offloaded frame
without it fell back to the device) and ``edge_server_time`` (the compute time the edge
reported, NaN when it did not deliver). If the learner or a Python backend raises, the frames before
stay counted and learnt from.)doc")
      .def_property(
          "server_available",
          [](const py_loop& self) {
            object_lock lock(self.m);
            return self.server_up;
          },
          [](py_loop& self, bool up) {
            object_lock lock(self.m);
            self.server_up = up;
            self.loop->set_server_available(up);
          },
          "False: the server is gone, every offloaded frame falls back to the device after the deadline.")
      .def_property_readonly(
          "now",
          [](const py_loop& self) {
            object_lock lock(self.m);
            return self.loop->now();
          },
          "The virtual clock (seconds).")
      .def_property_readonly("frames",
                             [](const py_loop& self) {
                               object_lock lock(self.m);
                               return self.loop->frames();
                             })
      .def_property_readonly("candidates",
                             [](const py_loop& self) {
                               object_lock lock(self.m);
                               return self.loop->candidates();
                             })
      .def_property_readonly("learner", [](const py_loop& self) { return self.learner; })
      .def_property_readonly(
          "network", [](const py_loop& self) { return self.net_ref; },
          "The backend: a Network or a Python backend object.")
      .def_property_readonly(
          "edge", [](const py_loop& self) { return self.edge_ref; }, "The TcpLink, or None.")
      .def("__repr__", [](const py_loop& self) {
        object_lock lock(self.m);
        return "OnlineLoop(candidates=" + std::to_string(self.loop->candidates().size()) +
               ", frames=" + std::to_string(self.loop->frames()) + ", now=" + std::to_string(self.loop->now()) + ")";
      });
}

}  // namespace

// ---- Any backend: unsplit and split runs through the same adaptor the loop uses ------------------

void bind_backend_runs(py::module_& m) {
  m.def(
      "run",
      [](const py::object& backend, const py::array& x) {
        const ie::tensor in = to_tensor(x, "x");
        const resolved_backend b = resolve_backend(backend);
        any_backend a{b.impl.get()};
        ie::tensor_list out;
        {
          py::gil_scoped_release release;
          std::optional<object_lock> lock;
          if (b.net != nullptr) lock.emplace(b.net->m);
          out = ie::run(a, in);
        }
        return outputs_to_python(out);
      },
      "backend"_a, "x"_a, R"doc(
The unsplit run of any backend (a Network or a Python backend object, see OnlineLoop): the
device part with every layer. Returns the outputs (a tuple when there are several).)doc");
  m.def(
      "run_split",
      [](const py::object& backend, const py::object& device_layers, const py::array& x) {
        const auto d = to_device_set(device_layers);
        const ie::tensor in = to_tensor(x, "x");
        const resolved_backend b = resolve_backend(backend);
        any_backend a{b.impl.get()};
        ie::tensor_list cut, received, server, outputs;
        std::vector<std::byte> wire;
        {
          py::gil_scoped_release release;
          std::optional<object_lock> lock;
          if (b.net != nullptr) lock.emplace(b.net->m);
          a.run_device(d, in, cut);
          ie::encode(cut, wire);
          ie::decode(wire, received);
          a.run_server(d, received, server);
          ie::collect_outputs(a.graph(), received, server, outputs);
        }
        return outputs_to_python(outputs);
      },
      "backend"_a, "device_layers"_a, "x"_a, R"doc(
A split run of any backend (a Network or a Python backend object) as the loop and the edge run
it: run_device, the cut serialised and deserialised (kind 301), run_server. Returns the
outputs (a tuple when there are several). The adaptor checks what a Python backend returns:
ValueError for a wrong count, dtype or shape, naming the layer.)doc");
}

void register_exec(py::module_& m) {
  bind_network(m);
  bind_backend_runs(m);
  bind_codec(m);
  bind_link(m);
  bind_loop(m);
}

#endif  // INCISION_PY_HAVE_EXEC
