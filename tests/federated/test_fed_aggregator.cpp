// FedLinUCB-DW edge aggregator: group bookkeeping against direct sums, isolation of groups,
// refusals that change nothing, and traffic counters.
#include <incision/bandit/ridge_stats.hpp>
#include <incision/federated/aggregator.hpp>
#include <incision/federated/messages.hpp>

#include <doctest/doctest.h>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace fed = incision::federated;
namespace ib = incision::bandit;

namespace {

fed::fed_message decode(const std::vector<std::byte>& b) { return fed::decode_fed_message(b); }

std::vector<std::byte> hello(std::uint64_t id, const std::string& g, std::uint32_t d, std::uint64_t tag = 0) {
  return fed::encode(fed::fed_hello{id, g, d, tag});
}

std::vector<std::byte> rows_upload(std::uint64_t id, std::uint64_t seq, const Eigen::MatrixXd& x,
                                   const Eigen::VectorXd& y) {
  fed::fed_upload u;
  u.device_id = id;
  u.seq = seq;
  u.count = static_cast<std::uint64_t>(x.rows());
  u.as_rows = true;
  u.rows_x = x;
  u.rows_y = y;
  u.rows_w = Eigen::VectorXd::Ones(x.rows());
  return fed::encode(u);
}

std::vector<std::byte> dense_upload(std::uint64_t id, std::uint64_t seq, const Eigen::MatrixXd& x,
                                    const Eigen::VectorXd& y) {
  fed::fed_upload u;
  u.device_id = id;
  u.seq = seq;
  u.count = static_cast<std::uint64_t>(x.rows());
  u.gram = x.transpose() * x;
  u.gram = 0.5 * (u.gram + u.gram.transpose()).eval();
  u.moment = x.transpose() * y;
  return fed::encode(u);
}

struct snapshot {
  std::vector<std::string> groups;
  std::map<std::string, Eigen::MatrixXd> gram;
  std::map<std::string, std::uint64_t> version;
  std::size_t devices;
};

snapshot state(const fed::fed_aggregator& a) {
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
  fed::fed_aggregator edge;
  // Two groups, three devices each; a brute-force oracle keeps the pooled X, y per group.
  std::map<std::string, std::vector<Eigen::VectorXd>> xs;
  std::map<std::string, std::vector<double>> ys;
  const std::string names[2] = {"a", "b"};
  for (std::uint64_t id = 1; id <= 6; ++id) {
    const auto reply = edge.handle(hello(id, names[id % 2], d));
    const auto dl = std::get<fed::fed_download>(decode(reply));
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
    const auto ack = std::get<fed::fed_ack>(decode(edge.handle(up)));
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
    const auto bc = std::get<fed::fed_download>(decode(edge.broadcast(g)));
    CHECK(bc.recipient == 0);
    CHECK(bc.gram == edge.group_gram(g));
    CHECK(bc.moment == edge.group_moment(g));
  }
  const auto pd = std::get<fed::fed_download>(decode(edge.download_for(3)));
  CHECK(pd.group == "b");
  CHECK(pd.acked_seq == seq[3]);
  CHECK(pd.gram == edge.group_gram("b"));
}

TEST_CASE("fed aggregator: a device never receives another group's statistics") {
  fed::fed_aggregator edge;
  (void)edge.handle(hello(1, "vgg16", 2));
  (void)edge.handle(hello(2, "yolo", 2));
  Eigen::MatrixXd x(1, 2);
  x << 3.0, 4.0;
  (void)edge.handle(rows_upload(1, 1, x, Eigen::VectorXd::Constant(1, 2.0)));
  CHECK(edge.group_count("vgg16") == 1);
  // Every download the yolo device can obtain holds only yolo data (still empty).
  for (const auto& bytes : {edge.download_for(2), edge.handle(hello(2, "yolo", 2))}) {
    const auto dl = std::get<fed::fed_download>(decode(bytes));
    CHECK(dl.group == "yolo");
    CHECK(dl.count == 0);
    CHECK(dl.gram.isZero(0.0));
    CHECK(dl.moment.isZero(0.0));
  }
  // Asking to be in the other group is refused and changes nothing.
  const auto before = state(edge);
  const auto rej = std::get<fed::fed_reject>(decode(edge.handle(hello(2, "vgg16", 2))));
  CHECK(rej.code == fed::fed_reject_code::wrong_group);
  CHECK(same(before, state(edge)));
  CHECK(edge.device_group(2) == std::string("yolo"));
}

TEST_CASE("fed aggregator: refusals carry a code and leave the state unchanged") {
  fed::fed_aggregator edge;
  (void)edge.handle(hello(1, "g", 3, 77));
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 3);
  Eigen::VectorXd y = Eigen::VectorXd::Ones(1);
  (void)edge.handle(rows_upload(1, 1, x, y));
  auto code_of = [&](const std::vector<std::byte>& msg) {
    const auto before = state(edge);
    const auto traffic = edge.traffic();
    const auto r = std::get<fed::fed_reject>(decode(edge.handle(msg)));
    CHECK(same(before, state(edge)));
    CHECK(edge.traffic().messages_in == traffic.messages_in + 1);
    CHECK(edge.traffic().messages_out == traffic.messages_out + 1);
    return r.code;
  };
  CHECK(code_of(rows_upload(9, 1, x, y)) == fed::fed_reject_code::unknown_device);
  CHECK(code_of(rows_upload(1, 1, x, y)) == fed::fed_reject_code::out_of_order);  // replay
  CHECK(code_of(rows_upload(1, 3, x, y)) == fed::fed_reject_code::out_of_order);  // gap
  CHECK(code_of(rows_upload(1, 2, Eigen::MatrixXd::Ones(1, 4), y)) == fed::fed_reject_code::dimension_mismatch);
  CHECK(code_of(hello(2, "g", 4, 77)) == fed::fed_reject_code::dimension_mismatch);
  CHECK(code_of(hello(2, "g", 3, 78)) == fed::fed_reject_code::feature_mismatch);
  CHECK(code_of(hello(1, "g", 3, 78)) == fed::fed_reject_code::feature_mismatch);
  CHECK(code_of(fed::encode(fed::fed_ack{1, 1, 1})) == fed::fed_reject_code::unexpected_message);
  {  // a future protocol version gets a reject, not an exception
    incision::detail::byte_writer w;
    w.u16(9);
    w.u64(1);
    CHECK(code_of(incision::detail::seal(200, w.buffer())) == fed::fed_reject_code::protocol_version);
  }
  // Statistics above max_statistic (1e12 by default), or that overflow, are refused.
  CHECK(code_of(rows_upload(1, 2, Eigen::MatrixXd::Constant(1, 3, 1e7), y)) ==
        fed::fed_reject_code::invalid_statistics);
  CHECK(code_of(rows_upload(1, 2, Eigen::MatrixXd::Constant(1, 3, 1e155), y)) ==
        fed::fed_reject_code::invalid_statistics);
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
  fed::fed_aggregator edge;
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
  fed::fed_aggregator edge;
  (void)edge.handle(hello(1, "g", 5));
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> U(-3.0, 3.0);
  for (std::uint64_t seq = 1; seq <= 50; ++seq) {
    fed::fed_upload u;
    u.device_id = 1;
    u.seq = seq;
    u.count = 2;
    u.as_rows = true;
    u.rows_x.resize(2, 5);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 5; ++j) u.rows_x(i, j) = U(rng);
    u.rows_y = Eigen::Vector2d(U(rng), U(rng));
    u.rows_w = Eigen::Vector2d(0.3 + 0.01 * static_cast<double>(seq), 1.7);
    (void)edge.handle(fed::encode(u));
  }
  const Eigen::MatrixXd g = edge.group_gram("g");
  CHECK(g == g.transpose());
}

