// FedLinUCB-DW edge aggregator: group bookkeeping against direct sums, isolation of groups,
// refusals that change nothing, and traffic counters.
#include <incision/bandit/fed_aggregator.hpp>
#include <incision/bandit/fed_messages.hpp>

#include <doctest/doctest.h>

#include <Eigen/Core>

#include <cstddef>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace ib = incision::bandit;

namespace {

ib::fed_message decode(const std::vector<std::byte>& b) { return ib::decode_fed_message(b); }

std::vector<std::byte> hello(std::uint64_t id, const std::string& g, std::uint32_t d, std::uint64_t tag = 0) {
  return ib::encode(ib::fed_hello{id, g, d, tag});
}

std::vector<std::byte> rows_upload(std::uint64_t id, std::uint64_t seq, const Eigen::MatrixXd& x,
                                   const Eigen::VectorXd& y) {
  ib::fed_upload u;
  u.device_id = id;
  u.seq = seq;
  u.count = static_cast<std::uint64_t>(x.rows());
  u.as_rows = true;
  u.rows_x = x;
  u.rows_y = y;
  u.rows_w = Eigen::VectorXd::Ones(x.rows());
  return ib::encode(u);
}

std::vector<std::byte> dense_upload(std::uint64_t id, std::uint64_t seq, const Eigen::MatrixXd& x,
                                    const Eigen::VectorXd& y) {
  ib::fed_upload u;
  u.device_id = id;
  u.seq = seq;
  u.count = static_cast<std::uint64_t>(x.rows());
  u.gram = x.transpose() * x;
  u.gram = 0.5 * (u.gram + u.gram.transpose()).eval();
  u.moment = x.transpose() * y;
  return ib::encode(u);
}

struct snapshot {
  std::vector<std::string> groups;
  std::map<std::string, Eigen::MatrixXd> gram;
  std::map<std::string, std::uint64_t> version;
  std::size_t devices;
};

snapshot state(const ib::fed_aggregator& a) {
  snapshot s;
  s.groups = a.group_names();
  for (const auto& g : s.groups) {
    s.gram[g] = a.group_gram(g);
    s.version[g] = a.group_version(g);
  }
  s.devices = a.n_devices();
  return s;
}

bool same(const snapshot& a, const snapshot& b) {
  return a.groups == b.groups && a.gram == b.gram && a.version == b.version && a.devices == b.devices;
}

}  // namespace

TEST_CASE("fed aggregator: group totals equal the direct sum of every member's data") {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> N(0.0, 1.0);
  const int d = 4;
  ib::fed_aggregator edge;
  // Two groups, three devices each; a brute-force oracle keeps the pooled X, y per group.
  std::map<std::string, std::vector<Eigen::VectorXd>> xs;
  std::map<std::string, std::vector<double>> ys;
  const std::string names[2] = {"a", "b"};
  for (std::uint64_t id = 1; id <= 6; ++id) {
    const auto reply = edge.handle(hello(id, names[id % 2], d));
    const auto dl = std::get<ib::fed_download>(decode(reply));
    CHECK(dl.group == names[id % 2]);
    CHECK(dl.recipient == id);
  }
  CHECK(edge.n_groups() == 2);
  CHECK(edge.group_size("a") == 3);
  std::map<std::uint64_t, std::uint64_t> seq;
  for (int round = 0; round < 40; ++round) {
    const std::uint64_t id = 1 + static_cast<std::uint64_t>(round % 6);
    const int n = 1 + round % 11;  // rows for small n, dense above
    Eigen::MatrixXd x(n, d);
    Eigen::VectorXd y(n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < d; ++j) x(i, j) = N(rng);
      y(i) = N(rng);
      xs[names[id % 2]].push_back(x.row(i).transpose());
      ys[names[id % 2]].push_back(y(i));
    }
    const auto up = (n % 2 == 0) ? dense_upload(id, ++seq[id], x, y) : rows_upload(id, ++seq[id], x, y);
    const auto ack = std::get<ib::fed_ack>(decode(edge.handle(up)));
    CHECK(ack.device_id == id);
    CHECK(ack.seq == seq[id]);
    CHECK(ack.version == edge.group_version(names[id % 2]));
  }
  for (const auto& g : names) {
    Eigen::MatrixXd G = Eigen::MatrixXd::Zero(d, d);
    Eigen::VectorXd b = Eigen::VectorXd::Zero(d);
    for (std::size_t i = 0; i < xs[g].size(); ++i) {
      G += xs[g][i] * xs[g][i].transpose();
      b += ys[g][i] * xs[g][i];
    }
    CHECK((edge.group_gram(g) - G).cwiseAbs().maxCoeff() < 1e-9);
    CHECK((edge.group_moment(g) - b).cwiseAbs().maxCoeff() < 1e-9);
    CHECK(edge.group_gram(g) == edge.group_gram(g).transpose());  // exactly symmetric
    CHECK(edge.group_count(g) == xs[g].size());
    CHECK(edge.group_version(g) == 20);
    // Broadcast and personal downloads carry exactly these statistics.
    const auto bc = std::get<ib::fed_download>(decode(edge.broadcast(g)));
    CHECK(bc.recipient == 0);
    CHECK(bc.gram == edge.group_gram(g));
    CHECK(bc.moment == edge.group_moment(g));
  }
  const auto pd = std::get<ib::fed_download>(decode(edge.download_for(3)));
  CHECK(pd.group == "b");
  CHECK(pd.acked_seq == seq[3]);
  CHECK(pd.gram == edge.group_gram("b"));
}

