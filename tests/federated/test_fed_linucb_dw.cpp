// FedLinUCB-DW device learner: equivalence with muLinUCB and with a central learner, group
// isolation, the O(d^2) log-det trigger against a direct Cholesky, consistency of in-flight
// uploads, warm start (helps when right, does not stop convergence when wrong), strong guarantee.
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/ridge_stats.hpp>
#include <incision/federated/aggregator.hpp>
#include <incision/federated/exchange.hpp>
#include <incision/federated/linucb_dw.hpp>

#include "fed_support.hpp"

#include <doctest/doctest.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace fed = incision::federated;
namespace ib = incision::bandit;
using fed_test::linear_env;

namespace {

constexpr double never = std::numeric_limits<double>::infinity();

fed::fed_linucb_dw_options opts(double threshold) {
  fed::fed_linucb_dw_options o;
  o.upload_threshold = threshold;
  return o;
}

bool key_frame(std::size_t t) { return t % 7 == 3; }

/// Uploads if the trigger fires and installs the uploader's fresh download (the simple sync mode).
void sync_if_wanted(fed::fed_linucb_dw<>& dev, fed::fed_aggregator& edge) {
  if (!dev.wants_upload()) return;
  const auto r = fed::exchange(dev, edge);
  CHECK(r.reply == fed::fed_event::acked);
  CHECK(r.downloaded);
}

double direct_log_det(const Eigen::MatrixXd& a) {
  Eigen::LLT<Eigen::MatrixXd> llt(a);
  return 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
}

}  // namespace

TEST_CASE("fed_linucb_dw: one device without offline data decides exactly as muLinUCB") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  for (const bool registered : {false, true}) {
    CAPTURE(registered);
    ib::mu_linucb<> ref(env.arms.contexts, env.arms.front);
    fed::fed_linucb_dw<> dev(1, "vgg16", env.arms.contexts, env.arms.front, opts(never));
    fed::fed_aggregator edge;
    if (registered) CHECK(dev.receive(edge.handle(dev.hello())) == fed::fed_event::download_applied);
    std::mt19937_64 rng(11);
    for (std::size_t t = 0; t < 3000; ++t) {
      const auto a = ref.select(key_frame(t));
      REQUIRE(dev.select(key_frame(t)) == a);
      const double y = env.sample_offload(a, rng);
      ref.update(a, y);
      dev.update(a, y);
    }
    CHECK(dev.stats().gram() == ref.stats().gram());
    CHECK(dev.stats().theta() == ref.stats().theta());
    CHECK(dev.n_uploads() == 0);
  }
}

TEST_CASE("fed_linucb_dw: one device synchronising every step still decides as muLinUCB") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  ib::mu_linucb<> ref(env.arms.contexts, env.arms.front);
  fed::fed_linucb_dw<> dev(1, "vgg16", env.arms.contexts, env.arms.front, opts(0.0));
  fed::fed_aggregator edge;
  dev.receive(edge.handle(dev.hello()));
  std::mt19937_64 rng(12);
  std::size_t offloads = 0;
  for (std::size_t t = 0; t < 1500; ++t) {
    const auto a = ref.select(key_frame(t));
    REQUIRE(dev.select(key_frame(t)) == a);
    const double y = env.sample_offload(a, rng);
    ref.update(a, y);
    dev.update(a, y);
    if (!ref.is_local_arm(a)) ++offloads;
    sync_if_wanted(dev, edge);
  }
  CHECK(dev.n_uploads() == offloads);  // threshold 0: every offloading observation is uploaded
  CHECK(edge.group_count("vgg16") == offloads);
  const double scale = ref.stats().gram().cwiseAbs().maxCoeff();
  CHECK((dev.stats().gram() - ref.stats().gram()).cwiseAbs().maxCoeff() <= 1e-12 * scale);
  CHECK((dev.stats().theta() - ref.stats().theta()).cwiseAbs().maxCoeff() <= 1e-8);
}