TEST_CASE("fed aggregator: sums near the largest double are checked and refused above max_statistic") {
  fed::fed_aggregator_options o;
  o.max_statistic = 1e302;
  o.psd_slack = 1.0;
  fed::fed_aggregator edge(o);
  (void)edge.handle(hello(1, "g", 2));
  // Each upload adds 1e299 to the diagonal (two rows along the axes, so the Gram stays exactly
  // diagonal): the running bound reaches 1e302 after a thousand, the checked path takes over,
  // and only a sum really above the cap is refused.
  const double a = std::sqrt(1e299);
  Eigen::MatrixXd x{{a, 0.0}, {0.0, a}};
  Eigen::VectorXd y = Eigen::VectorXd::Constant(2, a);
  std::uint64_t seq = 0;
  for (; seq < 100; ++seq) (void)edge.handle(rows_upload(1, seq + 1, x, y));
  CHECK(edge.last_seq(1) == 100);
  CHECK(edge.group_gram("g")(0, 0) == doctest::Approx(1e301));
  CHECK(edge.group_gram("g")(0, 1) == 0.0);
  CHECK(edge.group_moment("g")(0) == doctest::Approx(1e301));
  // One upload of 1e302 on the diagonal: every entry finite in the message, the sum above the cap.
  Eigen::MatrixXd big{{1e151, 0.0}, {0.0, 1e151}};
  const Eigen::MatrixXd before = edge.group_gram("g");
  const auto r = std::get<fed::fed_reject>(decode(edge.handle(rows_upload(1, seq + 1, big, Eigen::VectorXd::Ones(2)))));
  CHECK(r.code == fed::fed_reject_code::invalid_statistics);
  CHECK(r.text.find("max_statistic") != std::string::npos);
  CHECK(edge.group_gram("g") == before);
  CHECK(edge.last_seq(1) == seq);
}

