// Bindings for incision::bandit: LinUCB, DisjointLinUCB, MuLinUCB (+ forgetting variants). The
// shared surface (policy, snapshots, files, pickle, merge, repr, the lock) comes from
// bind_learner_family; this file adds what each family has of its own.
#include "bindings/bandit.hpp"
#include "bindings/common.hpp"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace py = pybind11;
using namespace incision_py;

// Array arguments take any array-like (lists, float32, Fortran order, strided views): the Eigen::Ref
// casters view a float64 array of the right layout in place and convert anything else once, here
// at the boundary (no noconvert, which made lists and float32 a TypeError).
namespace {

using index_vector = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;

/// Most frames one simulate() call may produce: its outputs take 16 bytes a frame (2 GiB here).
constexpr std::int64_t max_simulate_frames = std::int64_t{1} << 27;

[[noreturn]] void throw_bandit(const std::string& what) {
  throw incision::invalid_argument(incision::detail::message("bandit", what));
}

/// Index of the first row of a (rows x cols) C-ordered block with a non-finite value, or -1.
py::ssize_t first_nonfinite_row(const double* data, py::ssize_t rows, py::ssize_t cols) {
  for (py::ssize_t r = 0; r < rows; ++r)
    for (py::ssize_t c = 0; c < cols; ++c)
      if (!std::isfinite(data[r * cols + c])) return r;
  return -1;
}

struct linucb_family {
  template <int D, class S>
  using learner = ib::linucb<D, S>;
  static constexpr std::uint16_t snapshot_kind = ib::linucb<>::snapshot_kind;
  static constexpr const char* snapshot_what = "linucb snapshot";

  static learner_variant<linucb_family> make(std::size_t dim, double alpha, double reg, std::optional<double> gamma,
                                             std::optional<std::size_t> window) {
    switch (policy_of(gamma, window)) {
      case stats_policy::discounted:
        return ib::linucb<dyn, disc_stats>(disc_stats(dim, reg, *gamma), alpha);
      case stats_policy::window:
        return ib::linucb<dyn, win_stats>(win_stats(dim, reg, *window), alpha);
      case stats_policy::ridge:
        break;
    }
    return ib::linucb<dyn, plain_stats>(dim, alpha, reg);
  }
  template <class L>
  static std::string repr(const L& p, const char* policy) {
    return "LinUCB(dim=" + std::to_string(p.dim()) + ", alpha=" + std::to_string(p.alpha()) +
           ", reg=" + std::to_string(p.stats().reg()) + ", policy=" + policy +
           ", n_updates=" + std::to_string(p.stats().n_updates()) + ")";
  }
};

struct disjoint_family {
  template <int D, class S>
  using learner = ib::disjoint_linucb<D, S>;
  static constexpr std::uint16_t snapshot_kind = ib::disjoint_linucb<>::snapshot_kind;
  static constexpr const char* snapshot_what = "disjoint_linucb snapshot";

  static learner_variant<disjoint_family> make(std::size_t n_arms, std::size_t dim, double alpha, double reg,
                                               std::optional<double> gamma, std::optional<std::size_t> window) {
    switch (policy_of(gamma, window)) {
      case stats_policy::discounted:
        return ib::disjoint_linucb<dyn, disc_stats>(n_arms, disc_stats(dim, reg, *gamma), alpha);
      case stats_policy::window:
        return ib::disjoint_linucb<dyn, win_stats>(n_arms, win_stats(dim, reg, *window), alpha);
      case stats_policy::ridge:
        break;
    }
    return ib::disjoint_linucb<dyn, plain_stats>(n_arms, dim, alpha, reg);
  }
  template <class L>
  static std::string repr(const L& p, const char* policy) {
    return "DisjointLinUCB(n_arms=" + std::to_string(p.n_arms()) + ", dim=" + std::to_string(p.dim()) +
           ", alpha=" + std::to_string(p.alpha()) + ", policy=" + policy + ")";
  }
};

struct mu_family {
  template <int D, class S>
  using learner = ib::mu_linucb<D, S>;
  static constexpr std::uint16_t snapshot_kind = ib::mu_linucb<>::snapshot_kind;
  static constexpr const char* snapshot_what = "mu_linucb snapshot";