TEST_CASE("fed_linucb_dw: synchronising every step equals a central learner on the pooled data") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  const std::size_t m = 4;
  fed::fed_aggregator edge;
  std::vector<fed::fed_linucb_dw<>> devs;
  std::vector<ib::mu_linucb<>> oracle;  // one schedule per device, statistics replaced by the central one
  for (std::size_t i = 0; i < m; ++i) {
    devs.emplace_back(i + 1, "vgg16", env.arms.contexts, env.arms.front, opts(0.0));
    oracle.emplace_back(env.arms.contexts, env.arms.front);
    devs.back().receive(edge.handle(devs.back().hello()));
  }
  // The central learner adds every pooled observation in arrival order (Sherman-Morrison).
  ib::ridge_stats<> central(7, 1.0);
  Eigen::MatrixXd pooled_gram = Eigen::MatrixXd::Identity(7, 7);  // closed form: I + sum x x^T
  std::mt19937_64 rng(21);
  std::size_t mismatches = 0;
  for (std::size_t t = 0; t < 600; ++t) {
    for (std::size_t i = 0; i < m; ++i) {
      // Synchronise before acting too: the device pulls the group's latest statistics.
      devs[i].receive(edge.download_for(i + 1));
      oracle[i].set_stats(central);
      const auto expect = oracle[i].select(key_frame(t + i));
      const auto a = devs[i].select(key_frame(t + i));
      if (a != expect) ++mismatches;
      const double y = env.sample_offload(a, rng);
      devs[i].update(a, y);
      if (!devs[i].learner().is_local_arm(a)) {
        const Eigen::VectorXd x = devs[i].learner().scaled_context(a);
        central.add(x, y);
        pooled_gram += x * x.transpose();
      }
      sync_if_wanted(devs[i], edge);
      const double scale = pooled_gram.cwiseAbs().maxCoeff();
      REQUIRE((devs[i].stats().gram() - pooled_gram).cwiseAbs().maxCoeff() <= 1e-12 * scale);
    }
  }
  CHECK(mismatches == 0);
  for (const auto& d : devs) {
    // Each device holds what it knew at its last sync; the last one to act knows everything.
    CHECK(d.sync_count() <= edge.group_count("vgg16"));
  }
  CHECK((devs.back().stats().theta() - central.theta()).cwiseAbs().maxCoeff() <= 1e-8);
  CHECK(edge.group_count("vgg16") == central.n_updates());
}

TEST_CASE("fed_linucb_dw: a device of another type never receives a group's statistics") {
  const auto vgg = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  const auto yolo = linear_env::make(fed_test::load_arms("tiny_yolov2_arms.csv"), 5.85e6);
  fed::fed_aggregator edge;
  fed::fed_linucb_dw<> a(1, "vgg16", vgg.arms.contexts, vgg.arms.front, opts(0.0));
  fed::fed_linucb_dw<> b(2, "vgg16", vgg.arms.contexts, vgg.arms.front, opts(0.0));
  fed::fed_linucb_dw<> c(3, "tiny-yolov2", yolo.arms.contexts, yolo.arms.front, opts(0.0));
  for (auto* d : {&a, &b, &c}) d->receive(edge.handle(d->hello()));
  std::mt19937_64 rng(5);
  Eigen::MatrixXd yolo_gram = Eigen::MatrixXd::Identity(7, 7);
  for (std::size_t t = 0; t < 300; ++t) {
    for (auto* d : {&a, &b}) {
      const auto arm = d->select(false);
      d->update(arm, vgg.sample_offload(arm, rng));
      sync_if_wanted(*d, edge);
    }
    const auto arm = c.select(false);
    c.update(arm, yolo.sample_offload(arm, rng));
    if (!c.learner().is_local_arm(arm)) {
      const Eigen::VectorXd x = c.learner().scaled_context(arm);
      yolo_gram += x * x.transpose();
    }
    sync_if_wanted(c, edge);
    // Also fetch broadcasts of the own group: only yolo data ever reaches c.
    if (t % 50 == 0) c.receive(edge.broadcast("tiny-yolov2"));
    REQUIRE((c.stats().gram() - yolo_gram).cwiseAbs().maxCoeff() <= 1e-9 * yolo_gram.cwiseAbs().maxCoeff());
  }
  CHECK(edge.group_count("vgg16") > 0);
  // A download of the other group is refused and changes nothing.
  const Eigen::MatrixXd before = c.stats().gram();
  const auto traffic = c.traffic();
  CHECK_THROWS_AS(c.receive(edge.broadcast("vgg16")), incision::invalid_argument);
  CHECK_THROWS_AS(c.receive(edge.download_for(1)), incision::invalid_argument);
  CHECK(c.stats().gram() == before);
  CHECK(c.traffic().messages_in == traffic.messages_in);
  // Same arms but another group name: its devices stay apart too.
  fed::fed_linucb_dw<> other(4, "vgg16-b", vgg.arms.contexts, vgg.arms.front, opts(0.0));
  other.receive(edge.handle(other.hello()));
  CHECK(other.sync_count() == 0);
  CHECK(other.stats().gram() == Eigen::MatrixXd::Identity(7, 7));
}