namespace {

std::vector<std::byte> dense_stats_upload(std::uint64_t id, std::uint64_t seq, const Eigen::MatrixXd& gram,
                                          std::uint64_t count = 1) {
  fed::fed_upload u;
  u.device_id = id;
  u.seq = seq;
  u.count = count;
  u.gram = gram;
  u.moment = Eigen::VectorXd::Ones(gram.rows());
  return fed::encode(u);
}

double min_eigenvalue(const Eigen::MatrixXd& a) {
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(a, Eigen::EigenvaluesOnly).eigenvalues().minCoeff();
}

/// What a device does with a download: A = I + G must factor (ridge_stats, reg = 1).
void check_installable(const std::vector<std::byte>& bytes, double slack) {
  const auto dl = std::get<fed::fed_download>(decode(bytes));
  CHECK(min_eigenvalue(dl.gram) >= -slack);
  ib::ridge_stats<> s(static_cast<std::size_t>(dl.gram.rows()), 1.0);
  CHECK_NOTHROW(s.add_statistics(dl.gram, dl.moment, dl.count));
}

/// Every way a device can obtain the group's statistics still works.
void check_group_serves(fed::fed_aggregator& edge, const std::string& g, std::uint32_t d,
                        const std::vector<std::uint64_t>& members, double slack) {
  for (const auto id : members) {
    check_installable(edge.download_for(id), slack);
    check_installable(edge.handle(hello(id, g, d)), slack);
  }
  check_installable(edge.broadcast(g), slack);
  check_installable(edge.handle(hello(999, g, d)), slack);  // a newcomer too
}

}  // namespace