  static learner_variant<mu_family> make(const Eigen::Ref<const Eigen::MatrixXd>& contexts,
                                         const Eigen::Ref<const Eigen::VectorXd>& front, double reg,
                                         const std::string& scaling, double mu, std::uint64_t initial_horizon,
                                         double delta, double c_noise, double c_theta, double l_key, double l_nonkey,
                                         std::optional<double> alpha, bool forced_sampling, bool arm_cache,
                                         std::optional<double> gamma, std::optional<std::size_t> window) {
    ib::mu_linucb_options o;
    o.reg = reg;
    o.scaling = parse_scaling(scaling, "bandit");
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
      case stats_policy::discounted:
        return ib::mu_linucb<dyn, disc_stats>(contexts, front, disc_stats(d, reg, *gamma), o);
      case stats_policy::window:
        return ib::mu_linucb<dyn, win_stats>(contexts, front, win_stats(d, reg, *window), o);
      case stats_policy::ridge:
        break;
    }
    return ib::mu_linucb<dyn, plain_stats>(contexts, front, o);
  }
  template <class L>
  static std::string repr(const L& p, const char* policy) {
    return "MuLinUCB(n_arms=" + std::to_string(p.n_arms()) + ", dim=" + std::to_string(p.dim()) + ", policy=" + policy +
           ", n_frames=" + std::to_string(p.n_frames()) + ")";
  }
};

using py_linucb = py_learner<linucb_family>;
using py_disjoint = py_learner<disjoint_family>;
using py_mu = py_learner<mu_family>;

py::dict summary_dict(const ib::simulation_summary& s) {
  py::dict d;
  d["frames"] = s.frames;
  d["total_delay"] = s.total_delay;
  d["oracle_delay"] = s.oracle_delay;
  d["oracle_hits"] = s.oracle_hits;
  return d;
}

// Read accessors: the value is copied under the lock.
#define INCISION_PY_GET(W, expr) [](const W& self) { return self.read([](const auto& p) { return expr; }); }