TEST_CASE("fed_linucb_dw: the upload score is the log-det ratio, kept without a determinant") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  fed::fed_aggregator edge;
  fed::fed_linucb_dw<> dev(1, "vgg16", env.arms.contexts, env.arms.front, opts(2.0));
  fed::fed_linucb_dw<> peer(2, "vgg16", env.arms.contexts, env.arms.front, opts(0.5));
  dev.receive(edge.handle(dev.hello()));
  peer.receive(edge.handle(peer.hello()));
  std::mt19937_64 rng(8);
  Eigen::MatrixXd a_sync = dev.stats().gram();
  std::size_t checked = 0;
  for (std::size_t t = 0; t < 800; ++t) {
    const auto arm = dev.select(key_frame(t));
    dev.update(arm, env.sample_offload(arm, rng));
    const double expect =
        (direct_log_det(dev.stats().gram()) - direct_log_det(a_sync)) * static_cast<double>(dev.buffered());
    REQUIRE(dev.upload_score() == doctest::Approx(expect).epsilon(1e-7).scale(1.0));
    CHECK(dev.wants_upload() == (dev.buffered() > 0 && expect >= 2.0 - 1e-9 * (1.0 + expect)));
    ++checked;
    if (dev.wants_upload()) {
      (void)fed::exchange(dev, edge);
      a_sync = dev.stats().gram();
      CHECK(dev.upload_score() == 0.0);
    }
    const auto pa = peer.select(false);
    peer.update(pa, env.sample_offload(pa, rng));
    sync_if_wanted(peer, edge);
  }
  CHECK(checked == 800);
  // A higher threshold communicates less; uploads thin out as the group's knowledge grows.
  CHECK(dev.n_uploads() > 3);
  CHECK(dev.n_uploads() < peer.n_uploads());
}