TEST_CASE("fed aggregator: an upload that would make a group's Gram indefinite is refused (issue 12)") {
  fed::fed_aggregator edge;
  const double slack = edge.options().psd_slack;
  const std::uint32_t d = 3;
  for (std::uint64_t id = 1; id <= 3; ++id) (void)edge.handle(hello(id, "g", d));
  Eigen::MatrixXd x{{1.0, 0.2, 0.0}, {0.0, 1.0, 0.3}, {0.5, 0.0, 1.0}, {0.1, 0.1, 0.1}};
  REQUIRE(std::holds_alternative<fed::fed_ack>(decode(edge.handle(rows_upload(1, 1, x, Eigen::VectorXd::Ones(4))))));
  const Eigen::Vector3d v = Eigen::Vector3d(1.0, -2.0, 0.5).normalized();
  std::vector<std::pair<std::string, Eigen::MatrixXd>> hostile = {
      {"eigenvalue -1", Eigen::Matrix3d{{1.0, 2.0, 0.0}, {2.0, 1.0, 0.0}, {0.0, 0.0, 1.0}}},
      {"zero diagonal", Eigen::Matrix3d{{0.0, 1.0, 0.0}, {1.0, 0.0, 0.0}, {0.0, 0.0, 0.0}}},
      {"eigenvalue -3", Eigen::Matrix3d{{3.0, 6.0, 0.0}, {6.0, 3.0, 0.0}, {0.0, 0.0, 0.0}}},
      // 1e11 scale, eigenvalue -1e5: relative to the entries tiny, to a device's prior huge
      {"large scale", Eigen::Matrix3d(1e11 * (Eigen::Matrix3d::Identity() - (1.0 + 1e-6) * v * v.transpose()))},
  };
  for (const auto& [name, gram] : hostile) {
    CAPTURE(name);
    REQUIRE(min_eigenvalue(gram + edge.group_gram("g")) < -slack);  // the oracle agrees it is hostile
    const auto before = state(edge);
    const auto r = std::get<fed::fed_reject>(decode(edge.handle(dense_stats_upload(2, 1, gram))));
    CHECK(r.code == fed::fed_reject_code::invalid_statistics);
    CHECK(r.text.find("positive semi-definite") != std::string::npos);
    CHECK(r.text.rfind("[incision.federated]", 0) == 0);
    CHECK(same(before, state(edge)));
    CHECK(edge.last_seq(2) == 0);
    check_group_serves(edge, "g", d, {1, 2, 3}, slack);
  }
  // Counts: a group may pool at most max_group_count (2^53) observations; 2^64 - 1 does not even decode.
  const std::uint64_t pooled = edge.group_count("g");
  const auto before = state(edge);
  const auto r = std::get<fed::fed_reject>(
      decode(edge.handle(dense_stats_upload(2, 1, Eigen::Matrix3d::Identity(), fed::fed_max_count - pooled + 1))));
  CHECK(r.code == fed::fed_reject_code::invalid_statistics);
  CHECK(r.text.find("max_group_count") != std::string::npos);
  CHECK(same(before, state(edge)));
  CHECK(edge.group_count("g") == pooled);
  {
    incision::detail::byte_writer w;
    w.u16(fed::fed_protocol_version);
    w.u64(2);
    w.u64(1);
    w.u32(d);
    w.u64(std::numeric_limits<std::uint64_t>::max());
    w.u8(0);
    for (int i = 0; i < 6 + 3; ++i) w.f64(i < 1 || i == 3 || i == 5 ? 1.0 : 0.0);
    CHECK_THROWS_AS((void)edge.handle(incision::detail::seal(201, w.buffer())), incision::parse_error);
    CHECK(same(before, state(edge)));
  }
  // The refused device is not locked out: its honest upload 1 is taken.
  CHECK(std::holds_alternative<fed::fed_ack>(decode(edge.handle(dense_upload(2, 1, x, Eigen::VectorXd::Ones(4))))));
  check_group_serves(edge, "g", d, {1, 2, 3}, slack);
}

