// The round trip written once: exchange() against the messages sent by hand, run_lockstep()
// against a hand-written loop, validation before any change.
#include <incision/federated/aggregator.hpp>
#include <incision/federated/exchange.hpp>
#include <incision/federated/linucb_dw.hpp>
#include <incision/federated/messages.hpp>

#include "fed_support.hpp"

#include <doctest/doctest.h>

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <variant>
#include <vector>

namespace fed = incision::federated;
using fed_test::linear_env;

namespace {

fed::fed_linucb_dw_options opts(double threshold) {
  fed::fed_linucb_dw_options o;
  o.upload_threshold = threshold;
  return o;
}

fed::delay_table delays_for(const linear_env& env, Eigen::Index frames, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto k = static_cast<Eigen::Index>(env.arms.front.size());
  fed::delay_table t(frames, k);
  for (Eigen::Index f = 0; f < frames; ++f)
    for (Eigen::Index a = 0; a < k; ++a) t(f, a) = env.sample_offload(static_cast<std::size_t>(a), rng);
  return t;
}

bool same_learner(const fed::fed_linucb_dw<>& a, const fed::fed_linucb_dw<>& b) {
  return a.stats().gram() == b.stats().gram() && a.stats().moment() == b.stats().moment() &&
         a.buffered() == b.buffered() && a.n_uploads() == b.n_uploads() &&
         a.learner().n_frames() == b.learner().n_frames() && a.sync_version() == b.sync_version();
}

}  // namespace

TEST_CASE("federated exchange: one call does what the three messages by hand do") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  fed::fed_aggregator edge_a, edge_b;
  fed::fed_linucb_dw<> a(1, "g", env.arms.contexts, env.arms.front, opts(0.0));
  fed::fed_linucb_dw<> b(1, "g", env.arms.contexts, env.arms.front, opts(0.0));
  (void)a.receive(edge_a.handle(a.hello()));
  (void)b.receive(edge_b.handle(b.hello()));
  CHECK_THROWS_AS((void)fed::exchange(a, edge_a), incision::invalid_argument);  // nothing buffered
  CHECK(same_learner(a, b));
  CHECK(edge_a.traffic().messages_in == edge_b.traffic().messages_in);
  for (std::size_t t = 0; t < 20; ++t) {
    a.update(3 + t % 5, 0.1 + 0.01 * static_cast<double>(t));
    b.update(3 + t % 5, 0.1 + 0.01 * static_cast<double>(t));
    const auto r = fed::exchange(a, edge_a);
    const auto up = b.make_upload();
    const auto ack = edge_b.handle(up);
    CHECK(b.receive(ack) == fed::fed_event::acked);
    const auto down = edge_b.download_for(1);
    CHECK(b.receive(down) == fed::fed_event::download_applied);
    CHECK(r.reply == fed::fed_event::acked);
    CHECK(r.downloaded);
    CHECK(r.bytes == up.size() + ack.size() + down.size());
    CHECK(same_learner(a, b));
    CHECK(edge_a.group_gram("g") == edge_b.group_gram("g"));
  }
  // A refused upload: no download, the data stays buffered for a retry.
  fed::fed_aggregator_options small;
  small.max_message_bytes = 64;
  fed::fed_aggregator tiny(small);
  a.update(4, 0.2);
  const auto r = fed::exchange(a, tiny);
  CHECK(r.reply == fed::fed_event::rejected);
  CHECK_FALSE(r.downloaded);
  CHECK(a.buffered() == 1);
  CHECK_FALSE(a.upload_in_flight());
}

