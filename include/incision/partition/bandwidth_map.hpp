/// @file
/// @brief bandwidth_map: every latency-optimal plan of a layer graph over a bandwidth range,
/// with its exact breakpoints, from a few DSL min-cuts; O(log k) lookup.
///
/// For a fixed plan the latency is a + s/B (a: compute, download and RTT; s: shipped bytes), a
/// line in u = 1/B. The optimal latency is the lower envelope of these lines, concave in u.
/// Construction (the classic scheme for parametric problems whose optimum is a lower envelope of
/// lines, e.g. Eisner & Severance, J. ACM 23(4), 1976): solve at both ends of the range,
/// intersect the two lines, solve at the intersection; if the optimum there lies below both
/// lines a new plan exists, recurse on both halves, otherwise the intersection is a breakpoint.
/// k plans cost at most 2k - 1 min-cuts. Building on DSL makes this an extension of DADS.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/detail/tie.hpp>
#include <incision/partition/dsl.hpp>
#include <incision/partition/layer_graph.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/plan.hpp>
#include <incision/partition/pricing.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief The piecewise-optimal plan over [min_bandwidth, max_bandwidth] (bytes/second).
class bandwidth_map {
 public:
  /// @brief Builds the map. The link supplies RTT and download rate; its bandwidth is ignored.
  /// @throws invalid_argument unless 0 < min_bandwidth <= max_bandwidth (max may be +infinity).
  template <class Oracle, class Link>
  bandwidth_map(const layer_graph& g, const Oracle& oracle, const Link& link, double min_bandwidth,
                double max_bandwidth);
  /// @brief Map with the profile stored in @p g, no RTT, free download.
  bandwidth_map(const layer_graph& g, double min_bandwidth, double max_bandwidth)
      : bandwidth_map(g, g, simple_link(1.0), min_bandwidth, max_bandwidth) {}

  /// @brief Number of distinct optimal plans k.
  [[nodiscard]] std::size_t size() const noexcept { return plans_.size(); }
  /// @brief The plans, from the highest bandwidth to the lowest. Each is priced at the
  /// bandwidth where the construction solved it (a range end or a breakpoint); at() prices one
  /// at the bandwidth asked for.
  [[nodiscard]] const std::vector<plan>& plans() const noexcept { return plans_; }
  /// @brief The k-1 breakpoints in bytes/second, decreasing: plan i is optimal on
  /// [breakpoints()[i], breakpoints()[i-1]].
  [[nodiscard]] std::vector<double> breakpoints() const;
  [[nodiscard]] double min_bandwidth() const noexcept { return bmin_; }
  [[nodiscard]] double max_bandwidth() const noexcept { return bmax_; }
  /// @brief Index of the optimal plan at @p bandwidth (binary search, O(log k)).
  /// @throws out_of_range outside [min_bandwidth, max_bandwidth].
  [[nodiscard]] std::size_t index(double bandwidth) const;
  /// @brief The optimal plan at @p bandwidth, priced at @p bandwidth (upload time, latency and
  /// max stage; the other times do not depend on it). @throws out_of_range as index().
  [[nodiscard]] plan at(double bandwidth) const;
  /// @brief The optimal latency at @p bandwidth (a + s / B of the optimal plan).
  [[nodiscard]] double latency(double bandwidth) const {
    const std::size_t i = index(bandwidth);
    return intercept_[i] + detail::transfer(slope_[i], bandwidth);
  }
  /// @brief Number of min-cuts the construction used.
  [[nodiscard]] std::size_t solves() const noexcept { return solves_; }

