// Bindings for FedLinUCB-DW (incision::bandit federated learners and messages).
#include "bindings/common.hpp"
#include "bindings/federated.hpp"

#include <incision/bandit/fed_aggregator.hpp>
#include <incision/bandit/fed_linucb_dw.hpp>
#include <incision/bandit/fed_messages.hpp>
#include <incision/bandit/mu_linucb.hpp>
#include <incision/error.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace py = pybind11;
namespace ib = incision::bandit;
using incision_py::as_byte_span;
using incision_py::fed_device;
using incision_py::row_matrix;
using incision_py::to_py_bytes;

namespace {

ib::feature_scaling parse_scaling(const std::string& s) {
  if (s == "column_max") return ib::feature_scaling::column_max;
  if (s == "none") return ib::feature_scaling::none;
  throw incision::invalid_argument(
      incision::detail::message("federated", "scaling must be 'column_max' or 'none', got '" + s + "'"));
}

}  // namespace

void register_federated(py::module_& m) {
  m.attr("PROTOCOL_VERSION") = ib::fed_protocol_version;

  m.def(
      "decode_message",
      [](const py::bytes& b) { return incision_py::message_dict(ib::decode_fed_message(as_byte_span(b))); },
      py::arg("message"),
      "Decodes a FedLinUCB-DW message (hello, upload, download, ack, reject) into a dict.\n"
      "Raises ValueError on bytes that are not a valid message.");

  py::class_<ib::fed_aggregator>(m, "FedAggregator",
                                 "Edge-side FedLinUCB-DW aggregator: pooled statistics per device type.\n\n"
                                 "Speaks bytes only: handle(message) -> reply, so the same object serves devices\n"
                                 "in one process or behind any transport.")
      .def(py::init<>())
      .def(
          "handle",
          [](ib::fed_aggregator& a, const py::bytes& msg) { return to_py_bytes(a.handle(as_byte_span(msg))); },
          py::arg("message"),
          "Handles a device message: hello -> download, upload -> ack; refusals -> reject.\n"
          "Raises ValueError on bytes that are not a message (nothing changes).")
      .def(
          "handle_batch",
          [](ib::fed_aggregator& a, const py::list& messages) {
            std::vector<std::span<const std::byte>> in;
            in.reserve(messages.size());
            for (const auto& m : messages) in.push_back(as_byte_span(m.cast<py::bytes>()));
            std::vector<std::optional<std::vector<std::byte>>> out(in.size());
            {
              py::gil_scoped_release release;
              for (std::size_t i = 0; i < in.size(); ++i) {
                try {
                  out[i] = a.handle(in[i]);
                } catch (const incision::parse_error&) {
                  // not a message: dropped, nothing changed (as a server drops a bad frame)
                }
              }
            }
            py::list replies;
            for (auto& r : out) {
              if (r)
                replies.append(to_py_bytes(*r));
              else
                replies.append(py::none());
            }
            return replies;
          },
          py::arg("messages"),
          "Handles a list of messages in order, without the per-call Python overhead; returns one\n"
          "reply per message, None where the bytes were not a message (dropped, nothing changed).")
      .def(
          "download_for", [](ib::fed_aggregator& a, std::uint64_t id) { return to_py_bytes(a.download_for(id)); },
          py::arg("device_id"), "A download of the device's group addressed to it. IndexError if unknown.")
      .def(
          "broadcast", [](ib::fed_aggregator& a, const std::string& g) { return to_py_bytes(a.broadcast(g)); },
          py::arg("group"), "A download of the group for all its members. IndexError if unknown.")
      .def_property_readonly("traffic",
                             [](const ib::fed_aggregator& a) { return incision_py::traffic_dict(a.traffic()); })
      .def_property_readonly("n_groups", &ib::fed_aggregator::n_groups)
      .def_property_readonly("n_devices", &ib::fed_aggregator::n_devices)
      .def("group_names", &ib::fed_aggregator::group_names)
      .def("device_group", &ib::fed_aggregator::device_group, py::arg("device_id"))
      .def("last_seq", &ib::fed_aggregator::last_seq, py::arg("device_id"))
      .def(
          "group_gram", [](const ib::fed_aggregator& a, const std::string& g) { return Eigen::MatrixXd(a.group_gram(g)); },
          py::arg("group"))
      .def(
          "group_moment",
          [](const ib::fed_aggregator& a, const std::string& g) { return Eigen::VectorXd(a.group_moment(g)); },
          py::arg("group"))
      .def("group_count", &ib::fed_aggregator::group_count, py::arg("group"))
      .def("group_version", &ib::fed_aggregator::group_version, py::arg("group"))
      .def("group_size", &ib::fed_aggregator::group_size, py::arg("group"));

  py::class_<fed_device>(m, "FedLinUCBDW",
                         "FedLinUCB-DW device learner (CANS): muLinUCB on its group's pooled statistics,\n"
                         "a bounded fading warm start from offline experience, and an O(d^2) log-det upload\n"
                         "trigger. Messages are bytes (hello, make_upload -> edge; receive <- edge).")
      .def(py::init([](std::uint64_t device_id, const std::string& group, const Eigen::Ref<const row_matrix>& contexts,
                       const Eigen::Ref<const Eigen::VectorXd>& front_delay, double upload_threshold,
                       double warm_weight, double warm_max_rows, double warm_half_life, double reg,
                       const std::string& scaling, double mu, std::uint64_t initial_horizon, double delta,
                       double c_noise, double c_theta, double l_key, double l_nonkey, std::optional<double> alpha,
                       bool forced_sampling) {
             ib::fed_linucb_dw_options o;
             o.upload_threshold = upload_threshold;
             o.warm_weight = warm_weight;
             o.warm_max_rows = warm_max_rows;
             o.warm_half_life = warm_half_life;
             o.learner.reg = reg;
             o.learner.scaling = parse_scaling(scaling);
             o.learner.mu = mu;
             o.learner.initial_horizon = initial_horizon;
             o.learner.delta = delta;
             o.learner.c_noise = c_noise;
             o.learner.c_theta = c_theta;
             o.learner.l_key = l_key;
             o.learner.l_nonkey = l_nonkey;
             o.learner.alpha = alpha;
             o.learner.forced_sampling = forced_sampling;
             return fed_device(device_id, group, Eigen::MatrixXd(contexts), front_delay, o);
           }),
           py::arg("device_id"), py::arg("group"), py::arg("contexts"), py::arg("front_delay"), py::kw_only(),
           py::arg("upload_threshold") = 1.0, py::arg("warm_weight") = 0.5, py::arg("warm_max_rows") = 50.0,
           py::arg("warm_half_life") = 200.0, py::arg("reg") = 1.0, py::arg("scaling") = "column_max",
           py::arg("mu") = 0.25, py::arg("initial_horizon") = 200, py::arg("delta") = 0.1,
           py::arg("c_noise") = 0.05, py::arg("c_theta") = 1.0, py::arg("l_key") = 0.8, py::arg("l_nonkey") = 0.2,
           py::arg("alpha") = py::none(), py::arg("forced_sampling") = true,
           "device_id: non-zero; group: device type; contexts: (K, d) float64 arm contexts (an all-zero\n"
           "row is the all-on-device arm); front_delay: (K,) seconds. upload_threshold: upload when\n"
           "(ln det A - ln det A_sync) * buffered >= threshold (0: every observation, inf: never).\n"
           "warm_weight in [0, 1], warm_max_rows, warm_half_life: the offline prior (see warm_start).\n"
           "The remaining keywords are the muLinUCB options (defaults: the official ANS code).")
      .def(
          "warm_start",
          [](fed_device& d, const std::vector<std::size_t>& arms, const std::vector<double>& delays) {
            d.warm_start(arms, delays);
          },
          py::arg("arms"), py::arg("delays"),
          "Installs offline experience (offloading arm, measured offloading delay) as a local prior of\n"
          "bounded weight; it is never uploaded and fades as online data arrives.")
      .def("hello", [](fed_device& d) { return to_py_bytes(d.hello()); }, "The registration message.")
      .def("select", &fed_device::select, py::arg("key_frame") = false, "Next frame's cut (arm index).")
      .def("select_weighted", &fed_device::select_weighted, py::arg("L"),
           "Next frame's cut with key-frame weight L in [0, 1).")
      .def("update", &fed_device::update, py::arg("arm"), py::arg("offload_delay"),
           "Feeds back the offloading delay (seconds) observed for arm; buffered for upload.")
      .def_property_readonly("upload_score", &fed_device::upload_score)
      .def("wants_upload", &fed_device::wants_upload)
      .def("make_upload", [](fed_device& d) { return to_py_bytes(d.make_upload()); },
           "Packs the buffered observations into an upload message (marks it in flight).")
      .def(
          "receive",
          [](fed_device& d, const py::bytes& msg) { return incision_py::event_name(d.receive(as_byte_span(msg))); },
          py::arg("message"),
          "Applies a message from the edge; returns 'download_applied', 'stale_download', 'acked' or\n"
          "'rejected'. Raises ValueError on bad bytes or a download of another group.")
      .def_property_readonly("device_id", &fed_device::device_id)
      .def_property_readonly("group", &fed_device::group)
      .def_property_readonly("n_arms", &fed_device::n_arms)
      .def_property_readonly("dim", &fed_device::dim)
      .def_property_readonly("feature_tag", &fed_device::feature_tag)
      .def_property_readonly("registered", &fed_device::registered)
      .def_property_readonly("upload_in_flight", &fed_device::upload_in_flight)
      .def_property_readonly("buffered", &fed_device::buffered)
      .def_property_readonly("sync_version", &fed_device::sync_version)
      .def_property_readonly("sync_count", &fed_device::sync_count)
      .def_property_readonly("n_uploads", &fed_device::n_uploads)
      .def_property_readonly("warm_mass", &fed_device::warm_mass)
      .def_property_readonly("n_online", &fed_device::n_online)
      .def_property_readonly("last_forced", [](const fed_device& d) { return d.learner().last_forced(); })
      .def_property_readonly("traffic", [](const fed_device& d) { return incision_py::traffic_dict(d.traffic()); })
      .def_property_readonly("last_reject",
                             [](const fed_device& d) -> py::object {
                               if (!d.last_reject()) return py::none();
                               return incision_py::reject_dict(*d.last_reject());
                             })
      .def_property_readonly("gram", [](const fed_device& d) { return Eigen::MatrixXd(d.stats().gram()); })
      .def_property_readonly("moment", [](const fed_device& d) { return Eigen::VectorXd(d.stats().moment()); })
      .def_property_readonly("theta", [](const fed_device& d) { return Eigen::VectorXd(d.stats().theta()); })
      .def("scaled_context",
           [](const fed_device& d, std::size_t arm) { return Eigen::VectorXd(d.learner().scaled_context(arm)); },
           py::arg("arm"))
      .def("is_local_arm", [](const fed_device& d, std::size_t arm) { return d.learner().is_local_arm(arm); },
           py::arg("arm"))
      .def("estimates", [](const fed_device& d, double L) { return d.learner().estimates(L); }, py::arg("L") = 0.2);

  m.def(
      "run_lockstep",
      [](const py::list& devices, ib::fed_aggregator* edge, const std::vector<Eigen::Ref<const row_matrix>>& delays,
         const Eigen::Ref<const Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>& key_frames) {
        std::vector<fed_device*> devs;
        devs.reserve(devices.size());
        for (const auto& d : devices) devs.push_back(&d.cast<fed_device&>());
        const auto n = static_cast<Eigen::Index>(devs.size());
        if (delays.size() != devs.size() || key_frames.rows() != n)
          throw incision::invalid_argument(incision::detail::message(
              "federated", "run_lockstep: need one delay table and one key-frame row per device"));
        for (std::size_t i = 0; i < devs.size(); ++i) {
          if (delays[i].rows() != key_frames.cols() ||
              delays[i].cols() != static_cast<Eigen::Index>(devs[i]->n_arms()))
            throw incision::invalid_argument(incision::detail::message(
                "federated", "run_lockstep: delay table " + std::to_string(i) + " must be (frames, n_arms)"));
          if (!delays[i].allFinite())
            throw incision::invalid_argument(
                incision::detail::message("federated", "run_lockstep: delay tables must be finite"));
        }
        py::gil_scoped_release release;
        return incision_py::run_lockstep(devs, edge, delays, key_frames);
      },
      py::arg("devices"), py::arg("edge"), py::arg("delays"), py::arg("key_frames"),
      "Runs devices in lockstep: frame t of device i selects an arm, observes delays[i][t, arm] if\n"
      "it offloads and updates; with an edge (None: no cooperation) it uploads when its trigger fires\n"
      "and installs its fresh download. delays: one (frames, n_arms) float64 table per device;\n"
      "key_frames: (n_devices, frames) bool. Returns the chosen arms, (n_devices, frames) int64.");
}
