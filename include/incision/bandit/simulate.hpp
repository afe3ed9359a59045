/// @file
/// @brief Batched simulation of a cut learner against a delay model, entirely in C++.
///
/// Used by the Python batch methods (one call runs a whole stream, no per-frame interpreter
/// cost), by the demo and by the forgetting experiments. Two environments:
/// - a delay table: the offloading delay of every arm at every frame is given (T x K);
/// - a piecewise-linear model: in segment s the offloading delay of arm p is
///   x_p.theta_s + N(0, noise^2) on the raw context x_p (the ANS model: per-MAC server times,
///   per-layer overheads and 1/bandwidth), which makes abrupt bandwidth changes easy to script.
/// The on-device arm observes nothing; its delay is its front-end delay.
#pragma once

#include <incision/bandit/detail/error.hpp>
#include <incision/config.hpp>
#include <incision/detail/random.hpp>
#include <incision/error.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

INCISION_BEGIN_NAMESPACE
namespace bandit {

/// @brief Totals of one simulated stream.
struct simulation_summary {
  double total_delay = 0.0;   ///< sum over frames of front + offloading delay of the chosen arm
  double oracle_delay = 0.0;  ///< the same for the best arm in expectation, frame by frame
  std::uint64_t frames = 0;
  std::uint64_t oracle_hits = 0;  ///< frames where the chosen arm was the expected-best one
};

/// @brief Runs `learner` (select_weighted / update / contexts / front_delay / n_arms / is_local_arm)
/// over a delay table: offload(t, k) is the offloading delay of arm k at frame t.
/// @param key_weight per-frame weight L (size T), or empty for L = learner.options().l_nonkey.
/// @param arms_out size T, receives the chosen arm per frame.
/// @throws invalid_argument on shape mismatch or non-finite delays (learner unchanged).
template <class Learner, class Table>
simulation_summary simulate_table(Learner& learner, const Eigen::MatrixBase<Table>& offload,
                                  const Eigen::Ref<const Eigen::VectorXd>& key_weight,
                                  Eigen::Ref<Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>> arms_out) {
  const auto k = static_cast<Eigen::Index>(learner.n_arms());
  if (offload.cols() != k)
    detail::throw_invalid("delay table has " + std::to_string(offload.cols()) + " columns, expected " +
                          std::to_string(k) + " (one per arm)");
  if (arms_out.size() != offload.rows()) detail::throw_invalid("output has the wrong length");
  if (key_weight.size() != 0 && key_weight.size() != offload.rows())
    detail::throw_invalid("key-frame weights must have one entry per frame");
  if (!detail::all_finite(offload)) detail::throw_invalid("delay table contains NaN or infinity");
  for (Eigen::Index t = 0; t < key_weight.size(); ++t)
    if (!(key_weight(t) >= 0.0 && key_weight(t) < 1.0)) detail::throw_invalid("key-frame weights must be in [0, 1)");
  const double l_default = learner.options().l_nonkey;
  const auto& front = learner.front_delay();
  simulation_summary s;
  for (Eigen::Index t = 0; t < offload.rows(); ++t) {
    const double l = key_weight.size() != 0 ? key_weight(t) : l_default;
    const std::size_t a = learner.select_weighted(l);
    const auto ai = static_cast<Eigen::Index>(a);
    const bool local = learner.is_local_arm(a);
    const double delay = front(ai) + (local ? 0.0 : offload(t, ai));
    double best = 0.0;
    Eigen::Index best_arm = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      const double v = front(j) + (learner.is_local_arm(static_cast<std::size_t>(j)) ? 0.0 : offload(t, j));
      if (j == 0 || v < best) {
        best = v;
        best_arm = j;
      }
    }
    s.total_delay += delay;
    s.oracle_delay += best;
    s.oracle_hits += best_arm == ai ? 1U : 0U;
    arms_out(t) = static_cast<std::int64_t>(a);
    if (!local) learner.update(a, offload(t, ai));
  }
  s.frames = static_cast<std::uint64_t>(offload.rows());
  return s;
}