TEST_CASE("fed_linucb_dw: in-flight uploads are counted once under any delivery order") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  fed::fed_aggregator edge;
  fed::fed_linucb_dw<> dev(1, "g", env.arms.contexts, env.arms.front, opts(0.0));
  fed::fed_linucb_dw<> peer(2, "g", env.arms.contexts, env.arms.front, opts(0.0));
  dev.receive(edge.handle(dev.hello()));
  peer.receive(edge.handle(peer.hello()));
  std::mt19937_64 rng(9);
  auto step = [&](fed::fed_linucb_dw<>& d, std::size_t arm) { d.update(arm, env.sample_offload(arm, rng)); };
  auto expect_pooled_plus_buffer = [&](const fed::fed_linucb_dw<>& d, const Eigen::MatrixXd& local) {
    const Eigen::MatrixXd want = Eigen::MatrixXd::Identity(7, 7) + local;
    CHECK((d.stats().gram() - want).cwiseAbs().maxCoeff() <= 1e-9 * want.cwiseAbs().maxCoeff());
  };
  auto xx = [&](std::size_t arm) {
    const Eigen::VectorXd x = dev.learner().scaled_context(arm);
    return Eigen::MatrixXd(x * x.transpose());
  };
  step(peer, 3);
  (void)edge.handle(peer.make_upload());
  const auto old_broadcast = edge.broadcast("g");  // version 1: peer's upload only
  step(dev, 0);
  step(dev, 5);
  const auto up = dev.make_upload();
  CHECK(dev.upload_in_flight());
  CHECK_FALSE(dev.wants_upload());
  step(dev, 7);  // buffered while the upload is in flight
  CHECK_THROWS_AS((void)dev.make_upload(), incision::invalid_argument);
  const auto ack = edge.handle(up);  // version 2
  // The stale broadcast (before the ack) does not include the in-flight upload: still counted locally.
  CHECK(dev.receive(old_broadcast) == fed::fed_event::download_applied);
  CHECK(dev.upload_in_flight());
  expect_pooled_plus_buffer(dev, xx(3) + xx(0) + xx(5) + xx(7));
  CHECK(dev.receive(ack) == fed::fed_event::acked);
  CHECK(dev.upload_in_flight());
  // A broadcast at the acked version includes it: dropped locally, counted once.
  CHECK(dev.receive(edge.broadcast("g")) == fed::fed_event::download_applied);
  CHECK_FALSE(dev.upload_in_flight());
  expect_pooled_plus_buffer(dev, xx(3) + xx(0) + xx(5) + xx(7));
  CHECK(dev.receive(old_broadcast) == fed::fed_event::stale_download);
  expect_pooled_plus_buffer(dev, xx(3) + xx(0) + xx(5) + xx(7));
  // The next upload carries only the observation made while the first was in flight.
  (void)edge.handle(dev.make_upload());
  dev.receive(edge.download_for(1));
  expect_pooled_plus_buffer(dev, xx(3) + xx(0) + xx(5) + xx(7));
  CHECK(edge.group_count("g") == 4);
  CHECK(edge.last_seq(1) == 2);
}

TEST_CASE("fed_linucb_dw: a refused upload is kept and retried with the same sequence number") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  fed::fed_aggregator edge;
  fed::fed_linucb_dw<> dev(1, "g", env.arms.contexts, env.arms.front, opts(0.0));
  dev.receive(edge.handle(dev.hello()));
  dev.update(2, 0.5);
  const auto up = dev.make_upload();
  fed::fed_aggregator amnesic;  // e.g. an edge restarted and lost its registrations
  CHECK(dev.receive(amnesic.handle(up)) == fed::fed_event::rejected);
  REQUIRE(dev.last_reject());
  CHECK(dev.last_reject()->code == fed::fed_reject_code::unknown_device);
  CHECK_FALSE(dev.registered());
  CHECK_FALSE(dev.upload_in_flight());
  CHECK(dev.buffered() == 1);
  CHECK_FALSE(dev.wants_upload());  // must say hello again first
  dev.receive(edge.handle(dev.hello()));
  CHECK(dev.registered());
  REQUIRE(dev.wants_upload());
  const auto retry = std::get<fed::fed_upload>(fed::decode_fed_message(dev.make_upload()));
  CHECK(retry.seq == 1);
  CHECK(retry.count == 1);
}

TEST_CASE("fed_linucb_dw: after an edge restart the device registers again and resumes uploading") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  fed::fed_aggregator edge;
  fed::fed_linucb_dw<> dev(1, "g", env.arms.contexts, env.arms.front, opts(0.0));
  dev.receive(edge.handle(dev.hello()));
  for (std::size_t k = 0; k < 5; ++k) {
    dev.update(k, 0.5);
    sync_if_wanted(dev, edge);
  }
  CHECK(dev.sync_version() == 5);
  fed::fed_aggregator restarted;  // lost every registration and statistic
  dev.update(6, 0.5);
  CHECK(dev.receive(restarted.handle(dev.make_upload())) == fed::fed_event::rejected);
  CHECK_FALSE(dev.registered());
  CHECK(dev.receive(restarted.handle(dev.hello())) == fed::fed_event::download_applied);  // version 0
  CHECK(dev.registered());
  CHECK(dev.sync_version() == 0);
  REQUIRE(dev.wants_upload());
  CHECK(dev.receive(restarted.handle(dev.make_upload())) == fed::fed_event::acked);
  CHECK(restarted.group_count("g") == 1);
  CHECK(restarted.last_seq(1) == 1);
}

