// Bindings for FedLinUCB-DW (incision::federated: device learner, edge aggregator, messages,
// the round trip and the lockstep loop).
#include "bindings/bandit.hpp"
#include "bindings/common.hpp"
#include "bindings/federated.hpp"

#include <incision/bandit/mu_linucb.hpp>
#include <incision/error.hpp>
#include <incision/federated/aggregator.hpp>
#include <incision/federated/exchange.hpp>
#include <incision/federated/linucb_dw.hpp>
#include <incision/federated/messages.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace py = pybind11;
namespace fed = incision::federated;
using incision_py::as_byte_span;
using incision_py::fed_device;
using incision_py::row_matrix;
using incision_py::to_py_bytes;

namespace {

using py_aggregator = incision_py::locked_object<fed::fed_aggregator>;
using py_device = incision_py::locked_object<fed_device>;
using incision_py::locked;
using incision_py::object_lock;

constexpr const char* threading_doc =
    "\n\nThreads: every method takes a per-object lock, so one object may be shared by Python threads;\n"
    "calls are serialised. handle_batch and run_lockstep release the GIL while they run.";

}  // namespace

void register_federated(py::module_& m) {
  m.attr("PROTOCOL_VERSION") = fed::fed_protocol_version;
  {
    // The reject codes' names as they appear in decode_message(...)["code"], in code order.
    py::list codes;
    for (std::uint16_t c = 1;; ++c) {
      const auto name = fed::to_string(static_cast<fed::fed_reject_code>(c));
      if (name == "unknown") break;
      codes.append(std::string(name));
    }
    m.attr("REJECT_CODES") = py::tuple(codes);
  }

  m.def(
      "decode_message",
      [](const py::bytes& b) { return incision_py::message_dict(fed::decode_fed_message(as_byte_span(b))); },
      py::arg("message"),
      "Decodes a FedLinUCB-DW message (hello, upload, download, ack, reject) into a dict.\n"
      "Raises ValueError on bytes that are not a valid message.");

  static const std::string aggregator_doc =
      std::string(
          "Edge-side FedLinUCB-DW aggregator: pooled statistics per device type.\n\n"
          "Speaks bytes only: handle(message) -> reply, so the same object serves devices\n"
          "in one process or behind any transport.") +
      threading_doc;
  const fed::fed_aggregator_options caps{};  // the Python defaults are the C++ ones
  py::class_<py_aggregator>(m, "FedAggregator", aggregator_doc.c_str())
      .def(py::init([](std::size_t max_groups, std::size_t max_devices, std::uint32_t max_dim,
                       std::size_t max_message_bytes, std::size_t memory_budget, std::uint64_t max_group_count,
                       double psd_slack, double max_statistic) {
             fed::fed_aggregator_options o;
             o.max_groups = max_groups;
             o.max_devices = max_devices;
             o.max_dim = max_dim;
             o.max_message_bytes = max_message_bytes;
             o.memory_budget = memory_budget;
             o.max_group_count = max_group_count;
             o.psd_slack = psd_slack;
             o.max_statistic = max_statistic;
             return py_aggregator(fed::fed_aggregator(o));
           }),
           py::kw_only(), py::arg("max_groups") = caps.max_groups, py::arg("max_devices") = caps.max_devices,
           py::arg("max_dim") = caps.max_dim, py::arg("max_message_bytes") = caps.max_message_bytes,
           py::arg("memory_budget") = caps.memory_budget, py::arg("max_group_count") = caps.max_group_count,
           py::arg("psd_slack") = caps.psd_slack, py::arg("max_statistic") = caps.max_statistic,
           "Caps, checked before anything is allocated (a hello or upload beyond them gets a reject\n"
           "'limit_exceeded'): max_groups device types, max_devices registered devices, max_dim\n"
           "feature dimension of a new group (<= 1024), max_message_bytes per incoming message,\n"
           "memory_budget bytes of group and device storage (see memory_bytes), max_group_count\n"
           "observations pooled per group. An upload is refused ('invalid_statistics') unless the\n"
           "group's Gram G keeps G + psd_slack I positive definite and every entry of the statistics\n"
           "within max_statistic. ValueError if an option is out of range.")
      .def(
          "handle",
          [](py_aggregator& a, const py::bytes& msg) {
            return to_py_bytes(locked<py_aggregator>(&fed::fed_aggregator::handle)(a, as_byte_span(msg)));
          },
          py::arg("message"),
          "Handles a device message: hello -> download, upload -> ack; refusals -> reject.\n"
          "Raises ValueError on bytes that are not a message (nothing changes).")
      .def(
          "handle_batch",
          [](py_aggregator& a, const py::list& messages) {
            // Strong references: another thread may clear the list while the GIL is released.
            std::vector<py::bytes> held;
            held.reserve(messages.size());
            for (const auto& msg : messages) held.push_back(msg.cast<py::bytes>());
            std::vector<std::span<const std::byte>> in;
            in.reserve(held.size());
            for (const auto& b : held) in.push_back(as_byte_span(b));
            std::vector<std::optional<std::vector<std::byte>>> out(in.size());
            {
              py::gil_scoped_release release;
              object_lock lock(a.m);
              for (std::size_t i = 0; i < in.size(); ++i) {
                try {
                  out[i] = a.obj.handle(in[i]);
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
          "download_for",
          [](py_aggregator& a, std::uint64_t id) {
            return to_py_bytes(locked<py_aggregator>(&fed::fed_aggregator::download_for)(a, id));
          },
          py::arg("device_id"), "A download of the device's group addressed to it. IndexError if unknown.")
      .def(
          "broadcast",
          [](py_aggregator& a, const std::string& g) {
            return to_py_bytes(locked<py_aggregator>(&fed::fed_aggregator::broadcast)(a, g));
          },
          py::arg("group"), "A download of the group for all its members. IndexError if unknown.")
      .def_property_readonly(
          "traffic",
          [](const py_aggregator& a) {
            return incision_py::traffic_dict(locked<py_aggregator>(&fed::fed_aggregator::traffic)(a));
          })
      .def_property_readonly("memory_bytes", locked<py_aggregator>(&fed::fed_aggregator::memory_bytes),
                             "Estimated bytes held for groups and devices; never above the memory_budget.")
      .def_property_readonly(
          "options",
          [](const py_aggregator& a) {
            return incision_py::options_dict(locked<py_aggregator>(&fed::fed_aggregator::options)(a));
          })
      .def_property_readonly("n_groups", locked<py_aggregator>(&fed::fed_aggregator::n_groups))
      .def_property_readonly("n_devices", locked<py_aggregator>(&fed::fed_aggregator::n_devices))
      .def("group_names", locked<py_aggregator>(&fed::fed_aggregator::group_names))
      .def("device_group", locked<py_aggregator>(&fed::fed_aggregator::device_group), py::arg("device_id"))
      .def("last_seq", locked<py_aggregator>(&fed::fed_aggregator::last_seq), py::arg("device_id"))
      .def("group_gram", locked<py_aggregator>(&fed::fed_aggregator::group_gram), py::arg("group"))
      .def("group_moment", locked<py_aggregator>(&fed::fed_aggregator::group_moment), py::arg("group"))
      .def("group_count", locked<py_aggregator>(&fed::fed_aggregator::group_count), py::arg("group"))
      .def("group_version", locked<py_aggregator>(&fed::fed_aggregator::group_version), py::arg("group"))
      .def("group_size", locked<py_aggregator>(&fed::fed_aggregator::group_size), py::arg("group"));

  static const std::string device_doc =
      std::string(
          "FedLinUCB-DW device learner (CANS): muLinUCB on its group's pooled statistics,\n"
          "a bounded fading warm start from offline experience, and an O(d^2) log-det upload\n"
          "trigger. Messages are bytes (hello, make_upload -> edge; receive <- edge).") +
      threading_doc;
  const fed::fed_linucb_dw_options defaults{};  // the Python defaults are the C++ ones
  py::class_<py_device>(m, "FedLinUCBDW", device_doc.c_str())
      .def(
          py::init([](std::uint64_t device_id, const std::string& group, const Eigen::Ref<const row_matrix>& contexts,
                      const Eigen::Ref<const Eigen::VectorXd>& front_delay, double upload_threshold, double warm_weight,
                      double warm_max_rows, double warm_half_life, double reg, const std::string& scaling, double mu,
                      std::uint64_t initial_horizon, double delta, double c_noise, double c_theta, double l_key,
                      double l_nonkey, std::optional<double> alpha, bool forced_sampling) {
            fed::fed_linucb_dw_options o;
            o.upload_threshold = upload_threshold;
            o.warm_weight = warm_weight;
            o.warm_max_rows = warm_max_rows;
            o.warm_half_life = warm_half_life;
            o.learner.reg = reg;
            o.learner.scaling = incision_py::parse_scaling(scaling, "federated");
            o.learner.mu = mu;
            o.learner.initial_horizon = initial_horizon;
            o.learner.delta = delta;
            o.learner.c_noise = c_noise;
            o.learner.c_theta = c_theta;
            o.learner.l_key = l_key;
            o.learner.l_nonkey = l_nonkey;
            o.learner.alpha = alpha;
            o.learner.forced_sampling = forced_sampling;
            return py_device(fed_device(device_id, group, Eigen::MatrixXd(contexts), front_delay, o));
          }),
          py::arg("device_id"), py::arg("group"), py::arg("contexts"), py::arg("front_delay"), py::kw_only(),
          py::arg("upload_threshold") = defaults.upload_threshold, py::arg("warm_weight") = defaults.warm_weight,
          py::arg("warm_max_rows") = defaults.warm_max_rows, py::arg("warm_half_life") = defaults.warm_half_life,
          py::arg("reg") = defaults.learner.reg,
          py::arg("scaling") = incision_py::scaling_name(defaults.learner.scaling), py::arg("mu") = defaults.learner.mu,
          py::arg("initial_horizon") = defaults.learner.initial_horizon, py::arg("delta") = defaults.learner.delta,
          py::arg("c_noise") = defaults.learner.c_noise, py::arg("c_theta") = defaults.learner.c_theta,
          py::arg("l_key") = defaults.learner.l_key, py::arg("l_nonkey") = defaults.learner.l_nonkey,
          py::arg("alpha") = defaults.learner.alpha, py::arg("forced_sampling") = defaults.learner.forced_sampling,
          "device_id: non-zero; group: device type; contexts: (K, d) float64 arm contexts (an all-zero\n"
          "row is the all-on-device arm); front_delay: (K,) seconds. upload_threshold: upload when\n"
          "(ln det A - ln det A_sync) * buffered >= threshold (0: every observation, inf: never).\n"
          "warm_weight in [0, 1], warm_max_rows, warm_half_life: the offline prior (see warm_start).\n"
          "The remaining keywords are the muLinUCB options (defaults: the official ANS code).")
      .def(
          "warm_start",
          [](py_device& d, const std::vector<std::size_t>& arms, const std::vector<double>& delays) {
            object_lock lock(d.m);
            d.obj.warm_start(arms, delays);
          },
          py::arg("arms"), py::arg("delays"),
          "Installs offline experience (offloading arm, measured offloading delay) as a local prior of\n"
          "bounded weight; it is never uploaded and fades as online data arrives.")
      .def(
          "hello", [](py_device& d) { return to_py_bytes(locked<py_device>(&fed_device::hello)(d)); },
          "The registration message.")
      .def("select", locked<py_device>(&fed_device::select), py::arg("key_frame") = false,
           "Next frame's cut (arm index).")
      .def("select_weighted", locked<py_device>(&fed_device::select_weighted), py::arg("L"),
           "Next frame's cut with key-frame weight L in [0, 1).")
      .def("update", locked<py_device>(&fed_device::update), py::arg("arm"), py::arg("offload_delay"),
           "Feeds back the offloading delay (seconds) observed for arm; buffered for upload.")
      .def_property_readonly("upload_score", locked<py_device>(&fed_device::upload_score))
      .def("wants_upload", locked<py_device>(&fed_device::wants_upload))
      .def(
          "make_upload", [](py_device& d) { return to_py_bytes(locked<py_device>(&fed_device::make_upload)(d)); },
          "Packs the buffered observations into an upload message (marks it in flight).")
      .def(
          "receive",
          [](py_device& d, const py::bytes& msg) {
            return incision_py::event_name(locked<py_device>(&fed_device::receive)(d, as_byte_span(msg)));
          },
          py::arg("message"),
          "Applies a message from the edge; returns 'download_applied', 'stale_download', 'acked' or\n"
          "'rejected'. Raises ValueError on bad bytes or a download of another group.")
      .def_property_readonly("device_id", locked<py_device>(&fed_device::device_id))
      .def_property_readonly("group", locked<py_device>(&fed_device::group))
      .def_property_readonly("n_arms", locked<py_device>(&fed_device::n_arms))
      .def_property_readonly("dim", locked<py_device>(&fed_device::dim))
      .def_property_readonly("feature_tag", locked<py_device>(&fed_device::feature_tag))
      .def_property_readonly("registered", locked<py_device>(&fed_device::registered))
      .def_property_readonly("upload_in_flight", locked<py_device>(&fed_device::upload_in_flight))
      .def_property_readonly("buffered", locked<py_device>(&fed_device::buffered))
      .def_property_readonly("sync_version", locked<py_device>(&fed_device::sync_version))
      .def_property_readonly("sync_count", locked<py_device>(&fed_device::sync_count))
      .def_property_readonly("n_uploads", locked<py_device>(&fed_device::n_uploads))
      .def_property_readonly("warm_mass", locked<py_device>(&fed_device::warm_mass))
      .def_property_readonly("n_online", locked<py_device>(&fed_device::n_online))
      .def_property_readonly("last_forced",
                             [](const py_device& d) {
                               object_lock lock(d.m);
                               return d.obj.learner().last_forced();
                             })
      .def_property_readonly(
          "traffic",
          [](const py_device& d) { return incision_py::traffic_dict(locked<py_device>(&fed_device::traffic)(d)); })
      .def_property_readonly("last_reject",
                             [](const py_device& d) -> py::object {
                               const auto r = locked<py_device>(&fed_device::last_reject)(d);
                               if (!r) return py::none();
                               return incision_py::reject_dict(*r);
                             })
      .def_property_readonly("gram",
                             [](const py_device& d) {
                               object_lock lock(d.m);
                               return Eigen::MatrixXd(d.obj.stats().gram());
                             })
      .def_property_readonly("moment",
                             [](const py_device& d) {
                               object_lock lock(d.m);
                               return Eigen::VectorXd(d.obj.stats().moment());
                             })
      .def_property_readonly("theta",
                             [](const py_device& d) {
                               object_lock lock(d.m);
                               return Eigen::VectorXd(d.obj.stats().theta());
                             })
      .def(
          "scaled_context",
          [](const py_device& d, std::size_t arm) {
            object_lock lock(d.m);
            return Eigen::VectorXd(d.obj.learner().scaled_context(arm));
          },
          py::arg("arm"))
      .def(
          "is_local_arm",
          [](const py_device& d, std::size_t arm) {
            object_lock lock(d.m);
            return d.obj.learner().is_local_arm(arm);
          },
          py::arg("arm"))
      .def(
          "estimates",
          [](const py_device& d, double L) {
            object_lock lock(d.m);
            return d.obj.learner().estimates(L);
          },
          py::arg("L") = 0.2);

  m.def(
      "exchange",
      [](py_device& d, py_aggregator& e) {
        fed::exchange_result r;
        {
          object_lock lock({&d.m, &e.m});
          r = fed::exchange(d.obj, e.obj);
        }
        return incision_py::exchange_dict(r);  // built after the unlock
      },
      py::arg("device"), py::arg("edge"),
      "One round trip in one process: the device's upload, the edge's reply and, after an ack, the\n"
      "device's fresh personal download. Returns {'bytes': moved, 'reply': 'acked' or 'rejected',\n"
      "'downloaded': bool}. ValueError (nothing changes) if the device has nothing buffered or an\n"
      "upload in flight. Takes the lock of the device and of the edge.");

  m.def(
      "run_lockstep",
      [](const py::list& devices, py_aggregator* edge,
         const std::vector<py::array_t<double, py::array::c_style | py::array::forcecast>>& delays,
         const Eigen::Ref<const fed::key_frame_table>& key_frames) {
        // Strong references to the devices (another thread may clear the list while the GIL is
        // released); the delay arrays are owned by `delays`, the key frames by the argument caster.
        std::vector<py::object> held;
        std::vector<fed_device*> devs;
        std::vector<incision_py::object_mutex*> mutexes;
        held.reserve(devices.size());
        for (const auto& d : devices) {
          auto& w = d.cast<py_device&>();
          held.push_back(py::reinterpret_borrow<py::object>(d));
          devs.push_back(&w.obj);
          mutexes.push_back(&w.m);
        }
        if (edge != nullptr) mutexes.push_back(&edge->m);
        // Only numpy's side is checked here (2-D); counts, shapes and values are the library's.
        std::vector<Eigen::Ref<const fed::delay_table>> tables;
        tables.reserve(delays.size());
        for (std::size_t i = 0; i < delays.size(); ++i) {
          if (delays[i].ndim() != 2)
            throw incision::invalid_argument(incision::detail::message(
                "federated",
                "run_lockstep: delay table " + std::to_string(i) + " must be a 2-D (frames, n_arms) array"));
          tables.emplace_back(
              Eigen::Map<const fed::delay_table>(delays[i].data(), delays[i].shape(0), delays[i].shape(1)));
        }
        py::gil_scoped_release release;
        object_lock lock(std::move(mutexes));
        return fed::run_lockstep<>(devs, edge != nullptr ? &edge->obj : nullptr, tables, key_frames);
      },
      py::arg("devices"), py::arg("edge"), py::arg("delays"), py::arg("key_frames"),
      "Runs devices in lockstep: frame t of device i selects an arm, observes delays[i][t, arm] if\n"
      "it offloads and updates; with an edge (None: no cooperation) it exchanges (upload -> ack ->\n"
      "download) when its trigger fires. delays: one (frames, n_arms) float64 table per device;\n"
      "key_frames: (n_devices, frames) bool. Returns the chosen arms, (n_devices, frames) int64.\n"
      "ValueError before any change if a device is repeated, a count or shape is wrong or a delay\n"
      "is not finite. Takes the lock of every device and of the edge, and releases the GIL.");
}