/// @brief Runs `learner` against the piecewise-linear delay model described in the file comment.
/// @param thetas S x d, one delay parameter vector per segment (raw context space).
/// @param segment_frames S frame counts; the stream has their sum of frames.
/// @param noise standard deviation of the Gaussian delay noise (>= 0).
/// @param seed seeds incision::detail::random_stream (portable: the same seed gives the same
/// stream with any standard library). Per frame: one uniform for the key-frame draw if
/// key_prob > 0, then one normal if the chosen arm offloads.
/// @param key_prob probability that a frame is a key frame (weight l_key, else l_nonkey).
/// @param arms_out receives the chosen arm per frame (size = total frames).
/// @param delay_out receives the realised end-to-end delay per frame (same size), or empty.
/// @throws invalid_argument on bad shapes, a negative frame count, frame counts whose sum
/// overflows, or outputs not sized to the sum (before any frame runs: learner unchanged).
template <class Learner>
simulation_summary simulate_linear(
    Learner& learner, const Eigen::Ref<const Eigen::MatrixXd>& thetas,
    const Eigen::Ref<const Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>>& segment_frames, double noise,
    std::uint64_t seed, double key_prob, Eigen::Ref<Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>> arms_out,
    Eigen::Ref<Eigen::VectorXd> delay_out) {
  const auto k = static_cast<Eigen::Index>(learner.n_arms());
  const auto& ctx = learner.contexts();
  if (thetas.cols() != ctx.cols() || thetas.rows() != segment_frames.size() || thetas.rows() < 1)
    detail::throw_invalid("thetas must be (segments, dim) with one row per segment");
  if (!detail::all_finite(thetas)) detail::throw_invalid("thetas contain NaN or infinity");
  if (!(noise >= 0.0) || !std::isfinite(noise)) detail::throw_invalid("noise must be finite and >= 0");
  if (!(key_prob >= 0.0 && key_prob <= 1.0)) detail::throw_invalid("key_prob must be in [0, 1]");
  // Frame counts: each >= 0 and their sum representable, checked before the outputs (whose
  // sizes must equal the sum) and before anything runs.
  std::int64_t total = 0;
  for (Eigen::Index s = 0; s < segment_frames.size(); ++s) {
    const std::int64_t f = segment_frames(s);
    if (f < 0)
      detail::throw_invalid("segment " + std::to_string(s) + " has a negative frame count " + std::to_string(f));
    if (f > std::numeric_limits<std::int64_t>::max() - total)
      detail::throw_invalid("the segment frame counts sum past 2^63 - 1 frames");
    total += f;
  }
  if (arms_out.size() != total || (delay_out.size() != 0 && delay_out.size() != total))
    detail::throw_invalid("outputs must have one entry per frame (" + std::to_string(total) + "), got " +
                          std::to_string(arms_out.size()) + " and " + std::to_string(delay_out.size()));
  incision::detail::random_stream rng(seed);  // portable: same seed, same stream everywhere
  const auto& front = learner.front_delay();
  const double l_key = learner.options().l_key;
  const double l_nonkey = learner.options().l_nonkey;
  Eigen::VectorXd expected(k);
  simulation_summary sum;
  Eigen::Index t = 0;
  for (Eigen::Index s = 0; s < segment_frames.size(); ++s) {
    expected.noalias() = ctx * thetas.row(s).transpose();
    Eigen::Index best_arm = 0;
    double best = 0.0;
    for (Eigen::Index j = 0; j < k; ++j) {
      if (learner.is_local_arm(static_cast<std::size_t>(j))) expected(j) = 0.0;
      const double v = front(j) + expected(j);
      if (j == 0 || v < best) {
        best = v;
        best_arm = j;
      }
    }
    for (std::int64_t i = 0; i < segment_frames(s); ++i, ++t) {
      const bool kf = key_prob > 0.0 && rng.bernoulli(key_prob);
      const std::size_t a = learner.select_weighted(kf ? l_key : l_nonkey);
      const auto ai = static_cast<Eigen::Index>(a);
      double delay = front(ai);
      if (!learner.is_local_arm(a)) {
        const double off = expected(ai) + noise * rng.normal();
        delay += off;
        learner.update(a, off);
      }
      sum.total_delay += delay;
      sum.oracle_delay += best;
      sum.oracle_hits += best_arm == ai ? 1U : 0U;
      arms_out(t) = static_cast<std::int64_t>(a);
      if (delay_out.size() != 0) delay_out(t) = delay;
    }
  }
  sum.frames = static_cast<std::uint64_t>(total);
  return sum;
}

}  // namespace bandit
INCISION_END_NAMESPACE