TEST_CASE("fed_linucb_dw: offline data stays a local prior and is never uploaded") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  fed::fed_aggregator edge;
  auto o = opts(0.0);
  o.warm_weight = 0.5;
  o.warm_max_rows = 10.0;
  fed::fed_linucb_dw<> dev(1, "g", env.arms.contexts, env.arms.front, o);
  std::vector<std::size_t> arms;
  std::vector<double> delays;
  for (std::size_t k = 0; k < 40; ++k) {
    arms.push_back(k % 22);
    delays.push_back(env.mean_offload(k % 22));
  }
  dev.warm_start(arms, delays);
  CHECK(dev.warm_mass() == doctest::Approx(0.5 * 10.0));  // 40 rows capped at 10, weight 0.5
  Eigen::MatrixXd warm = Eigen::MatrixXd::Zero(7, 7);
  for (auto a : arms) {
    const Eigen::VectorXd x = dev.learner().scaled_context(a);
    warm += 0.5 * (10.0 / 40.0) * x * x.transpose();
  }
  CHECK((dev.stats().gram() - Eigen::MatrixXd::Identity(7, 7) - warm).cwiseAbs().maxCoeff() < 1e-12);
  dev.receive(edge.handle(dev.hello()));
  std::mt19937_64 rng(3);
  Eigen::MatrixXd online = Eigen::MatrixXd::Zero(7, 7);
  for (std::size_t t = 0; t < 200; ++t) {
    const auto a = dev.select(false);
    dev.update(a, env.sample_offload(a, rng));
    if (!dev.learner().is_local_arm(a)) {
      const Eigen::VectorXd x = dev.learner().scaled_context(a);
      online += x * x.transpose();
    }
    sync_if_wanted(dev, edge);
  }
  CHECK((edge.group_gram("g") - online).cwiseAbs().maxCoeff() <= 1e-9 * online.cwiseAbs().maxCoeff());
  // The prior fades with the online data the device knows: factor h / (h + n), h = 200.
  const double fade = 200.0 / (200.0 + static_cast<double>(edge.group_count("g")));
  CHECK(dev.warm_mass() == doctest::Approx(0.5 * 10.0 * fade));
  const Eigen::MatrixXd want = Eigen::MatrixXd::Identity(7, 7) + fade * warm + online;
  CHECK((dev.stats().gram() - want).cwiseAbs().maxCoeff() <= 1e-9 * want.cwiseAbs().maxCoeff());
  // A second device of the group sees none of the first one's offline data.
  fed::fed_linucb_dw<> fresh(2, "g", env.arms.contexts, env.arms.front, opts(0.0));
  fresh.receive(edge.handle(fresh.hello()));
  const Eigen::MatrixXd want2 = Eigen::MatrixXd::Identity(7, 7) + online;
  CHECK((fresh.stats().gram() - want2).cwiseAbs().maxCoeff() <= 1e-9 * want2.cwiseAbs().maxCoeff());
}