TEST_CASE("fed aggregator: a device never receives another group's statistics") {
  ib::fed_aggregator edge;
  (void)edge.handle(hello(1, "vgg16", 2));
  (void)edge.handle(hello(2, "yolo", 2));
  Eigen::MatrixXd x(1, 2);
  x << 3.0, 4.0;
  (void)edge.handle(rows_upload(1, 1, x, Eigen::VectorXd::Constant(1, 2.0)));
  CHECK(edge.group_count("vgg16") == 1);
  // Every download the yolo device can obtain holds only yolo data (still empty).
  for (const auto& bytes : {edge.download_for(2), edge.handle(hello(2, "yolo", 2))}) {
    const auto dl = std::get<ib::fed_download>(decode(bytes));
    CHECK(dl.group == "yolo");
    CHECK(dl.count == 0);
    CHECK(dl.gram.isZero(0.0));
    CHECK(dl.moment.isZero(0.0));
  }
  // Asking to be in the other group is refused and changes nothing.
  const auto before = state(edge);
  const auto rej = std::get<ib::fed_reject>(decode(edge.handle(hello(2, "vgg16", 2))));
  CHECK(rej.code == ib::fed_reject_code::wrong_group);
  CHECK(same(before, state(edge)));
  CHECK(edge.device_group(2) == std::string("yolo"));
}

TEST_CASE("fed aggregator: refusals carry a code and leave the state unchanged") {
  ib::fed_aggregator edge;
  (void)edge.handle(hello(1, "g", 3, 77));
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 3);
  Eigen::VectorXd y = Eigen::VectorXd::Ones(1);
  (void)edge.handle(rows_upload(1, 1, x, y));
  auto code_of = [&](const std::vector<std::byte>& msg) {
    const auto before = state(edge);
    const auto traffic = edge.traffic();
    const auto r = std::get<ib::fed_reject>(decode(edge.handle(msg)));
    CHECK(same(before, state(edge)));
    CHECK(edge.traffic().messages_in == traffic.messages_in + 1);
    CHECK(edge.traffic().messages_out == traffic.messages_out + 1);
    return r.code;
  };
  CHECK(code_of(rows_upload(9, 1, x, y)) == ib::fed_reject_code::unknown_device);
  CHECK(code_of(rows_upload(1, 1, x, y)) == ib::fed_reject_code::out_of_order);  // replay
  CHECK(code_of(rows_upload(1, 3, x, y)) == ib::fed_reject_code::out_of_order);  // gap
  CHECK(code_of(rows_upload(1, 2, Eigen::MatrixXd::Ones(1, 4), y)) == ib::fed_reject_code::dimension_mismatch);
  CHECK(code_of(hello(2, "g", 4, 77)) == ib::fed_reject_code::dimension_mismatch);
  CHECK(code_of(hello(2, "g", 3, 78)) == ib::fed_reject_code::feature_mismatch);
  CHECK(code_of(hello(1, "g", 3, 78)) == ib::fed_reject_code::feature_mismatch);
  CHECK(code_of(ib::encode(ib::fed_ack{1, 1, 1})) == ib::fed_reject_code::unexpected_message);
  {  // a future protocol version gets a reject, not an exception
    incision::detail::byte_writer w;
    w.u16(9);
    w.u64(1);
    CHECK(code_of(incision::detail::seal(200, w.buffer())) == ib::fed_reject_code::protocol_version);
  }
  {  // an upload whose sum would overflow the group's statistics throws and changes nothing
    Eigen::MatrixXd big = Eigen::MatrixXd::Constant(1, 3, 1e154);
    const auto before = state(edge);
    (void)edge.handle(rows_upload(1, 2, big, y));  // 1e308: finite
    const auto after_first = state(edge);
    CHECK_FALSE(same(before, after_first));
    CHECK_THROWS_AS((void)edge.handle(rows_upload(1, 3, big * 10.0, y)), incision::parse_error);
    CHECK(same(after_first, state(edge)));
  }
  // Garbage throws parse_error and changes nothing, counters included.
  const auto before = state(edge);
  const auto traffic = edge.traffic();
  std::vector<std::byte> junk(40, std::byte{0x5A});
  CHECK_THROWS_AS((void)edge.handle(junk), incision::parse_error);
  CHECK(same(before, state(edge)));
  CHECK(edge.traffic().bytes_in == traffic.bytes_in);
  CHECK_THROWS_AS((void)edge.download_for(12345), incision::out_of_range);
  CHECK_THROWS_AS((void)edge.broadcast("nope"), incision::out_of_range);
}