TEST_CASE("fed aggregator: random uploads near the boundary never break a group (bounded fuzz)") {
  std::mt19937_64 rng(12);
  std::normal_distribution<double> N(0.0, 1.0);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  const std::uint32_t d = 4;
  int accepted = 0, refused = 0;
  for (int trial = 0; trial < 200; ++trial) {
    fed::fed_aggregator edge;
    const double slack = edge.options().psd_slack;
    (void)edge.handle(hello(1, "g", d));
    (void)edge.handle(hello(2, "g", d));
    Eigen::MatrixXd x(6, d);
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = N(rng);
    REQUIRE(std::holds_alternative<fed::fed_ack>(decode(edge.handle(rows_upload(1, 1, x, Eigen::VectorXd::Ones(6))))));
    // c I - t u u^T along the group's weakest direction u (c keeps the diagonal >= 0): the sum's
    // smallest eigenvalue lands anywhere in about [-lambda, lambda], lambda the group's own.
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(edge.group_gram("g"));
    const double lambda = eig.eigenvalues()(0);
    const Eigen::VectorXd u = eig.eigenvectors().col(0);
    const double m = u.cwiseAbs2().maxCoeff();
    if (m > 0.95) continue;  // almost an axis: c would explode
    const double delta = lambda * (2.0 * U(rng) - 1.0);
    const double t = (lambda - delta) / (1.0 - m);
    Eigen::MatrixXd gram = t * m * Eigen::MatrixXd::Identity(d, d) - t * u * u.transpose();
    gram = 0.5 * (gram + gram.transpose()).eval();
    gram.diagonal() = gram.diagonal().cwiseMax(0.0);
    const double oracle = min_eigenvalue(edge.group_gram("g") + gram);
    const auto before = state(edge);
    const auto reply = decode(edge.handle(dense_stats_upload(2, 1, gram)));
    if (std::holds_alternative<fed::fed_ack>(reply)) {
      ++accepted;
      CHECK(oracle >= -slack);
    } else {
      ++refused;
      CHECK(std::get<fed::fed_reject>(reply).code == fed::fed_reject_code::invalid_statistics);
      CHECK(oracle < 1e-9);  // a sum that is clearly PSD is never refused
      CHECK(same(before, state(edge)));
    }
    CHECK(min_eigenvalue(edge.group_gram("g")) >= -slack);
    check_installable(edge.download_for(1), slack);
    check_installable(edge.download_for(2), slack);
  }
  CHECK(accepted > 20);
  CHECK(refused > 20);
}