void bind_linucb(py::module_& m) {
  auto cls = bind_learner_family<linucb_family>(m, "LinUCB", R"doc(
LinUCB with one shared parameter vector over arm contexts (Li et al., WWW 2010).

``select(X)`` returns argmax_k x_k.theta + alpha*sqrt(x_k^T A^-1 x_k) over the rows of X
(any (K, d) array-like; float64 C-ordered input is read in place); ties go to the lowest index.
``update(x, reward)`` folds the chosen row and its reward into the ridge statistics in O(d^2)
(Sherman-Morrison). Pass ``gamma`` for discounted statistics (D-LinUCB) or ``window`` for a
sliding window.)doc");
  cls.def(py::init([](std::size_t dim, double alpha, double reg, std::optional<double> gamma,
                      std::optional<std::size_t> window) {
            return py_linucb(linucb_family::make(dim, alpha, reg, gamma, window));
          }),
          py::arg("dim"), py::arg("alpha") = 1.0, py::arg("reg") = 1.0, py::kw_only(), py::arg("gamma") = py::none(),
          py::arg("window") = py::none())
      .def(
          "select",
          [](const py_linucb& self, const Eigen::Ref<const row_matrix>& X) {
            return self.read([&](const auto& p) { return p.select(X); });
          },
          py::arg("X"), "Index of the row of X (K, d) with the largest upper confidence bound.")
      .def(
          "scores",
          [](const py_linucb& self, const Eigen::Ref<const row_matrix>& X) {
            Eigen::VectorXd out(X.rows());
            self.read([&](const auto& p) {
              p.scores(X, out);
              return 0;
            });
            return out;
          },
          py::arg("X"), "Upper confidence bound of every row of X.")
      .def(
          "update",
          [](py_linucb& self, const Eigen::Ref<const Eigen::VectorXd>& x, double reward) {
            self.write([&](auto& p) {
              p.update(x, reward);
              return 0;
            });
          },
          py::arg("x"), py::arg("reward"), "Adds the chosen context and its reward.")
      .def(
          "run",
          [](py_linucb& self, py::array_t<double, py::array::c_style> contexts,
             py::array_t<double, py::array::c_style> rewards) {
            // The arrays are held by this frame's arguments while the GIL is released.
            if (contexts.ndim() != 3 || rewards.ndim() != 2 || rewards.shape(0) != contexts.shape(0) ||
                rewards.shape(1) != contexts.shape(1))
              throw_bandit("run expects contexts (T, K, d) and rewards (T, K)");
            const auto T = contexts.shape(0);
            const auto K = contexts.shape(1);
            const auto d = contexts.shape(2);
            index_vector arms(T);
            const double* c = contexts.data();
            const double* r = rewards.data();
            self.transact([&](auto& p) {
              // Validate the whole stream first: a bad frame raises before any update.
              if (T > 0 && (K < 1 || static_cast<std::size_t>(d) != p.dim()))
                throw_bandit("run: contexts have shape (T, " + std::to_string(K) + ", " + std::to_string(d) +
                             "), expected (T, K >= 1, " + std::to_string(p.dim()) + ")");
              if (const auto t = first_nonfinite_row(c, T, K * d); t >= 0)
                throw_bandit("run: contexts[" + std::to_string(t) + "] contains NaN or infinity");
              if (const auto t = first_nonfinite_row(r, T, K); t >= 0)
                throw_bandit("run: rewards[" + std::to_string(t) + "] contains NaN or infinity");
              for (py::ssize_t t = 0; t < T; ++t) {
                Eigen::Map<const row_matrix> X(c + t * K * d, K, d);
                const auto a = static_cast<py::ssize_t>(p.select(X));
                arms(t) = a;
                p.update(X.row(a).transpose(), r[t * K + a]);
              }
              return 0;
            });
            return arms;
          },
          py::arg("contexts"), py::arg("rewards"),
          "Runs a whole stream in C++: at frame t choose among contexts[t] (K, d), observe rewards[t, a]. "
          "Returns the chosen arms. All or nothing: non-finite input raises before any update.")
      .def_property("alpha", INCISION_PY_GET(py_linucb, p.alpha()),
                    [](py_linucb& self, double a) {
                      self.write([&](auto& p) {
                        p.set_alpha(a);
                        return 0;
                      });
                    })
      .def_property_readonly("dim", INCISION_PY_GET(py_linucb, p.dim()))
      .def_property_readonly("theta", INCISION_PY_GET(py_linucb, Eigen::VectorXd(p.stats().theta())))
      .def_property_readonly("inverse", INCISION_PY_GET(py_linucb, Eigen::MatrixXd(p.stats().inverse())), "A^-1")
      .def_property_readonly("gram", INCISION_PY_GET(py_linucb, Eigen::MatrixXd(p.stats().gram())), "A")
      .def_property_readonly("moment", INCISION_PY_GET(py_linucb, Eigen::VectorXd(p.stats().moment())), "b")
      .def_property_readonly("log_det", INCISION_PY_GET(py_linucb, p.stats().log_det()))
      .def_property_readonly("n_updates", INCISION_PY_GET(py_linucb, p.stats().n_updates()));
}