 private:
  std::vector<plan> plans_;
  std::vector<double> intercept_, slope_;  // latency = intercept + slope / B
  std::vector<double> breaks_u_;           // increasing in u = 1/B
  double bmin_ = 0.0, bmax_ = 0.0;
  std::size_t solves_ = 0;
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

template <class Oracle, class Link>
bandwidth_map::bandwidth_map(const layer_graph& g, const Oracle& oracle, const Link& link, double min_bandwidth,
                             double max_bandwidth) {
  INCISION_PARTITION_CHECK_ORACLE("bandwidth_map", Oracle);
  INCISION_PARTITION_CHECK_LINK("bandwidth_map", Link);
  if (!(min_bandwidth > 0.0) || !std::isfinite(min_bandwidth) || !(max_bandwidth >= min_bandwidth))
    INCISION_THROW(invalid_argument(incision::detail::message(
        "partition", "bandwidth_map: need 0 < min_bandwidth <= max_bandwidth, got [" + std::to_string(min_bandwidth) +
                         ", " + std::to_string(max_bandwidth) + "]")));
  const detail::link_values l = detail::resolve_link_at(link, 1.0);  // bandwidth: swept below
  bmin_ = min_bandwidth;
  bmax_ = max_bandwidth;
  dsl_solver solver;
  solver.assign(g, oracle);
  struct line {
    plan p;
    double a, s;
  };
  auto solve_at = [&](double u) {
    detail::link_values lu = l;
    lu.bandwidth = u == 0.0 ? std::numeric_limits<double>::infinity() : 1.0 / u;
    ++solves_;
    line ln{solver.solve(lu), 0.0, 0.0};
    ln.s = ln.p.shipped_bytes;
    ln.a = ln.p.latency - ln.p.upload_time;
    return ln;
  };
  const double u_lo = 1.0 / max_bandwidth;  // 0 for an infinite maximum
  const double u_hi = 1.0 / min_bandwidth;
  // in-order recursion with an explicit stack of (left line index, right line)
  std::vector<line> out;
  out.push_back(solve_at(u_lo));
  std::vector<double> breaks;
  if (u_hi > u_lo) {
    std::vector<line> pending{solve_at(u_hi)};
    while (!pending.empty()) {
      const line& left = out.back();
      line right = pending.back();
      const bool same = right.s == left.s && std::abs(right.a - left.a) <= detail::tie_rel * std::max(left.a, right.a);
      if (same) {
        pending.pop_back();
        continue;
      }
      const double ds = left.s - right.s;
      const double u_star = ds > 0.0 ? (right.a - left.a) / ds : u_hi;
      const double u_left = breaks.empty() ? u_lo : breaks.back();
      if (ds > 0.0 && !(u_star > u_left)) {
        // left is optimal only at the single point u_left (a tie there): right replaces it
        out.back() = std::move(right);
        pending.pop_back();
        continue;
      }
      if (!(ds > 0.0) || !(u_star < u_hi)) {
        // right is optimal only at u_hi (a tie) or indistinguishable from left: drop it
        pending.pop_back();
        continue;
      }
      line mid = solve_at(u_star);
      const double env = left.a + left.s * u_star;
      // no plan below the envelope by more than the tie tolerance: a breakpoint
      if (detail::tie_or_less(env, mid.p.latency) || (mid.s == left.s) || (mid.s == right.s)) {
        breaks.push_back(u_star);
        out.push_back(std::move(right));
        pending.pop_back();
      } else {
        pending.push_back(std::move(mid));
      }
    }
  }
  breaks_u_ = std::move(breaks);
  for (auto& ln : out) {
    intercept_.push_back(ln.a);
    slope_.push_back(ln.s);
    plans_.push_back(std::move(ln.p));
  }
}

inline std::vector<double> bandwidth_map::breakpoints() const {
  std::vector<double> b;
  b.reserve(breaks_u_.size());
  for (const double u : breaks_u_) b.push_back(1.0 / u);
  return b;
}

inline plan bandwidth_map::at(double bandwidth) const {
  plan p = plans_[index(bandwidth)];
  // the stored plan carries the times of the bandwidth it was solved at; only the upload
  // depends on the bandwidth (latency = a + s / B, the same line latency() reads)
  p.upload_time = detail::transfer(p.shipped_bytes, bandwidth);
  p.latency = p.device_time + p.upload_time + p.server_time + p.download_time + p.rtt;
  p.max_stage = std::max(std::max(p.device_time, p.upload_time), std::max(p.server_time, p.download_time));
  return p;
}

inline std::size_t bandwidth_map::index(double bandwidth) const {
  if (!(bandwidth >= bmin_ && bandwidth <= bmax_))
    INCISION_THROW(out_of_range(
        incision::detail::message("partition", "bandwidth_map: bandwidth " + std::to_string(bandwidth) + " outside [" +
                                                   std::to_string(bmin_) + ", " + std::to_string(bmax_) + "]")));
  const double u = 1.0 / bandwidth;
  return static_cast<std::size_t>(std::upper_bound(breaks_u_.begin(), breaks_u_.end(), u) - breaks_u_.begin());
}

}  // namespace partition
INCISION_END_NAMESPACE
