// Fuzzes the bandit snapshot decoders (linucb, disjoint_linucb, mu_linucb over every statistics
// policy): any input must restore or throw parse_error, never crash, hang or over-allocate.
// Raw inputs rarely pass the envelope's CRC, so half of the runs instead mutate the payload of a
// valid snapshot with the input bytes and re-seal it with a correct checksum, which drives the
// decoders' own field validation. A restored learner must re-snapshot identically after a
// round trip and survive a select/update: a select or update may be rejected with
// invalid_argument (a NaN score, or a sample whose result the numerical rule refuses), and a
// rejected one must leave the learner's snapshot unchanged.
#include <incision/bandit.hpp>

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace ib = incision::bandit;

namespace {

/// Runs `step` on `l`; a rejection (invalid_argument) must leave the learner unchanged.
template <class Learner, class Step>
void rejected_or_done(Learner& l, Step step) {
  const auto before = l.snapshot();
  try {
    step();
  } catch (const incision::invalid_argument&) {
    if (l.snapshot() != before) std::abort();
  }
}

Eigen::MatrixXd small_contexts() {
  Eigen::MatrixXd c(4, 3);
  c << 3, 1, 2e9, 2, 1, 1e9, 1, 0, 5e8, 0, 0, 0;
  return c;
}

template <class Learner>
std::vector<std::byte> seeded(Learner l) {
  for (int i = 0; i < 20; ++i) l.update(l.select(i % 3 == 0), 0.1 * (i % 5));
  return l.snapshot();
}

template <class Learner>
void exercise_mu(std::span<const std::byte> bytes) {
  try {
    auto l = Learner::restore(bytes);
    const auto again = l.snapshot();
    if (Learner::restore(again).snapshot() != again) std::abort();
    std::size_t a = 0;
    bool picked = false;
    rejected_or_done(l, [&] {
      a = l.select(false);
      picked = true;
    });
    if (picked) rejected_or_done(l, [&] { l.update(a, 0.5); });
  } catch (const incision::parse_error&) {
  }
}

template <class Learner>
void exercise_linucb(std::span<const std::byte> bytes) {
  try {
    auto l = Learner::restore(bytes);
    const auto again = l.snapshot();
    if (Learner::restore(again).snapshot() != again) std::abort();
    Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, static_cast<Eigen::Index>(l.dim()));
    std::size_t a = 0;
    rejected_or_done(l, [&] { a = l.select(x); });
    rejected_or_done(l, [&] { l.update(x.row(static_cast<Eigen::Index>(a)).transpose(), 1.0); });
  } catch (const incision::parse_error&) {
  }
}

template <class Learner>
void exercise_disjoint(std::span<const std::byte> bytes) {
  try {
    auto l = Learner::restore(bytes);
    const auto again = l.snapshot();
    if (Learner::restore(again).snapshot() != again) std::abort();
    Eigen::VectorXd x = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(l.dim()));
    std::size_t a = 0;
    rejected_or_done(l, [&] { a = l.select(x); });
    rejected_or_done(l, [&] { l.update(a, x, 1.0); });
  } catch (const incision::parse_error&) {
  }
}

/// Mutates the payload of `valid` with `input` (first two bytes pick an offset and whether to
/// truncate), then re-seals it with a correct envelope.
std::vector<std::byte> mutate(const std::vector<std::byte>& valid, std::span<const std::byte> input,
                              std::uint16_t kind) {
  const auto payload = incision::detail::unseal(valid, kind, "seed");
  std::vector<std::byte> p(payload.begin(), payload.end());
  if (input.size() < 2 || p.empty()) return incision::detail::seal(kind, p);
  const std::size_t off =
      (std::to_integer<std::size_t>(input[0]) * 256 + std::to_integer<std::size_t>(input[1])) % p.size();
  const auto rest = input.subspan(2);
  for (std::size_t i = 0; i < rest.size() && off + i < p.size(); ++i) p[off + i] ^= rest[i];
  if (!rest.empty() && (std::to_integer<unsigned>(rest[0]) & 1U) != 0) p.resize(off + (p.size() - off) / 2);
  return incision::detail::seal(kind, p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto raw = std::as_bytes(std::span(data, size));
  using mu_plain = ib::mu_linucb<>;
  using mu_disc = ib::mu_linucb<Eigen::Dynamic, ib::discounted_stats<>>;
  using mu_win = ib::mu_linucb<Eigen::Dynamic, ib::window_stats<>>;
  using lin_win = ib::linucb<Eigen::Dynamic, ib::window_stats<>>;
  using dis_disc = ib::disjoint_linucb<Eigen::Dynamic, ib::discounted_stats<>>;
  static const auto contexts = small_contexts();
  static const Eigen::Vector4d front(0.0, 0.1, 0.2, 0.3);
  static const auto s_mu_plain = seeded(mu_plain(contexts, front));
  static const auto s_mu_disc = seeded(mu_disc(contexts, front, ib::discounted_stats<>(3, 1.0, 0.9), {}));
  static const auto s_mu_win = seeded(mu_win(contexts, front, ib::window_stats<>(3, 1.0, 5), {}));
  static const auto s_lin = [] {
    lin_win l(ib::window_stats<>(3, 1.0, 4), 1.0);
    for (int i = 0; i < 9; ++i) l.update(Eigen::Vector3d(i, 1, -i), 0.5 * i);
    return l.snapshot();
  }();
  static const auto s_dis = [] {
    dis_disc l(3, ib::discounted_stats<>(2, 1.0, 0.95), 0.5);
    for (int i = 0; i < 9; ++i) l.update(static_cast<std::size_t>(i % 3), Eigen::Vector2d(i, 1), 0.5);
    return l.snapshot();
  }();
  if (size == 0) return 0;
  const unsigned mode = std::to_integer<unsigned>(raw[0]) % 12;
  const auto in = raw.subspan(1);
  switch (mode) {
    case 0:
      exercise_mu<mu_plain>(in);
      break;
    case 1:
      exercise_mu<mu_disc>(in);
      break;
    case 2:
      exercise_mu<mu_win>(in);
      break;
    case 3:
      exercise_linucb<lin_win>(in);
      break;
    case 4:
      exercise_disjoint<dis_disc>(in);
      break;
    case 5:
      exercise_mu<ib::mu_linucb<3>>(in);
      break;
    case 6:
      exercise_mu<mu_plain>(mutate(s_mu_plain, in, mu_plain::snapshot_kind));
      break;
    case 7:
      exercise_mu<mu_disc>(mutate(s_mu_disc, in, mu_disc::snapshot_kind));
      break;
    case 8:
      exercise_mu<mu_win>(mutate(s_mu_win, in, mu_win::snapshot_kind));
      break;
    case 9:
      exercise_linucb<lin_win>(mutate(s_lin, in, lin_win::snapshot_kind));
      break;
    case 10:
      exercise_disjoint<dis_disc>(mutate(s_dis, in, dis_disc::snapshot_kind));
      break;
    default:
      exercise_mu<ib::mu_linucb<3>>(mutate(s_mu_plain, in, mu_plain::snapshot_kind));
      break;
  }
  return 0;
}
