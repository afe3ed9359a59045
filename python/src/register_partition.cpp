// Bindings for incision::partition.
#include "bindings/common.hpp"
#include "bindings/partition_plan.hpp"

#include <incision/partition.hpp>

#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
namespace ip = incision::partition;
using namespace pybind11::literals;

namespace {
using incision_py::locked;
using incision_py::object_lock;
// LayerGraph carries the per-object lock; const methods may fill its caches (topological order,
// flat view), so every method, reads included, takes the lock exclusively.
using py_graph = incision_py::locked_object<ip::layer_graph>;

/// A partitioner run: releases the GIL, then locks the graph (touches no Python object).
template <class F>
auto on_graph(const py_graph& g, F&& f) {
  py::gil_scoped_release release;
  object_lock lock(g.m);
  return f(g.obj);
}

constexpr double inf = std::numeric_limits<double>::infinity();

// download_bandwidth=None means a free download (infinite rate).
ip::simple_link make_link(double bandwidth, double rtt, std::optional<double> download_bandwidth) {
  return ip::simple_link(bandwidth, rtt, download_bandwidth.value_or(inf));
}

/// A bandwidth map with the inputs that built it. The C++ map has no constructor from its parts,
/// so pickling rebuilds it from these; the construction is deterministic, so the copy is exact.
/// Immutable once built: no lock.
struct py_bandwidth_map {
  ip::layer_graph graph;
  double rtt = 0.0;
  std::optional<double> download_bandwidth;
  ip::bandwidth_map map;
};

/// Builds the map from its own copy of the graph (touches no Python object: runs without the GIL).
py_bandwidth_map make_bandwidth_map(ip::layer_graph g, double min_bandwidth, double max_bandwidth, double rtt,
                                    std::optional<double> download_bandwidth) {
  const auto link = make_link(1.0, rtt, download_bandwidth);
  ip::bandwidth_map map(g, g, link, min_bandwidth, max_bandwidth);
  return {std::move(g), rtt, download_bandwidth, std::move(map)};
}

// One field of every layer: a numpy array for numbers, a list for strings.
Eigen::VectorXd column(const py_graph& w, double ip::layer::*field) {
  object_lock lock(w.m);
  const auto& g = w.obj;
  Eigen::VectorXd out(static_cast<Eigen::Index>(g.size()));
  for (ip::layer_id v = 0; v < g.size(); ++v) out(v) = g[v].*field;
  return out;
}
std::vector<std::string> column(const py_graph& w, std::string ip::layer::*field) {
  object_lock lock(w.m);
  const auto& g = w.obj;
  std::vector<std::string> out;
  out.reserve(g.size());
  for (ip::layer_id v = 0; v < g.size(); ++v) out.push_back(g[v].*field);
  return out;
}

// successors / predecessors of a checked layer id (IndexError for an unknown one), as a copy
using neighbour_list = const std::vector<ip::layer_id>& (ip::layer_graph::*)(ip::layer_id) const noexcept;
auto neighbours(neighbour_list list) {
  return [list](const py_graph& w, ip::layer_id v) {
    object_lock lock(w.m);
    (void)w.obj.at(v);
    return std::vector<ip::layer_id>((w.obj.*list)(v));
  };
}
}  // namespace