namespace {
/// Mean cumulative regret (expected total delay minus the best) over `frames`, averaged over seeds.
struct regret_result {
  double early = 0.0;      // first `early_frames`
  double late_best = 0.0;  // share of non-forced choices that are optimal in the last quarter
};
regret_result run_single(const linear_env& env, const std::vector<std::size_t>* warm_arms,
                         const std::vector<double>* warm_delays, std::size_t frames, std::size_t early_frames,
                         int seeds) {
  regret_result r;
  const double best = env.mean_total(env.best_arm());
  for (int s = 0; s < seeds; ++s) {
    auto o = opts(never);
    o.warm_weight = 1.0;
    fed::fed_linucb_dw<> dev(1, "g", env.arms.contexts, env.arms.front, o);
    if (warm_arms) dev.warm_start(*warm_arms, *warm_delays);
    std::mt19937_64 rng(static_cast<std::uint64_t>(100 + s));
    std::size_t late = 0, late_ok = 0;
    for (std::size_t t = 0; t < frames; ++t) {
      const auto a = dev.select(key_frame(t));
      if (t < early_frames) r.early += env.mean_total(a) - best;
      if (t >= frames - frames / 4 && !dev.learner().last_forced()) {
        ++late;
        if (a == env.best_arm()) ++late_ok;
      }
      dev.update(a, env.sample_offload(a, rng));
    }
    r.late_best += static_cast<double>(late_ok) / static_cast<double>(late);
  }
  r.early /= seeds;
  r.late_best /= seeds;
  return r;
}
}  // namespace

TEST_CASE("fed_linucb_dw: a right warm start lowers early regret; a wrong one does not stop convergence") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  std::vector<std::size_t> arms;
  std::vector<double> good, wrong;
  std::mt19937_64 rng(77);
  for (std::size_t k = 0; k < 44; ++k) {
    const std::size_t a = k % 22;  // every offloading arm measured twice offline
    arms.push_back(a);
    good.push_back(std::max(0.0, env.sample_offload(a, rng)));
    // Wrong experience: offloading looks 4x slower than it is (e.g. measured on a congested link).
    wrong.push_back(4.0 * env.mean_offload(a));
  }
  const std::size_t frames = 10000, early = 300;
  const auto cold = run_single(env, nullptr, nullptr, frames, early, 3);
  const auto warm = run_single(env, &arms, &good, frames, early, 3);
  const auto bad = run_single(env, &arms, &wrong, frames, early, 3);
  MESSAGE("early regret cold " << cold.early << " warm " << warm.early << " wrong " << bad.early);
  MESSAGE("late optimal share cold " << cold.late_best << " warm " << warm.late_best << " wrong " << bad.late_best);
  CHECK(warm.early < 0.8 * cold.early);
  // Converged: in the last quarter the non-forced choices are (mostly) the optimal cut.
  CHECK(cold.late_best >= 0.85);
  CHECK(warm.late_best >= 0.85);
  CHECK(bad.late_best >= 0.85);
}

TEST_CASE("fed_linucb_dw: bad arguments throw and leave the learner unchanged") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  CHECK_THROWS_AS(fed::fed_linucb_dw<>(0, "g", env.arms.contexts, env.arms.front), incision::invalid_argument);
  CHECK_THROWS_AS(fed::fed_linucb_dw<>(1, "", env.arms.contexts, env.arms.front), incision::invalid_argument);
  auto o = opts(-1.0);
  CHECK_THROWS_AS(fed::fed_linucb_dw<>(1, "g", env.arms.contexts, env.arms.front, o), incision::invalid_argument);
  o = opts(1.0);
  o.warm_weight = 1.5;
  CHECK_THROWS_AS(fed::fed_linucb_dw<>(1, "g", env.arms.contexts, env.arms.front, o), incision::invalid_argument);
  fed::fed_linucb_dw<> dev(1, "g", env.arms.contexts, env.arms.front);
  dev.update(4, 0.3);
  const Eigen::MatrixXd before = dev.stats().gram();
  const std::vector<std::size_t> arms{1, 22};
  const std::vector<double> delays{0.1, 0.2};
  CHECK_THROWS_AS(dev.warm_start(arms, delays), incision::invalid_argument);  // 22 is on-device
  const std::vector<std::size_t> far{1, 99};
  CHECK_THROWS_AS(dev.warm_start(far, delays), incision::out_of_range);
  const std::vector<double> nan{0.1, std::numeric_limits<double>::quiet_NaN()};
  const std::vector<std::size_t> ok{1, 2};
  CHECK_THROWS_AS(dev.warm_start(ok, nan), incision::invalid_argument);
  CHECK_THROWS_AS(dev.update(3, std::numeric_limits<double>::infinity()), incision::invalid_argument);
  CHECK_THROWS_AS(dev.update(99, 0.1), incision::out_of_range);
  CHECK(dev.stats().gram() == before);
  CHECK(dev.buffered() == 1);
  CHECK_THROWS_AS(dev.receive(dev.hello()), incision::invalid_argument);
  std::vector<std::byte> junk(30, std::byte{1});
  CHECK_THROWS_AS(dev.receive(junk), incision::parse_error);
  CHECK(dev.stats().gram() == before);
}