TEST_CASE("federated run_lockstep: equals the loop written by hand, and validates before any change") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  constexpr Eigen::Index frames = 300;
  const std::vector<fed::delay_table> tables = {delays_for(env, frames, 1), delays_for(env, frames, 2),
                                                delays_for(env, frames, 3)};
  fed::key_frame_table key(3, frames);
  for (Eigen::Index i = 0; i < key.size(); ++i) key(i) = i % 7 == 2;
  auto make = [&](std::vector<fed::fed_linucb_dw<>>& devs, fed::fed_aggregator& edge) {
    for (std::uint64_t id = 1; id <= 3; ++id) {
      devs.emplace_back(id, "g", env.arms.contexts, env.arms.front, opts(1.0));
      (void)devs.back().receive(edge.handle(devs.back().hello()));
    }
  };
  fed::fed_aggregator edge_a, edge_b;
  std::vector<fed::fed_linucb_dw<>> a, b;
  a.reserve(3);
  b.reserve(3);
  make(a, edge_a);
  make(b, edge_b);
  std::vector<fed::fed_linucb_dw<>*> ptrs{&a[0], &a[1], &a[2]};
  std::vector<Eigen::Ref<const fed::delay_table>> refs(tables.begin(), tables.end());

  SUBCASE("bad inputs throw and change nothing") {
    auto unchanged = [&] {
      for (std::size_t i = 0; i < 3; ++i) CHECK(same_learner(a[i], b[i]));
      CHECK(edge_a.group_version("g") == 0);
    };
    std::vector<Eigen::Ref<const fed::delay_table>> two(tables.begin(), tables.begin() + 2);
    CHECK_THROWS_AS((void)fed::run_lockstep(ptrs, &edge_a, two, key), incision::invalid_argument);
    CHECK_THROWS_AS((void)fed::run_lockstep(ptrs, &edge_a, refs, key.topRows(2)), incision::invalid_argument);
    const fed::delay_table narrow = tables[1].leftCols(5);
    std::vector<Eigen::Ref<const fed::delay_table>> shaped{tables[0], narrow, tables[2]};
    CHECK_THROWS_AS((void)fed::run_lockstep(ptrs, &edge_a, shaped, key), incision::invalid_argument);
    fed::delay_table nan = tables[2];
    nan(frames - 1, 4) = std::numeric_limits<double>::quiet_NaN();  // the last frame: found first anyway
    std::vector<Eigen::Ref<const fed::delay_table>> with_nan{tables[0], tables[1], nan};
    CHECK_THROWS_AS((void)fed::run_lockstep(ptrs, &edge_a, with_nan, key), incision::invalid_argument);
    std::vector<fed::fed_linucb_dw<>*> twice{&a[0], &a[1], &a[0]};
    CHECK_THROWS_AS((void)fed::run_lockstep(twice, &edge_a, refs, key), incision::invalid_argument);
    std::vector<fed::fed_linucb_dw<>*> null{&a[0], nullptr, &a[2]};
    CHECK_THROWS_AS((void)fed::run_lockstep(null, &edge_a, refs, key), incision::invalid_argument);
    unchanged();
  }
  SUBCASE("the same arms and statistics as the hand loop") {
    const auto arms = fed::run_lockstep(ptrs, &edge_a, refs, key);
    REQUIRE(arms.rows() == 3);
    REQUIRE(arms.cols() == frames);
    std::size_t mismatches = 0;
    for (Eigen::Index t = 0; t < frames; ++t)
      for (std::size_t i = 0; i < 3; ++i) {
        auto& dev = b[i];
        const std::size_t arm = dev.select(key(static_cast<Eigen::Index>(i), t));
        if (arms(static_cast<Eigen::Index>(i), t) != static_cast<std::int64_t>(arm)) ++mismatches;
        if (dev.learner().is_local_arm(arm)) continue;
        dev.update(arm, tables[i](t, static_cast<Eigen::Index>(arm)));
        if (dev.wants_upload()) {
          (void)dev.receive(edge_b.handle(dev.make_upload()));
          (void)dev.receive(edge_b.download_for(dev.device_id()));
        }
      }
    CHECK(mismatches == 0);
    for (std::size_t i = 0; i < 3; ++i) CHECK(same_learner(a[i], b[i]));
    CHECK(edge_a.group_version("g") == edge_b.group_version("g"));
    CHECK(edge_a.group_version("g") > 0);
    CHECK(edge_a.group_gram("g") == edge_b.group_gram("g"));
    // Without an edge nobody uploads.
    const auto alone = fed::run_lockstep(ptrs, nullptr, refs, key);
    CHECK(alone.cols() == frames);
    for (const auto* d : ptrs) CHECK_FALSE(d->upload_in_flight());
  }
}
