// Bindings for incision::bandit: LinUCB, DisjointLinUCB, MuLinUCB (+ forgetting variants),
// snapshots as bytes and files, merge, and batched simulations that run whole streams in C++.
#include "bindings/bandit.hpp"
#include "bindings/common.hpp"

#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <optional>
#include <string>
#include <variant>

namespace py = pybind11;
using namespace incision_py;

namespace {

using index_vector = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;

// ---------------------------------------------------------------------------------------
// LinUCB (shared parameter)
struct py_linucb {
  std::variant<ib::linucb<dyn, plain_stats>, ib::linucb<dyn, disc_stats>, ib::linucb<dyn, win_stats>> v;
};

py_linucb make_linucb(std::size_t dim, double alpha, double reg, std::optional<double> gamma,
                      std::optional<std::size_t> window) {
  switch (policy_of(gamma, window)) {
    case 1: return {ib::linucb<dyn, disc_stats>(disc_stats(dim, reg, *gamma), alpha)};
    case 2: return {ib::linucb<dyn, win_stats>(win_stats(dim, reg, *window), alpha)};
    default: return {ib::linucb<dyn, plain_stats>(dim, alpha, reg)};
  }
}

py_linucb restore_linucb(const py::bytes& b) {
  const auto span = as_byte_span(b);
  switch (snapshot_policy(span, ib::linucb<>::snapshot_kind, "linucb snapshot")) {
    case 1: return {ib::linucb<dyn, disc_stats>::restore(span)};
    case 2: return {ib::linucb<dyn, win_stats>::restore(span)};
    default: return {ib::linucb<dyn, plain_stats>::restore(span)};
  }
}

// ---------------------------------------------------------------------------------------
// Disjoint LinUCB
struct py_disjoint {
  std::variant<ib::disjoint_linucb<dyn, plain_stats>, ib::disjoint_linucb<dyn, disc_stats>,
               ib::disjoint_linucb<dyn, win_stats>>
      v;
};

py_disjoint make_disjoint(std::size_t n_arms, std::size_t dim, double alpha, double reg,
                          std::optional<double> gamma, std::optional<std::size_t> window) {
  switch (policy_of(gamma, window)) {
    case 1: return {ib::disjoint_linucb<dyn, disc_stats>(n_arms, disc_stats(dim, reg, *gamma), alpha)};
    case 2: return {ib::disjoint_linucb<dyn, win_stats>(n_arms, win_stats(dim, reg, *window), alpha)};
    default: return {ib::disjoint_linucb<dyn, plain_stats>(n_arms, dim, alpha, reg)};
  }
}

py_disjoint restore_disjoint(const py::bytes& b) {
  const auto span = as_byte_span(b);
  switch (snapshot_policy(span, ib::disjoint_linucb<>::snapshot_kind, "disjoint_linucb snapshot")) {
    case 1: return {ib::disjoint_linucb<dyn, disc_stats>::restore(span)};
    case 2: return {ib::disjoint_linucb<dyn, win_stats>::restore(span)};
    default: return {ib::disjoint_linucb<dyn, plain_stats>::restore(span)};
  }
}

// ---------------------------------------------------------------------------------------
// muLinUCB
struct py_mu {
  std::variant<ib::mu_linucb<dyn, plain_stats>, ib::mu_linucb<dyn, disc_stats>, ib::mu_linucb<dyn, win_stats>> v;
};

py_mu make_mu(const Eigen::Ref<const Eigen::MatrixXd>& contexts, const Eigen::Ref<const Eigen::VectorXd>& front,
              double reg, const std::string& scaling, double mu, std::uint64_t initial_horizon, double delta,
              double c_noise, double c_theta, double l_key, double l_nonkey, std::optional<double> alpha,
              bool forced_sampling, bool arm_cache, std::optional<double> gamma,
              std::optional<std::size_t> window) {
  ib::mu_linucb_options o;
  o.reg = reg;
  if (scaling == "column_max") {
    o.scaling = ib::feature_scaling::column_max;
  } else if (scaling == "none") {
    o.scaling = ib::feature_scaling::none;
  } else {
    throw incision::invalid_argument(incision::detail::message(
        "bandit", "scaling must be 'column_max' or 'none', got '" + scaling + "'"));
  }
  o.mu = mu;
  o.initial_horizon = initial_horizon;
  o.delta = delta;
  o.c_noise = c_noise;
  o.c_theta = c_theta;
  o.l_key = l_key;
  o.l_nonkey = l_nonkey;
  o.alpha = alpha;
  o.forced_sampling = forced_sampling;
  o.arm_cache = arm_cache;
  const auto d = static_cast<std::size_t>(contexts.cols());
  switch (policy_of(gamma, window)) {
    case 1: return {ib::mu_linucb<dyn, disc_stats>(contexts, front, disc_stats(d, reg, *gamma), o)};
    case 2: return {ib::mu_linucb<dyn, win_stats>(contexts, front, win_stats(d, reg, *window), o)};
    default: return {ib::mu_linucb<dyn, plain_stats>(contexts, front, o)};
  }
}

py_mu restore_mu(const py::bytes& b) {
  const auto span = as_byte_span(b);
  switch (snapshot_policy(span, ib::mu_linucb<>::snapshot_kind, "mu_linucb snapshot")) {
    case 1: return {ib::mu_linucb<dyn, disc_stats>::restore(span)};
    case 2: return {ib::mu_linucb<dyn, win_stats>::restore(span)};
    default: return {ib::mu_linucb<dyn, plain_stats>::restore(span)};
  }
}

const char* policy_name(std::size_t index) {
  switch (index) {
    case 1: return "discounted";
    case 2: return "window";
    default: return "ridge";
  }
}

template <class Variant>
void check_same_policy(const Variant& a, const Variant& b) {
  if (a.index() != b.index())
    throw incision::invalid_argument(
        incision::detail::message("bandit", "cannot merge learners with different statistics policies"));
}

py::dict summary_dict(const ib::simulation_summary& s) {
  py::dict d;
  d["frames"] = s.frames;
  d["total_delay"] = s.total_delay;
  d["oracle_delay"] = s.oracle_delay;
  d["oracle_hits"] = s.oracle_hits;
  return d;
}

}  // namespace