TEST_CASE("fed_linucb_dw: warm_start and update take the same delays (issue 12)") {
  // Both take any finite delay (a noisy observation of a small delay can be negative) and refuse
  // NaN and infinity, leaving the learner unchanged.
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  fed::fed_linucb_dw<> a(1, "g", env.arms.contexts, env.arms.front);
  fed::fed_linucb_dw<> b(1, "g", env.arms.contexts, env.arms.front);
  const std::vector<std::size_t> arms{4};
  for (const double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()}) {
    const std::vector<double> delays{bad};
    CHECK_THROWS_AS(a.warm_start(arms, delays), incision::invalid_argument);
    CHECK_THROWS_AS(b.update(4, bad), incision::invalid_argument);
  }
  CHECK(a.warm_mass() == 0.0);
  CHECK(b.buffered() == 0);
  const std::vector<double> negative{-0.25};
  CHECK_NOTHROW(a.warm_start(arms, negative));
  CHECK_NOTHROW(b.update(4, -0.25));
  CHECK(a.warm_mass() > 0.0);
  CHECK(b.buffered() == 1);
  // Same sign of evidence: both now expect a lower delay on arm 4 than a fresh learner.
  fed::fed_linucb_dw<> fresh(1, "g", env.arms.contexts, env.arms.front);
  const Eigen::VectorXd x = fresh.learner().scaled_context(4);
  CHECK(a.stats().theta().dot(x) < 0.0);
  CHECK(b.stats().theta().dot(x) < 0.0);
}

TEST_CASE("fed_linucb_dw: the fixed-size learner (Dim = 7) decides as the dynamic one") {
  const auto env = linear_env::make(fed_test::load_arms("vgg16_arms.csv"), 18.88e6);
  fed::fed_aggregator edge_dyn, edge_fix;
  auto o = opts(0.5);
  std::vector<std::size_t> arms{0, 3, 7, 12};
  std::vector<double> delays{0.3, 1.5, 1.6, 0.9};
  fed::fed_linucb_dw<> dyn(1, "g", env.arms.contexts, env.arms.front, o);
  fed::fed_linucb_dw<7> fix(1, "g", env.arms.contexts, env.arms.front, o);
  dyn.warm_start(arms, delays);
  fix.warm_start(arms, delays);
  dyn.receive(edge_dyn.handle(dyn.hello()));
  fix.receive(edge_fix.handle(fix.hello()));
  std::mt19937_64 rng(31);
  std::size_t mismatches = 0;
  for (std::size_t t = 0; t < 1000; ++t) {
    const auto a = dyn.select(key_frame(t));
    if (fix.select(key_frame(t)) != a) ++mismatches;
    const double y = env.sample_offload(a, rng);
    dyn.update(a, y);
    fix.update(a, y);
    if (dyn.wants_upload()) {
      (void)fed::exchange(dyn, edge_dyn);
    }
    if (fix.wants_upload()) {
      (void)fed::exchange(fix, edge_fix);
    }
  }
  CHECK(mismatches == 0);
  CHECK(dyn.n_uploads() == fix.n_uploads());
  CHECK((Eigen::MatrixXd(fix.stats().gram()) - dyn.stats().gram()).cwiseAbs().maxCoeff() <=
        1e-9 * dyn.stats().gram().cwiseAbs().maxCoeff());
}