TEST_CASE("fed aggregator: traffic counts every message and byte both ways") {
  ib::fed_aggregator edge;
  std::uint64_t in = 0, out = 0;
  auto h = hello(1, "g", 2);
  in += h.size();
  out += edge.handle(h).size();
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 2);
  auto u = rows_upload(1, 1, x, Eigen::VectorXd::Ones(2));
  in += u.size();
  out += edge.handle(u).size();
  out += edge.broadcast("g").size();
  out += edge.download_for(1).size();
  CHECK(edge.traffic().messages_in == 2);
  CHECK(edge.traffic().messages_out == 4);
  CHECK(edge.traffic().bytes_in == in);
  CHECK(edge.traffic().bytes_out == out);
}

TEST_CASE("fed aggregator: weighted rows keep the group's matrix exactly symmetric (fuzz regression)") {
  ib::fed_aggregator edge;
  (void)edge.handle(hello(1, "g", 5));
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> U(-3.0, 3.0);
  for (std::uint64_t seq = 1; seq <= 50; ++seq) {
    ib::fed_upload u;
    u.device_id = 1;
    u.seq = seq;
    u.count = 2;
    u.as_rows = true;
    u.rows_x.resize(2, 5);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 5; ++j) u.rows_x(i, j) = U(rng);
    u.rows_y = Eigen::Vector2d(U(rng), U(rng));
    u.rows_w = Eigen::Vector2d(0.3 + 0.01 * static_cast<double>(seq), 1.7);
    (void)edge.handle(ib::encode(u));
  }
  const Eigen::MatrixXd g = edge.group_gram("g");
  CHECK(g == g.transpose());
}

TEST_CASE("fed aggregator: the overflow guard switches to the checked path near the limit") {
  ib::fed_aggregator edge;
  (void)edge.handle(hello(1, "g", 2));
  // Each upload adds 1e299 to every entry: the running bound passes 1e300 after ten of them,
  // the checked path takes over, and only a sum that really overflows is refused.
  Eigen::MatrixXd x = Eigen::MatrixXd::Constant(1, 2, std::sqrt(1e299));
  Eigen::VectorXd y = Eigen::VectorXd::Constant(1, std::sqrt(1e299));
  std::uint64_t seq = 0;
  for (; seq < 100; ++seq) (void)edge.handle(rows_upload(1, seq + 1, x, y));
  CHECK(edge.group_gram("g")(0, 1) == doctest::Approx(1e301));
  CHECK(edge.group_moment("g")(0) == doctest::Approx(1e301));
  // Two rows of 1.7e308 each: every entry finite in the message, the sum is not.
  Eigen::MatrixXd big = Eigen::MatrixXd::Constant(2, 2, std::sqrt(1.7e308));
  const Eigen::MatrixXd before = edge.group_gram("g");
  CHECK_THROWS_AS((void)edge.handle(rows_upload(1, seq + 1, big, Eigen::VectorXd::Ones(2))), incision::parse_error);
  CHECK(edge.group_gram("g") == before);
  CHECK(edge.last_seq(1) == seq);
}