void register_bandit(py::module_& m) {
  // ---- LinUCB ----
  py::class_<py_linucb>(m, "LinUCB", R"doc(
LinUCB with one shared parameter vector over arm contexts (Li et al., WWW 2010).

``select(X)`` returns argmax_k x_k.theta + alpha*sqrt(x_k^T A^-1 x_k) over the rows of X
(a (K, d) float64 C-ordered array); ties go to the lowest index. ``update(x, reward)`` folds the
chosen row and its reward into the ridge statistics in O(d^2) (Sherman-Morrison). Pass ``gamma``
for discounted statistics (D-LinUCB) or ``window`` for a sliding window.
)doc")
      .def(py::init(&make_linucb), py::arg("dim"), py::arg("alpha") = 1.0, py::arg("reg") = 1.0,
           py::kw_only(), py::arg("gamma") = py::none(), py::arg("window") = py::none())
      .def(
          "select",
          [](const py_linucb& self, const Eigen::Ref<const row_matrix>& X) {
            return std::visit([&](const auto& p) { return p.select(X); }, self.v);
          },
          py::arg("X").noconvert(), "Index of the row of X (K, d) with the largest upper confidence bound.")
      .def(
          "scores",
          [](const py_linucb& self, const Eigen::Ref<const row_matrix>& X) {
            Eigen::VectorXd out(X.rows());
            std::visit([&](const auto& p) { p.scores(X, out); }, self.v);
            return out;
          },
          py::arg("X").noconvert(), "Upper confidence bound of every row of X.")
      .def(
          "update",
          [](py_linucb& self, const Eigen::Ref<const Eigen::VectorXd>& x, double reward) {
            std::visit([&](auto& p) { p.update(x, reward); }, self.v);
          },
          py::arg("x").noconvert(), py::arg("reward"), "Adds the chosen context and its reward.")
      .def(
          "run",
          [](py_linucb& self, py::array_t<double, py::array::c_style> contexts,
             py::array_t<double, py::array::c_style> rewards) {
            if (contexts.ndim() != 3 || rewards.ndim() != 2 || rewards.shape(0) != contexts.shape(0) ||
                rewards.shape(1) != contexts.shape(1))
              throw incision::invalid_argument(incision::detail::message(
                  "bandit", "run expects contexts (T, K, d) and rewards (T, K)"));
            const auto T = contexts.shape(0);
            const auto K = contexts.shape(1);
            const auto d = contexts.shape(2);
            index_vector arms(T);
            const double* c = contexts.data();
            const double* r = rewards.data();
            {
              py::gil_scoped_release release;
              std::visit(
                  [&](auto& p) {
                    for (py::ssize_t t = 0; t < T; ++t) {
                      Eigen::Map<const row_matrix> X(c + t * K * d, K, d);
                      const auto a = static_cast<py::ssize_t>(p.select(X));
                      arms(t) = a;
                      p.update(X.row(a).transpose(), r[t * K + a]);
                    }
                  },
                  self.v);
            }
            return arms;
          },
          py::arg("contexts"), py::arg("rewards"),
          "Runs a whole stream in C++: at frame t choose among contexts[t] (K, d), observe rewards[t, a]. "
          "Returns the chosen arms.")
      .def_property(
          "alpha", [](const py_linucb& self) { return std::visit([](const auto& p) { return p.alpha(); }, self.v); },
          [](py_linucb& self, double a) { std::visit([&](auto& p) { p.set_alpha(a); }, self.v); })
      .def_property_readonly("dim", [](const py_linucb& self) { return std::visit([](const auto& p) { return p.dim(); }, self.v); })
      .def_property_readonly("policy", [](const py_linucb& self) { return policy_name(self.v.index()); })
      .def_property_readonly("theta", [](const py_linucb& self) { return std::visit([](const auto& p) { return Eigen::VectorXd(p.stats().theta()); }, self.v); })
      .def_property_readonly("inverse", [](const py_linucb& self) { return std::visit([](const auto& p) { return Eigen::MatrixXd(p.stats().inverse()); }, self.v); }, "A^-1")
      .def_property_readonly("gram", [](const py_linucb& self) { return std::visit([](const auto& p) { return Eigen::MatrixXd(p.stats().gram()); }, self.v); }, "A")
      .def_property_readonly("moment", [](const py_linucb& self) { return std::visit([](const auto& p) { return Eigen::VectorXd(p.stats().moment()); }, self.v); }, "b")
      .def_property_readonly("log_det", [](const py_linucb& self) { return std::visit([](const auto& p) { return p.stats().log_det(); }, self.v); })
      .def_property_readonly("n_updates", [](const py_linucb& self) { return std::visit([](const auto& p) { return p.stats().n_updates(); }, self.v); })
      .def(
          "merge",
          [](py_linucb& self, const py_linucb& other) {
            check_same_policy(self.v, other.v);
            std::visit([&](auto& p) { p.merge(std::get<std::decay_t<decltype(p)>>(other.v)); }, self.v);
          },
          py::arg("other"), "Adds the other learner's data statistics.")
      .def("snapshot", [](const py_linucb& self) { return to_py_bytes(std::visit([](const auto& p) { return p.snapshot(); }, self.v)); },
           "The full state as versioned, checksummed bytes.")
      .def_static("restore", &restore_linucb, py::arg("data"))
      .def("save", [](const py_linucb& self, const std::filesystem::path& path) { std::visit([&](const auto& p) { p.save(path); }, self.v); },
           py::arg("path"), "Writes the snapshot to a file atomically.")
      .def_static("load", [](const std::filesystem::path& path) {
            const auto b = incision::detail::read_file_bytes(path);
            return restore_linucb(to_py_bytes(b));
          }, py::arg("path"))
      .def(py::pickle([](const py_linucb& self) { return to_py_bytes(std::visit([](const auto& p) { return p.snapshot(); }, self.v)); },
                      [](const py::bytes& b) { return restore_linucb(b); }))
      .def("__repr__", [](const py_linucb& self) {
        return std::visit([&](const auto& p) {
          return "LinUCB(dim=" + std::to_string(p.dim()) + ", alpha=" + std::to_string(p.alpha()) +
                 ", reg=" + std::to_string(p.stats().reg()) + ", policy=" + policy_name(self.v.index()) +
                 ", n_updates=" + std::to_string(p.stats().n_updates()) + ")";
        }, self.v);
      });

  // ---- DisjointLinUCB ----
  py::class_<py_disjoint>(m, "DisjointLinUCB", R"doc(
Disjoint LinUCB: one ridge model per arm (Li et al., WWW 2010, Algorithm 1).

``select(x)`` returns argmax_k x.theta_k + alpha*sqrt(x^T A_k^-1 x) for one (d,) context;
``update(arm, x, reward)`` updates that arm only. ``gamma``/``window`` as for LinUCB.
)doc")
      .def(py::init(&make_disjoint), py::arg("n_arms"), py::arg("dim"), py::arg("alpha") = 1.0,
           py::arg("reg") = 1.0, py::kw_only(), py::arg("gamma") = py::none(), py::arg("window") = py::none())
      .def(
          "select",
          [](const py_disjoint& self, const Eigen::Ref<const Eigen::VectorXd>& x) {
            return std::visit([&](const auto& p) { return p.select(x); }, self.v);
          },
          py::arg("x").noconvert())
      .def(
          "scores",
          [](const py_disjoint& self, const Eigen::Ref<const Eigen::VectorXd>& x) {
            Eigen::VectorXd out(static_cast<Eigen::Index>(std::visit([](const auto& p) { return p.n_arms(); }, self.v)));
            std::visit([&](const auto& p) { p.scores(x, out); }, self.v);
            return out;
          },
          py::arg("x").noconvert())
      .def(
          "update",
          [](py_disjoint& self, std::size_t arm, const Eigen::Ref<const Eigen::VectorXd>& x, double reward) {
            std::visit([&](auto& p) { p.update(arm, x, reward); }, self.v);
          },
          py::arg("arm"), py::arg("x").noconvert(), py::arg("reward"))
      .def(
          "run",
          [](py_disjoint& self, const Eigen::Ref<const row_matrix>& contexts, const Eigen::Ref<const row_matrix>& rewards) {
            const auto n = std::visit([](const auto& p) { return p.n_arms(); }, self.v);
            if (rewards.rows() != contexts.rows() || static_cast<std::size_t>(rewards.cols()) != n)
              throw incision::invalid_argument(incision::detail::message(
                  "bandit", "run expects contexts (T, d) and rewards (T, n_arms)"));
            index_vector arms(contexts.rows());
            py::gil_scoped_release release;
            std::visit(
                [&](auto& p) {
                  for (Eigen::Index t = 0; t < contexts.rows(); ++t) {
                    const auto a = p.select(contexts.row(t).transpose());
                    arms(t) = static_cast<std::int64_t>(a);
                    p.update(a, contexts.row(t).transpose(), rewards(t, static_cast<Eigen::Index>(a)));
                  }
                },
                self.v);
            return arms;
          },
          py::arg("contexts").noconvert(), py::arg("rewards").noconvert(),
          "Runs a whole stream in C++ (contexts (T, d), rewards (T, n_arms)); returns the chosen arms.")
      .def_property(
          "alpha", [](const py_disjoint& self) { return std::visit([](const auto& p) { return p.alpha(); }, self.v); },
          [](py_disjoint& self, double a) { std::visit([&](auto& p) { p.set_alpha(a); }, self.v); })
      .def_property_readonly("n_arms", [](const py_disjoint& self) { return std::visit([](const auto& p) { return p.n_arms(); }, self.v); })
      .def_property_readonly("dim", [](const py_disjoint& self) { return std::visit([](const auto& p) { return p.dim(); }, self.v); })
      .def_property_readonly("policy", [](const py_disjoint& self) { return policy_name(self.v.index()); })
      .def("theta", [](const py_disjoint& self, std::size_t arm) { return std::visit([&](const auto& p) { return Eigen::VectorXd(p.stats(arm).theta()); }, self.v); }, py::arg("arm"))
      .def("inverse", [](const py_disjoint& self, std::size_t arm) { return std::visit([&](const auto& p) { return Eigen::MatrixXd(p.stats(arm).inverse()); }, self.v); }, py::arg("arm"))
      .def("n_updates", [](const py_disjoint& self, std::size_t arm) { return std::visit([&](const auto& p) { return p.stats(arm).n_updates(); }, self.v); }, py::arg("arm"))
      .def(
          "merge",
          [](py_disjoint& self, const py_disjoint& other) {
            check_same_policy(self.v, other.v);
            std::visit([&](auto& p) { p.merge(std::get<std::decay_t<decltype(p)>>(other.v)); }, self.v);
          },
          py::arg("other"))
      .def("snapshot", [](const py_disjoint& self) { return to_py_bytes(std::visit([](const auto& p) { return p.snapshot(); }, self.v)); })
      .def_static("restore", &restore_disjoint, py::arg("data"))
      .def("save", [](const py_disjoint& self, const std::filesystem::path& path) { std::visit([&](const auto& p) { p.save(path); }, self.v); }, py::arg("path"))
      .def_static("load", [](const std::filesystem::path& path) {
            const auto b = incision::detail::read_file_bytes(path);
            return restore_disjoint(to_py_bytes(b));
          }, py::arg("path"))
      .def(py::pickle([](const py_disjoint& self) { return to_py_bytes(std::visit([](const auto& p) { return p.snapshot(); }, self.v)); },
                      [](const py::bytes& b) { return restore_disjoint(b); }))
      .def("__repr__", [](const py_disjoint& self) {
        return std::visit([&](const auto& p) {
          return "DisjointLinUCB(n_arms=" + std::to_string(p.n_arms()) + ", dim=" + std::to_string(p.dim()) +
                 ", alpha=" + std::to_string(p.alpha()) + ", policy=" + policy_name(self.v.index()) + ")";
        }, self.v);
      });

  // ---- MuLinUCB ----
  py::class_<py_mu>(m, "MuLinUCB", R"doc(
muLinUCB (ANS; Zhang, Chen, Xu, WWW 2021): learns the DNN cut online.

``contexts`` (K, d): one row per partition point describing the server-side part; an all-zero
row is the all-on-device arm. ``front_delay`` (K,): known on-device delays in seconds.
``select(key_frame)`` advances the frame schedule and returns the cut (lower confidence bound
on the delay, exploration scaled by sqrt(1 - L), forced sampling of an offloading arm every
ceil(T^mu) frames with a doubling horizon T from ``initial_horizon``); ``update(arm,
offload_delay)`` feeds back the measured offloading delay (ignored for on-device arms).
Defaults are the official code's constants. Deviations (named): ``reg``*I prior instead of a
random diagonal, ``scaling='column_max'`` feature scaling (``'none'`` for raw contexts).
``gamma`` (discounted) or ``window`` (sliding window) add forgetting (not in ANS).
)doc")
      .def(py::init(&make_mu), py::arg("contexts"), py::arg("front_delay"), py::kw_only(),
           py::arg("reg") = 1.0, py::arg("scaling") = "column_max", py::arg("mu") = 0.25,
           py::arg("initial_horizon") = 200, py::arg("delta") = 0.1, py::arg("c_noise") = 0.05,
           py::arg("c_theta") = 1.0, py::arg("l_key") = 0.8, py::arg("l_nonkey") = 0.2,
           py::arg("alpha") = py::none(), py::arg("forced_sampling") = true, py::arg("arm_cache") = true,
           py::arg("gamma") = py::none(), py::arg("window") = py::none())
      .def(
          "select",
          [](py_mu& self, bool key_frame) {
            return std::visit([&](auto& p) { return p.select(key_frame); }, self.v);
          },
          py::arg("key_frame") = false, "Next frame's cut.")
      .def(
          "select_weighted",
          [](py_mu& self, double L) { return std::visit([&](auto& p) { return p.select_weighted(L); }, self.v); },
          py::arg("L"), "Next frame's cut with an explicit key-frame weight L in [0, 1).")
      .def(
          "update",
          [](py_mu& self, std::size_t arm, double delay) {
            std::visit([&](auto& p) { p.update(arm, delay); }, self.v);
          },
          py::arg("arm"), py::arg("offload_delay"))
      .def(
          "estimates",
          [](const py_mu& self, double L) { return std::visit([&](const auto& p) { return p.estimates(L); }, self.v); },
          py::arg("L") = 0.2, "Current delay estimates (lower confidence bounds) per arm.")
      .def(
          "run",
          [](py_mu& self, const Eigen::Ref<const row_matrix>& offload_delays,
             std::optional<Eigen::Ref<const Eigen::VectorXd>> key_weight) {
            index_vector arms(offload_delays.rows());
            const Eigen::VectorXd empty;
            ib::simulation_summary s;
            {
              py::gil_scoped_release release;
              s = std::visit(
                  [&](auto& p) {
                    return key_weight ? ib::simulate_table(p, offload_delays, *key_weight, arms)
                                      : ib::simulate_table(p, offload_delays, empty, arms);
                  },
                  self.v);
            }
            return py::make_tuple(arms, summary_dict(s));
          },
          py::arg("offload_delays").noconvert(), py::arg("key_weight") = py::none(),
          "Runs a stream in C++ over a (T, K) offloading-delay table; returns (arms, summary).")
      .def(
          "simulate",
          [](py_mu& self, const Eigen::Ref<const Eigen::MatrixXd>& thetas, const index_vector& segment_frames,
             double noise, std::uint64_t seed, double key_prob) {
            const auto total = segment_frames.sum();
            if (total < 0 || segment_frames.size() == 0)
              throw incision::invalid_argument(incision::detail::message("bandit", "bad segment frame counts"));
            index_vector arms(total);
            Eigen::VectorXd delays(total);
            ib::simulation_summary s;
            {
              py::gil_scoped_release release;
              s = std::visit(
                  [&](auto& p) {
                    return ib::simulate_linear(p, thetas, segment_frames, noise, seed, key_prob, arms, delays);
                  },
                  self.v);
            }
            return py::make_tuple(arms, delays, summary_dict(s));
          },
          py::arg("thetas"), py::arg("segment_frames"), py::arg("noise") = 0.0, py::arg("seed") = 0,
          py::arg("key_prob") = 0.0,
          "Runs a stream in C++ against offload delay = raw_context . thetas[s] + N(0, noise^2) in segment s "
          "(segment_frames[s] frames each). Returns (arms, end-to-end delays, summary).")
      .def_property_readonly("alpha", [](const py_mu& self) { return std::visit([](const auto& p) { return p.alpha(); }, self.v); })
      .def_property_readonly("last_forced", [](const py_mu& self) { return std::visit([](const auto& p) { return p.last_forced(); }, self.v); })
      .def_property_readonly("horizon", [](const py_mu& self) { return std::visit([](const auto& p) { return p.horizon(); }, self.v); })
      .def_property_readonly("forced_period", [](const py_mu& self) { return std::visit([](const auto& p) { return p.forced_period(); }, self.v); })
      .def_property_readonly("n_frames", [](const py_mu& self) { return std::visit([](const auto& p) { return p.n_frames(); }, self.v); })
      .def_property_readonly("n_arms", [](const py_mu& self) { return std::visit([](const auto& p) { return p.n_arms(); }, self.v); })
      .def_property_readonly("dim", [](const py_mu& self) { return std::visit([](const auto& p) { return p.dim(); }, self.v); })
      .def_property_readonly("policy", [](const py_mu& self) { return policy_name(self.v.index()); })
      .def_property_readonly("c_x", [](const py_mu& self) { return std::visit([](const auto& p) { return p.c_x(); }, self.v); })
      .def_property_readonly("feature_scale", [](const py_mu& self) { return std::visit([](const auto& p) { return Eigen::VectorXd(p.feature_scale()); }, self.v); })
      .def_property_readonly("theta", [](const py_mu& self) { return std::visit([](const auto& p) { return Eigen::VectorXd(p.stats().theta()); }, self.v); }, "theta in the scaled feature space")
      .def_property_readonly("inverse", [](const py_mu& self) { return std::visit([](const auto& p) { return Eigen::MatrixXd(p.stats().inverse()); }, self.v); })
      .def_property_readonly("gram", [](const py_mu& self) { return std::visit([](const auto& p) { return Eigen::MatrixXd(p.stats().gram()); }, self.v); })
      .def_property_readonly("moment", [](const py_mu& self) { return std::visit([](const auto& p) { return Eigen::VectorXd(p.stats().moment()); }, self.v); })
      .def_property_readonly("n_updates", [](const py_mu& self) { return std::visit([](const auto& p) { return p.stats().n_updates(); }, self.v); })
      .def("scaled_context", [](const py_mu& self, std::size_t arm) { return std::visit([&](const auto& p) { return Eigen::VectorXd(p.scaled_context(arm)); }, self.v); }, py::arg("arm"))
      .def("is_local_arm", [](const py_mu& self, std::size_t arm) { return std::visit([&](const auto& p) { return p.is_local_arm(arm); }, self.v); }, py::arg("arm"))
      .def(
          "set_prior",
          [](py_mu& self, const Eigen::Ref<const Eigen::VectorXd>& diag) {
            std::visit([&](auto& p) { p.set_stats(plain_stats(diag)); }, self.v);
          },
          py::arg("diagonal"),
          "Replaces the statistics by an empty diagonal prior A = diag(diagonal), b = 0 (e.g. the official "
          "code's random diagonal), keeping the frame schedule.")
      .def(
          "merge",
          [](py_mu& self, const py_mu& other) {
            check_same_policy(self.v, other.v);
            std::visit([&](auto& p) { p.merge(std::get<std::decay_t<decltype(p)>>(other.v)); }, self.v);
          },
          py::arg("other"))
      .def("snapshot", [](const py_mu& self) { return to_py_bytes(std::visit([](const auto& p) { return p.snapshot(); }, self.v)); })
      .def_static("restore", &restore_mu, py::arg("data"))
      .def("save", [](const py_mu& self, const std::filesystem::path& path) { std::visit([&](const auto& p) { p.save(path); }, self.v); }, py::arg("path"))
      .def_static("load", [](const std::filesystem::path& path) {
            const auto b = incision::detail::read_file_bytes(path);
            return restore_mu(to_py_bytes(b));
          }, py::arg("path"))
      .def(py::pickle([](const py_mu& self) { return to_py_bytes(std::visit([](const auto& p) { return p.snapshot(); }, self.v)); },
                      [](const py::bytes& b) { return restore_mu(b); }))
      .def("__repr__", [](const py_mu& self) {
        return std::visit([&](const auto& p) {
          return "MuLinUCB(n_arms=" + std::to_string(p.n_arms()) + ", dim=" + std::to_string(p.dim()) +
                 ", policy=" + policy_name(self.v.index()) + ", n_frames=" + std::to_string(p.n_frames()) + ")";
        }, self.v);
      });
}