void register_partition(py::module_& m) {
  py::class_<py_graph>(m, "LayerGraph", R"doc(
A DAG of DNN layers with per-layer device time (s), server time (s) and output size (bytes).

A layer without predecessors is an input: produced on the device and pinned there; its
out_bytes is what shipping the raw input costs. Every mutation is validated (negative or
non-finite values, unknown ids, self loops, duplicate edges, cycles -> ValueError/IndexError
naming the layer) and leaves the graph unchanged on error.

Threads: every method takes a per-graph lock, so a graph may be shared by Python threads; the
partitioners (dsl, dsh, dads, chain_scan, evaluate, BandwidthMap) release the GIL while they run.)doc")
      .def(py::init<>())
      .def("add_layer", locked<py_graph>(&ip::layer_graph::add_layer), "name"_a, "device_time"_a, "server_time"_a,
           "out_bytes"_a, py::kw_only(), "type"_a = "", "macs"_a = 0.0,
           "Add a layer; returns its id (0, 1, 2, ... in insertion order). type (operator kind, e.g.\n"
           "'conv') and macs (multiply-accumulates) are optional metadata no partitioner reads.")
      .def("add_edge", locked<py_graph>(&ip::layer_graph::add_edge), "src"_a, "dst"_a,
           "Add the data dependency src -> dst.")
      .def("set_costs", locked<py_graph>(&ip::layer_graph::set_costs), "layer"_a, "device_time"_a, "server_time"_a,
           "out_bytes"_a)
      .def("set_metadata", locked<py_graph>(&ip::layer_graph::set_metadata), "layer"_a, "type"_a, "macs"_a,
           "Replace a layer's optional metadata (operator kind, multiply-accumulates).")
      .def("__len__", locked<py_graph>(&ip::layer_graph::size))
      .def_property_readonly("num_layers", locked<py_graph>(&ip::layer_graph::size))
      .def_property_readonly("num_edges", locked<py_graph>(&ip::layer_graph::num_edges))
      .def_property_readonly("names", [](const py_graph& g) { return column(g, &ip::layer::name); })
      .def_property_readonly("device_times", [](const py_graph& g) { return column(g, &ip::layer::device_time); })
      .def_property_readonly("server_times", [](const py_graph& g) { return column(g, &ip::layer::server_time); })
      .def_property_readonly("out_bytes", [](const py_graph& g) { return column(g, &ip::layer::out_bytes); })
      .def_property_readonly(
          "types", [](const py_graph& g) { return column(g, &ip::layer::type); },
          "operator kind per layer ('' where unknown)")
      .def_property_readonly(
          "macs", [](const py_graph& g) { return column(g, &ip::layer::macs); },
          "multiply-accumulates per layer (0 where unknown)")
      .def_property_readonly("edges", locked<py_graph>(&ip::layer_graph::edges))
      .def_property_readonly("inputs",
                             [](const py_graph& w) {
                               object_lock lock(w.m);
                               const auto& g = w.obj;
                               std::vector<ip::layer_id> in;
                               for (ip::layer_id v = 0; v < g.size(); ++v)
                                 if (g.is_input(v)) in.push_back(v);
                               return in;
                             })
      .def("successors", neighbours(&ip::layer_graph::successors), "layer"_a)
      .def("predecessors", neighbours(&ip::layer_graph::predecessors), "layer"_a)
      .def("topological_order", locked<py_graph>(&ip::layer_graph::topological_order))
      .def("is_chain", locked<py_graph>(&ip::layer_graph::is_chain))
      .def_static(
          "from_msr_json",
          [](const std::filesystem::path& path, double time_scale, double link_rate) {
            return py_graph(ip::load_msr_json(path, ip::msr_options{time_scale, link_rate}));
          },
          "path"_a, "time_scale"_a = 1e-3, "link_rate"_a = 2147483648.0,
          R"doc(Load an msr-fiddle workload. device_time = cpuLatency * time_scale, server_time =
fpgaLatency * time_scale (values are milliseconds), out_bytes = edge cost * time_scale * link_rate
(2**31 B/s reproduces the files' edge sizes).)doc")
      .def_static(
          "from_json", [](const std::string& text) { return py_graph(ip::from_json(text)); }, "text"_a,
          "Parse incision's own JSON format.")
      .def_static(
          "load_json", [](const std::filesystem::path& path) { return py_graph(ip::load_json(path)); }, "path"_a,
          "Read a file in incision's own JSON format (path: str or os.PathLike).")
      .def("to_json",
           [](const py_graph& g) {
             object_lock lock(g.m);
             return ip::to_json(g.obj);
           })
      .def(
          "save_json",
          [](const py_graph& g, const std::filesystem::path& path) {
            object_lock lock(g.m);
            ip::save_json(g.obj, path);
          },
          "path"_a)
      .def("__repr__",
           [](const py_graph& w) {
             object_lock lock(w.m);
             const auto& g = w.obj;
             return "LayerGraph(layers=" + std::to_string(g.size()) + ", edges=" + std::to_string(g.num_edges()) + ")";
           })
      .def(
          "__eq__",
          [](const py_graph& a, const py_graph& b) {
            if (&a == &b) return true;
            object_lock lock({&a.m, &b.m});
            return incision_py::graphs_equal(a.obj, b.obj);
          },
          py::is_operator(), "Same layers (every field, in id order) and the same edges.")
      // Pickle through incision's JSON (shortest round-trip doubles, edges in insertion order): exact.
      .def(py::pickle(
          [](const py_graph& g) {
            object_lock lock(g.m);
            return ip::to_json(g.obj);
          },
          [](const std::string& text) { return py_graph(ip::from_json(text)); }));

  py::class_<ip::plan>(m, "Plan", "A partition mapped back to layer ids, with its predicted times (seconds).")
      .def_property_readonly("status", [](const ip::plan& p) { return std::string(incision::to_string(p.status)); })
      .def_readonly("device_layers", &ip::plan::device_layers)
      .def_readonly("server_layers", &ip::plan::server_layers)
      .def_readonly("shipped_layers", &ip::plan::shipped_layers)
      .def_readonly("shipped_bytes", &ip::plan::shipped_bytes)
      .def_readonly("device_time", &ip::plan::device_time)
      .def_readonly("upload_time", &ip::plan::upload_time)
      .def_readonly("server_time", &ip::plan::server_time)
      .def_readonly("download_time", &ip::plan::download_time)
      .def_readonly("rtt", &ip::plan::rtt)
      .def_readonly("latency", &ip::plan::latency)
      .def_readonly("max_stage", &ip::plan::max_stage)
      .def_property_readonly("on_device", &incision_py::on_device_array, "bool array per layer id")
      .def("__repr__", &incision_py::plan_repr)
      .def(
          "__eq__", [](const ip::plan& a, const ip::plan& b) { return a == b; }, py::is_operator(),
          "Same placement, layer lists, status and times (exact).")
      .def(py::pickle(&incision_py::plan_state, &incision_py::plan_from_state));

  m.def(
      "dsl",
      [](const py_graph& w, double bandwidth, double rtt, std::optional<double> download_bandwidth, bool corrected) {
        ip::dsl_options o;
        o.precedence = corrected;
        o.pin_inputs = corrected;
        const auto link = make_link(bandwidth, rtt, download_bandwidth);
        return on_graph(w, [&](const ip::layer_graph& g) { return ip::dsl(g, g, link, o); });
      },
      "graph"_a, "bandwidth"_a, "rtt"_a = 0.0, "download_bandwidth"_a = py::none(), "corrected"_a = true,
      R"doc(Latency-optimal plan by one minimum cut (DADS DSL, INFOCOM 2019) with both corrections
(precedence and input pinning). corrected=False builds the paper's graph as printed, whose plan
can be infeasible (status "infeasible"); it exists to document that flaw.)doc");
  m.def(
      "dsh",
      [](const py_graph& w, double bandwidth, double rtt, std::optional<double> download_bandwidth, int grid,
         int levels) {
        ip::dsh_options o;
        o.grid = grid;
        o.levels = levels;
        const auto link = make_link(bandwidth, rtt, download_bandwidth);
        return on_graph(w, [&](const ip::layer_graph& g) { return ip::dsh(g, g, link, o); });
      },
      "graph"_a, "bandwidth"_a, "rtt"_a = 0.0, "download_bandwidth"_a = py::none(), "grid"_a = 7, "levels"_a = 4,
      "Throughput-oriented plan (DADS DSH): minimise the largest pipeline stage; at most 3x the optimum with a free "
      "download (download_bandwidth=None), 4x with a finite one (grid <= 64, levels <= 16).");
  m.def(
      "chain_scan",
      [](const py_graph& w, double bandwidth, double rtt, std::optional<double> download_bandwidth) {
        const auto link = make_link(bandwidth, rtt, download_bandwidth);
        return on_graph(w, [&](const ip::layer_graph& g) { return ip::chain_scan(g, g, link); });
      },
      "graph"_a, "bandwidth"_a, "rtt"_a = 0.0, "download_bandwidth"_a = py::none(),
      "Latency-optimal prefix cut of a chain (Neurosurgeon, ASPLOS 2017).");
  m.def(
      "evaluate",
      [](const py_graph& w, const std::vector<ip::layer_id>& device_layers, double bandwidth, double rtt,
         std::optional<double> download_bandwidth) {
        const auto link = make_link(bandwidth, rtt, download_bandwidth);
        return on_graph(w, [&](const ip::layer_graph& g) { return ip::evaluate(g, g, link, device_layers); });
      },
      "graph"_a, "device_layers"_a, "bandwidth"_a, "rtt"_a = 0.0, "download_bandwidth"_a = py::none(),
      "Price a feasible device set (ValueError if infeasible).");

  py::class_<ip::dads_decision>(m, "DadsDecision")
      .def_readonly("plan", &ip::dads_decision::chosen)
      .def_readonly("heavy_load", &ip::dads_decision::heavy_load)
      .def_readonly("decrease_rate", &ip::dads_decision::decrease_rate)
      .def("__repr__", [](const ip::dads_decision& d) {
        return std::string("DadsDecision(heavy_load=") + (d.heavy_load ? "True" : "False") +
               ", decrease_rate=" + (d.decrease_rate ? "True" : "False") +
               ", plan=" + incision_py::plan_repr(d.chosen) + ")";
      });
  m.def(
      "dads",
      [](const py_graph& w, double bandwidth, double rate, double rtt, std::optional<double> download_bandwidth) {
        const auto link = make_link(bandwidth, rtt, download_bandwidth);
        return on_graph(w, [&](const ip::layer_graph& g) { return ip::dads(g, g, link, rate); });
      },
      "graph"_a, "bandwidth"_a, "rate"_a, "rtt"_a = 0.0, "download_bandwidth"_a = py::none(),
      "DADS controller: DSL if its max stage < 1/rate, else DSH; decrease_rate if DSH misses 1/rate too.");

  using py_map = py_bandwidth_map;
  py::class_<py_map>(m, "BandwidthMap", R"doc(
Every latency-optimal plan over [min_bandwidth, max_bandwidth] (bytes/s) with exact breakpoints,
from a few min-cuts; lookups are a binary search. ``latency`` takes a number or an array of
bandwidths (any shape; the result has that shape). Immutable once built (no lock needed); keeps
its own copy of the graph, so it pickles (rebuilt on load, exactly) and compares (``==``: same
range, breakpoints and plans).)doc")
      .def(py::init([](const py_graph& w, double min_bandwidth, double max_bandwidth, double rtt,
                       std::optional<double> download_bandwidth) {
             auto g = on_graph(w, [](const ip::layer_graph& graph) { return graph; });
             py::gil_scoped_release release;
             return make_bandwidth_map(std::move(g), min_bandwidth, max_bandwidth, rtt, download_bandwidth);
           }),
           "graph"_a, "min_bandwidth"_a, "max_bandwidth"_a, "rtt"_a = 0.0, "download_bandwidth"_a = py::none())
      .def("__len__", [](const py_map& b) { return b.map.size(); })
      .def_property_readonly(
          "plans", [](const py_map& b) { return b.map.plans(); }, "plans from the highest bandwidth to the lowest")
      .def_property_readonly(
          "breakpoints", [](const py_map& b) { return b.map.breakpoints(); }, "decreasing bandwidths (bytes/s)")
      .def_property_readonly("solves", [](const py_map& b) { return b.map.solves(); })
      .def_property_readonly("min_bandwidth", [](const py_map& b) { return b.map.min_bandwidth(); })
      .def_property_readonly("max_bandwidth", [](const py_map& b) { return b.map.max_bandwidth(); })
      .def_property_readonly("rtt", [](const py_map& b) { return b.rtt; })
      .def_property_readonly("download_bandwidth", [](const py_map& b) { return b.download_bandwidth; })
      .def(
          "index", [](const py_map& b, double bandwidth) { return b.map.index(bandwidth); }, "bandwidth"_a)
      .def(
          "plan", [](const py_map& b, double bandwidth) { return b.map.at(bandwidth); }, "bandwidth"_a)
      .def(
          "latency", [](const py_map& b, double bandwidth) { return b.map.latency(bandwidth); }, "bandwidth"_a,
          "Optimal latency (s) at a bandwidth (bytes/s); IndexError outside the range.")
      .def(
          "latency",
          [](const py_map& b, const py::array_t<double, py::array::c_style | py::array::forcecast>& bandwidth) {
            py::array_t<double> out(std::vector<py::ssize_t>(bandwidth.shape(), bandwidth.shape() + bandwidth.ndim()));
            const double* in = bandwidth.data();
            double* o = out.mutable_data();
            const auto n = bandwidth.size();
            py::gil_scoped_release release;  // both arrays are owned by this call; the map is immutable
            for (py::ssize_t i = 0; i < n; ++i) o[i] = b.map.latency(in[i]);
            return out;
          },
          "bandwidth"_a, "Element-wise over an array of bandwidths (one C++ loop).")
      .def(
          "__eq__",
          [](const py_map& a, const py_map& b) {
            return a.map.min_bandwidth() == b.map.min_bandwidth() && a.map.max_bandwidth() == b.map.max_bandwidth() &&
                   a.map.breakpoints() == b.map.breakpoints() && a.map.plans() == b.map.plans();
          },
          py::is_operator())
      .def("__repr__",
           [](const py_map& b) {
             return "BandwidthMap(plans=" + std::to_string(b.map.size()) +
                    ", min_bandwidth=" + std::to_string(b.map.min_bandwidth()) +
                    ", max_bandwidth=" + std::to_string(b.map.max_bandwidth()) + ")";
           })
      // State: (graph JSON, min, max, rtt, download); the map is rebuilt from it.
      .def(py::pickle(
          [](const py_map& b) {
            return py::make_tuple(ip::to_json(b.graph), b.map.min_bandwidth(), b.map.max_bandwidth(), b.rtt,
                                  b.download_bandwidth);
          },
          [](const py::tuple& t) {
            if (t.size() != 5)
              throw incision::invalid_argument(incision::detail::message(
                  "partition", "BandwidthMap state: expected a 5-tuple, got " + std::to_string(t.size()) + " items"));
            auto g = ip::from_json(t[0].cast<std::string>());
            const auto lo = t[1].cast<double>();
            const auto hi = t[2].cast<double>();
            const auto rtt = t[3].cast<double>();
            const auto dl = t[4].cast<std::optional<double>>();
            py::gil_scoped_release release;
            return make_bandwidth_map(std::move(g), lo, hi, rtt, dl);
          }));
}