void bind_disjoint(py::module_& m) {
  auto cls = bind_learner_family<disjoint_family>(m, "DisjointLinUCB", R"doc(
Disjoint LinUCB: one ridge model per arm (Li et al., WWW 2010, Algorithm 1).

``select(x)`` returns argmax_k x.theta_k + alpha*sqrt(x^T A_k^-1 x) for one (d,) context;
``update(arm, x, reward)`` updates that arm only. ``gamma``/``window`` as for LinUCB.)doc");
  cls.def(py::init([](std::size_t n_arms, std::size_t dim, double alpha, double reg, std::optional<double> gamma,
                      std::optional<std::size_t> window) {
            return py_disjoint(disjoint_family::make(n_arms, dim, alpha, reg, gamma, window));
          }),
          py::arg("n_arms"), py::arg("dim"), py::arg("alpha") = 1.0, py::arg("reg") = 1.0, py::kw_only(),
          py::arg("gamma") = py::none(), py::arg("window") = py::none())
      .def(
          "select",
          [](const py_disjoint& self, const Eigen::Ref<const Eigen::VectorXd>& x) {
            return self.read([&](const auto& p) { return p.select(x); });
          },
          py::arg("x"))
      .def(
          "scores",
          [](const py_disjoint& self, const Eigen::Ref<const Eigen::VectorXd>& x) {
            return self.read([&](const auto& p) {
              Eigen::VectorXd out(static_cast<Eigen::Index>(p.n_arms()));
              p.scores(x, out);
              return out;
            });
          },
          py::arg("x"))
      .def(
          "update",
          [](py_disjoint& self, std::size_t arm, const Eigen::Ref<const Eigen::VectorXd>& x, double reward) {
            self.write([&](auto& p) {
              p.update(arm, x, reward);
              return 0;
            });
          },
          py::arg("arm"), py::arg("x"), py::arg("reward"))
      .def(
          "run",
          [](py_disjoint& self, const Eigen::Ref<const row_matrix>& contexts,
             const Eigen::Ref<const row_matrix>& rewards) {
            // The Refs view the callers' arrays (or the argument casters' converted copies): both outlive the call.
            index_vector arms(contexts.rows());
            self.transact([&](auto& p) {
              const auto n = static_cast<Eigen::Index>(p.n_arms());
              if (rewards.rows() != contexts.rows() || rewards.cols() != n ||
                  (contexts.rows() > 0 && static_cast<std::size_t>(contexts.cols()) != p.dim()))
                throw_bandit("run expects contexts (T, " + std::to_string(p.dim()) + ") and rewards (T, " +
                             std::to_string(n) + ")");
              for (Eigen::Index t = 0; t < contexts.rows(); ++t)
                if (!contexts.row(t).allFinite())
                  throw_bandit("run: contexts[" + std::to_string(t) + "] contains NaN or infinity");
              for (Eigen::Index t = 0; t < rewards.rows(); ++t)
                if (!rewards.row(t).allFinite())
                  throw_bandit("run: rewards[" + std::to_string(t) + "] contains NaN or infinity");
              for (Eigen::Index t = 0; t < contexts.rows(); ++t) {
                const auto a = p.select(contexts.row(t).transpose());
                arms(t) = static_cast<std::int64_t>(a);
                p.update(a, contexts.row(t).transpose(), rewards(t, static_cast<Eigen::Index>(a)));
              }
              return 0;
            });
            return arms;
          },
          py::arg("contexts"), py::arg("rewards"),
          "Runs a whole stream in C++ (contexts (T, d), rewards (T, n_arms)); returns the chosen arms. "
          "All or nothing: non-finite input raises before any update.")
      .def_property("alpha", INCISION_PY_GET(py_disjoint, p.alpha()),
                    [](py_disjoint& self, double a) {
                      self.write([&](auto& p) {
                        p.set_alpha(a);
                        return 0;
                      });
                    })
      .def_property_readonly("n_arms", INCISION_PY_GET(py_disjoint, p.n_arms()))
      .def_property_readonly("dim", INCISION_PY_GET(py_disjoint, p.dim()))
      .def(
          "theta",
          [](const py_disjoint& self, std::size_t arm) {
            return self.read([&](const auto& p) { return Eigen::VectorXd(p.stats(arm).theta()); });
          },
          py::arg("arm"))
      .def(
          "inverse",
          [](const py_disjoint& self, std::size_t arm) {
            return self.read([&](const auto& p) { return Eigen::MatrixXd(p.stats(arm).inverse()); });
          },
          py::arg("arm"))
      .def(
          "n_updates",
          [](const py_disjoint& self, std::size_t arm) {
            return self.read([&](const auto& p) { return p.stats(arm).n_updates(); });
          },
          py::arg("arm"));
}