TEST_CASE("fed aggregator: floods beyond the configured caps are refused and memory stays bounded (issue 12)") {
  SUBCASE("200 hellos of dimension 1024 in distinct groups allocate nothing by default") {
    fed::fed_aggregator edge;
    std::size_t reply_bytes = 0;
    for (std::uint64_t id = 1; id <= 200; ++id) {
      const auto msg = hello(id, "g" + std::to_string(id), 1024);
      CHECK(msg.size() < 64);
      const auto reply = edge.handle(msg);
      reply_bytes += reply.size();
      const auto r = std::get<fed::fed_reject>(decode(reply));
      CHECK(r.code == fed::fed_reject_code::limit_exceeded);
      CHECK(r.text.find("max_dim") != std::string::npos);
    }
    CHECK(edge.n_groups() == 0);
    CHECK(edge.n_devices() == 0);
    CHECK(edge.memory_bytes() == 0);
    CHECK(reply_bytes < 200 * 256);
  }
  SUBCASE("group and device caps") {
    fed::fed_aggregator_options o;
    o.max_groups = 4;
    o.max_devices = 10;
    o.max_dim = 16;
    fed::fed_aggregator edge(o);
    for (std::uint64_t id = 1; id <= 200; ++id) {
      const auto reply = decode(edge.handle(hello(id, "g" + std::to_string(id), 16)));
      CHECK(std::holds_alternative<fed::fed_download>(reply) == (id <= 4));
      if (id > 4) CHECK(std::get<fed::fed_reject>(reply).code == fed::fed_reject_code::limit_exceeded);
    }
    for (std::uint64_t id = 1001; id <= 1200; ++id) {
      const auto reply = decode(edge.handle(hello(id, "g1", 16)));
      CHECK(std::holds_alternative<fed::fed_download>(reply) == (id <= 1006));
    }
    CHECK(edge.n_groups() == 4);
    CHECK(edge.n_devices() == 10);
    CHECK(edge.memory_bytes() <= o.memory_budget);
    CHECK(edge.memory_bytes() >= 4 * 8 * 16 * 16);  // at least the four Gram matrices
    // Members still upload and download; known devices may say hello again at the cap.
    Eigen::MatrixXd x = Eigen::MatrixXd::Identity(16, 16);
    CHECK(
        std::holds_alternative<fed::fed_ack>(decode(edge.handle(dense_upload(1001, 1, x, Eigen::VectorXd::Ones(16))))));
    CHECK(std::holds_alternative<fed::fed_download>(decode(edge.handle(hello(1001, "g1", 16)))));
    check_installable(edge.download_for(1), o.psd_slack);
  }
  SUBCASE("the memory budget binds before the group cap") {
    fed::fed_aggregator_options o;
    o.max_dim = 32;
    o.memory_budget = 100'000;
    fed::fed_aggregator edge(o);
    std::size_t admitted = 0;
    for (std::uint64_t id = 1; id <= 200; ++id) {
      const auto reply = decode(edge.handle(hello(id, "group-" + std::to_string(id), 32)));
      if (std::holds_alternative<fed::fed_download>(reply)) {
        ++admitted;
      } else {
        const auto& r = std::get<fed::fed_reject>(reply);
        CHECK(r.code == fed::fed_reject_code::limit_exceeded);
        CHECK(r.text.find("memory_budget") != std::string::npos);
      }
      CHECK(edge.memory_bytes() <= o.memory_budget);
    }
    CHECK(admitted == edge.n_groups());
    CHECK(admitted >= 1);
    CHECK(admitted * 8 * (32 * 32 + 32) <= o.memory_budget);  // independent lower bound of the storage
    CHECK(edge.n_groups() < 200);
  }
  SUBCASE("messages above max_message_bytes are refused unread") {
    fed::fed_aggregator_options o;
    o.max_message_bytes = 1000;
    fed::fed_aggregator edge(o);
    (void)edge.handle(hello(1, "g", 16));
    Eigen::MatrixXd x = Eigen::MatrixXd::Identity(16, 16);
    const auto big = dense_upload(1, 1, x, Eigen::VectorXd::Ones(16));
    REQUIRE(big.size() > 1000);
    const auto before = state(edge);
    const auto r = std::get<fed::fed_reject>(decode(edge.handle(big)));
    CHECK(r.code == fed::fed_reject_code::limit_exceeded);
    CHECK(r.device_id == 1);  // addressed, so the device takes its upload back
    CHECK(r.seq == 1);
    CHECK(same(before, state(edge)));
    std::vector<std::byte> junk(5000, std::byte{0});  // bad bytes still throw, whatever their size
    CHECK_THROWS_AS((void)edge.handle(junk), incision::parse_error);
    CHECK(same(before, state(edge)));
    CHECK(std::holds_alternative<fed::fed_ack>(
        decode(edge.handle(rows_upload(1, 1, x.topRows(2), Eigen::VectorXd::Ones(2))))));
  }
  SUBCASE("options out of range throw") {
    auto bad = [](auto tweak) {
      fed::fed_aggregator_options o;
      tweak(o);
      CHECK_THROWS_AS(fed::fed_aggregator{o}, incision::invalid_argument);
    };
    bad([](fed::fed_aggregator_options& o) { o.max_dim = 0; });
    bad([](fed::fed_aggregator_options& o) { o.max_dim = 1025; });
    bad([](fed::fed_aggregator_options& o) { o.max_groups = 0; });
    bad([](fed::fed_aggregator_options& o) { o.max_devices = 0; });
    bad([](fed::fed_aggregator_options& o) { o.max_group_count = fed::fed_max_count + 1; });
    bad([](fed::fed_aggregator_options& o) { o.psd_slack = std::numeric_limits<double>::quiet_NaN(); });
    bad([](fed::fed_aggregator_options& o) { o.psd_slack = 0.0; });
    bad([](fed::fed_aggregator_options& o) { o.max_statistic = std::numeric_limits<double>::infinity(); });
  }
}
