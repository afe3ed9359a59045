// Binding helpers for incision::bandit: each Python learner holds one of three statistics
// policies (plain ridge, discounted, sliding window) chosen at construction.
#pragma once

#include "bindings/common.hpp"

#include <incision/bandit.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace incision_py {

namespace ib = incision::bandit;
constexpr int dyn = Eigen::Dynamic;

using plain_stats = ib::ridge_stats<dyn>;
using disc_stats = ib::discounted_stats<dyn>;
using win_stats = ib::window_stats<dyn>;

/// Which statistics policy the keyword arguments ask for.
inline int policy_of(const std::optional<double>& gamma, const std::optional<std::size_t>& window) {
  if (gamma && window)
    throw incision::invalid_argument(
        incision::detail::message("bandit", "give at most one of gamma and window"));
  if (gamma) return 1;
  if (window) return 2;
  return 0;
}

/// Reads the policy tag from a sealed learner snapshot (byte 16 of the envelope = first payload byte).
inline std::uint8_t snapshot_policy(std::span<const std::byte> b, std::uint16_t kind, const char* what) {
  const auto payload = incision::detail::unseal(b, kind, what);
  if (payload.empty()) incision::detail::byte_reader(payload, what).fail("empty payload");
  return std::to_integer<std::uint8_t>(payload[0]);
}

template <class... T>
struct overloaded : T... {
  using T::operator()...;
};
template <class... T>
overloaded(T...) -> overloaded<T...>;

}  // namespace incision_py