void bind_mu(py::module_& m) {
  auto cls = bind_learner_family<mu_family>(m, "MuLinUCB", R"doc(
muLinUCB (ANS; Zhang, Chen, Xu, WWW 2021): learns the DNN cut online.

``contexts`` (K, d): one row per partition point describing the server-side part; an all-zero
row is the all-on-device arm. ``front_delay`` (K,): known on-device delays in seconds.
``select(key_frame)`` advances the frame schedule and returns the cut (lower confidence bound
on the delay, exploration scaled by sqrt(1 - L), forced sampling of an offloading arm every
ceil(T^mu) frames with a doubling horizon T from ``initial_horizon``); ``update(arm,
offload_delay)`` feeds back the measured offloading delay (ignored for on-device arms).
Defaults are the official code's constants. Deviations (named): ``reg``*I prior instead of a
random diagonal, ``scaling='column_max'`` feature scaling (``'none'`` for raw contexts).
``gamma`` (discounted) or ``window`` (sliding window) add forgetting (not in ANS).)doc");
  const ib::mu_linucb_options defaults{};  // the Python defaults are the C++ ones
  cls.def(py::init([](const Eigen::Ref<const Eigen::MatrixXd>& contexts, const Eigen::Ref<const Eigen::VectorXd>& front,
                      double reg, const std::string& scaling, double mu, std::uint64_t initial_horizon, double delta,
                      double c_noise, double c_theta, double l_key, double l_nonkey, std::optional<double> alpha,
                      bool forced_sampling, bool arm_cache, std::optional<double> gamma,
                      std::optional<std::size_t> window) {
            return py_mu(mu_family::make(contexts, front, reg, scaling, mu, initial_horizon, delta, c_noise, c_theta,
                                         l_key, l_nonkey, alpha, forced_sampling, arm_cache, gamma, window));
          }),
          py::arg("contexts"), py::arg("front_delay"), py::kw_only(), py::arg("reg") = defaults.reg,
          py::arg("scaling") = scaling_name(defaults.scaling), py::arg("mu") = defaults.mu,
          py::arg("initial_horizon") = defaults.initial_horizon, py::arg("delta") = defaults.delta,
          py::arg("c_noise") = defaults.c_noise, py::arg("c_theta") = defaults.c_theta,
          py::arg("l_key") = defaults.l_key, py::arg("l_nonkey") = defaults.l_nonkey, py::arg("alpha") = defaults.alpha,
          py::arg("forced_sampling") = defaults.forced_sampling, py::arg("arm_cache") = defaults.arm_cache,
          py::arg("gamma") = py::none(), py::arg("window") = py::none())
      .def(
          "select",
          [](py_mu& self, bool key_frame) { return self.write([&](auto& p) { return p.select(key_frame); }); },
          py::arg("key_frame") = false, "Next frame's cut.")
      .def(
          "select_weighted",
          [](py_mu& self, double L) { return self.write([&](auto& p) { return p.select_weighted(L); }); }, py::arg("L"),
          "Next frame's cut with an explicit key-frame weight L in [0, 1).")
      .def(
          "update",
          [](py_mu& self, std::size_t arm, double delay) {
            self.write([&](auto& p) {
              p.update(arm, delay);
              return 0;
            });
          },
          py::arg("arm"), py::arg("offload_delay"))
      .def(
          "estimates",
          [](const py_mu& self, double L) { return self.read([&](const auto& p) { return p.estimates(L); }); },
          py::arg("L") = 0.2, "Current delay estimates (lower confidence bounds) per arm.")
      .def(
          "run",
          [](py_mu& self, const Eigen::Ref<const row_matrix>& offload_delays,
             const std::optional<Eigen::VectorXd>& key_weight) {
            // key_weight is an owned copy: an optional Ref would view a conversion freed after loading.
            index_vector arms(offload_delays.rows());
            const Eigen::VectorXd empty;
            const auto s = self.transact(
                [&](auto& p) { return ib::simulate_table(p, offload_delays, key_weight ? *key_weight : empty, arms); });
            return py::make_tuple(arms, summary_dict(s));
          },
          py::arg("offload_delays"), py::arg("key_weight") = py::none(),
          "Runs a stream in C++ over a (T, K) offloading-delay table; returns (arms, summary).")
      .def(
          "simulate",
          [](py_mu& self, const Eigen::Ref<const Eigen::MatrixXd>& thetas, const index_vector& segment_frames,
             double noise, std::uint64_t seed, double key_prob) {
            if (segment_frames.size() == 0) throw_bandit("simulate: segment_frames is empty");
            std::int64_t total = 0;  // each count <= the cap, so the running sum cannot overflow
            for (Eigen::Index s = 0; s < segment_frames.size(); ++s) {
              const auto n = segment_frames(s);
              if (n < 0) throw_bandit("simulate: segment_frames[" + std::to_string(s) + "] is negative");
              if (n > max_simulate_frames - total)
                throw_bandit("simulate: more than " + std::to_string(max_simulate_frames) +
                             " frames in all (segment_frames sum too large)");
              total += n;
            }
            index_vector arms(total);
            Eigen::VectorXd delays(total);
            const auto s = self.transact([&](auto& p) {
              return ib::simulate_linear(p, thetas, segment_frames, noise, seed, key_prob, arms, delays);
            });
            return py::make_tuple(arms, delays, summary_dict(s));
          },
          py::arg("thetas"), py::arg("segment_frames"), py::arg("noise") = 0.0, py::arg("seed") = 0,
          py::arg("key_prob") = 0.0,
          "Runs a stream in C++ against offload delay = raw_context . thetas[s] + N(0, noise^2) in segment s "
          "(segment_frames[s] >= 0 frames each, at most 2**27 frames in all). Returns (arms, end-to-end "
          "delays, summary).")
      .def_property_readonly("alpha", INCISION_PY_GET(py_mu, p.alpha()))
      .def_property_readonly("last_forced", INCISION_PY_GET(py_mu, p.last_forced()))
      .def_property_readonly("horizon", INCISION_PY_GET(py_mu, p.horizon()))
      .def_property_readonly("forced_period", INCISION_PY_GET(py_mu, p.forced_period()))
      .def_property_readonly("n_frames", INCISION_PY_GET(py_mu, p.n_frames()))
      .def_property_readonly("n_arms", INCISION_PY_GET(py_mu, p.n_arms()))
      .def_property_readonly("dim", INCISION_PY_GET(py_mu, p.dim()))
      .def_property_readonly("c_x", INCISION_PY_GET(py_mu, p.c_x()))
      .def_property_readonly("feature_scale", INCISION_PY_GET(py_mu, Eigen::VectorXd(p.feature_scale())))
      .def_property_readonly("theta", INCISION_PY_GET(py_mu, Eigen::VectorXd(p.stats().theta())),
                             "theta in the scaled feature space")
      .def_property_readonly("inverse", INCISION_PY_GET(py_mu, Eigen::MatrixXd(p.stats().inverse())))
      .def_property_readonly("gram", INCISION_PY_GET(py_mu, Eigen::MatrixXd(p.stats().gram())))
      .def_property_readonly("moment", INCISION_PY_GET(py_mu, Eigen::VectorXd(p.stats().moment())))
      .def_property_readonly("n_updates", INCISION_PY_GET(py_mu, p.stats().n_updates()))
      .def(
          "scaled_context",
          [](const py_mu& self, std::size_t arm) {
            return self.read([&](const auto& p) { return Eigen::VectorXd(p.scaled_context(arm)); });
          },
          py::arg("arm"))
      .def(
          "is_local_arm",
          [](const py_mu& self, std::size_t arm) {
            return self.read([&](const auto& p) { return p.is_local_arm(arm); });
          },
          py::arg("arm"))
      .def(
          "set_prior",
          [](py_mu& self, const Eigen::Ref<const Eigen::VectorXd>& diag) {
            self.write([&](auto& p) {
              p.set_stats(plain_stats(diag));
              return 0;
            });
          },
          py::arg("diagonal"),
          "Replaces the statistics by an empty diagonal prior A = diag(diagonal), b = 0 (e.g. the official "
          "code's random diagonal), keeping the frame schedule.");
}

#undef INCISION_PY_GET

}  // namespace

void register_bandit(py::module_& m) {
  bind_linucb(m);
  bind_disjoint(m);
  bind_mu(m);
}
