// FedLinUCB-DW messages: round trips, and every truncation and bit flip of every kind is refused.
#include <incision/federated/messages.hpp>

#include <doctest/doctest.h>

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace fed = incision::federated;

namespace {

Eigen::MatrixXd random_gram(std::mt19937_64& rng, int d, int n) {
  std::normal_distribution<double> N(0.0, 1.0);
  Eigen::MatrixXd x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = N(rng);
  Eigen::MatrixXd g = x.transpose() * x;
  return 0.5 * (g + g.transpose());
}

Eigen::VectorXd random_vector(std::mt19937_64& rng, int d) {
  std::normal_distribution<double> N(0.0, 1.0);
  Eigen::VectorXd v(d);
  for (int j = 0; j < d; ++j) v(j) = N(rng);
  return v;
}

std::vector<std::vector<std::byte>> one_of_each() {
  std::mt19937_64 rng(7);
  std::vector<std::vector<std::byte>> out;
  out.push_back(fed::encode(fed::fed_hello{42, "vgg16", 7, 0xABCDEF}));
  fed::fed_upload dense;
  dense.device_id = 42;
  dense.seq = 3;
  dense.count = 12;
  dense.gram = random_gram(rng, 4, 12);
  dense.moment = random_vector(rng, 4);
  out.push_back(fed::encode(dense));
  fed::fed_upload rows;
  rows.device_id = 42;
  rows.seq = 4;
  rows.count = 2;
  rows.as_rows = true;
  rows.rows_x = Eigen::MatrixXd::Random(2, 4);
  rows.rows_y = Eigen::VectorXd::Random(2);
  rows.rows_w = Eigen::VectorXd::Ones(2);
  out.push_back(fed::encode(rows));
  fed::fed_download dl;
  dl.group = "vgg16";
  dl.version = 9;
  dl.count = 100;
  dl.recipient = 42;
  dl.acked_seq = 4;
  dl.gram = random_gram(rng, 4, 20);
  dl.moment = random_vector(rng, 4);
  out.push_back(fed::encode(dl));
  out.push_back(fed::encode(fed::fed_ack{42, 4, 10}));
  out.push_back(fed::encode(fed::fed_reject{42, 4, fed::fed_reject_code::out_of_order, "expected 3"}));
  return out;
}

}  // namespace

TEST_CASE("fed messages: every kind round-trips exactly") {
  std::mt19937_64 rng(1);
  const fed::fed_hello h{7, "tiny-yolo", 9, 123456789};
  const auto hb = fed::encode(h);
  CHECK(fed::fed_message_kind(hb) == fed::fed_kind::hello);
  const auto hd = std::get<fed::fed_hello>(fed::decode_fed_message(hb));
  CHECK(hd.device_id == 7);
  CHECK(hd.group == "tiny-yolo");
  CHECK(hd.dim == 9);
  CHECK(hd.feature_tag == 123456789);

  fed::fed_upload u;
  u.device_id = 7;
  u.seq = 1;
  u.count = 30;
  u.gram = random_gram(rng, 5, 30);
  u.moment = random_vector(rng, 5);
  const auto ud = std::get<fed::fed_upload>(fed::decode_fed_message(fed::encode(u)));
  CHECK(ud.device_id == 7);
  CHECK(ud.seq == 1);
  CHECK(ud.count == 30);
  CHECK_FALSE(ud.as_rows);
  CHECK(ud.gram == u.gram);  // bit-exact
  CHECK(ud.moment == u.moment);

  // Rows: decoded statistics equal the closed form sum w y x, sum w x x^T.
  fed::fed_upload r;
  r.device_id = 7;
  r.seq = 2;
  r.count = 3;
  r.as_rows = true;
  r.rows_x = Eigen::MatrixXd::Random(3, 5);
  r.rows_y = Eigen::VectorXd::Random(3);
  r.rows_w = Eigen::VectorXd::Constant(3, 0.5);
  const auto rd = std::get<fed::fed_upload>(fed::decode_fed_message(fed::encode(r)));
  CHECK(rd.as_rows);
  CHECK(rd.rows_x == r.rows_x);
  CHECK(rd.rows_y == r.rows_y);
  CHECK(rd.rows_w == r.rows_w);
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(5, 5);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(5);
  for (int k = 0; k < 3; ++k) {
    g += 0.5 * r.rows_x.row(k).transpose() * r.rows_x.row(k);
    b += 0.5 * r.rows_y(k) * r.rows_x.row(k).transpose();
  }
  CHECK((rd.gram - g).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((rd.moment - b).cwiseAbs().maxCoeff() < 1e-12);

  fed::fed_download dl;
  dl.group = "g";
  dl.version = 5;
  dl.count = 77;
  dl.recipient = 0;
  dl.gram = random_gram(rng, 3, 10);
  dl.moment = random_vector(rng, 3);
  const auto dd = std::get<fed::fed_download>(fed::decode_fed_message(fed::encode(dl)));
  CHECK(dd.group == "g");
  CHECK(dd.version == 5);
  CHECK(dd.count == 77);
  CHECK(dd.recipient == 0);
  CHECK(dd.acked_seq == 0);
  CHECK(dd.gram == dl.gram);
  CHECK(dd.moment == dl.moment);

  const auto ad = std::get<fed::fed_ack>(fed::decode_fed_message(fed::encode(fed::fed_ack{3, 4, 5})));
  CHECK(ad.device_id == 3);
  CHECK(ad.seq == 4);
  CHECK(ad.version == 5);

  const auto jd = std::get<fed::fed_reject>(
      fed::decode_fed_message(fed::encode(fed::fed_reject{3, 0, fed::fed_reject_code::wrong_group, "no"})));
  CHECK(jd.device_id == 3);
  CHECK(jd.code == fed::fed_reject_code::wrong_group);
  CHECK(jd.text == "no");
}

TEST_CASE("fed messages: rows are used only when smaller than dense statistics") {
  // d = 16: dense is 136 + 16 = 152 doubles, one row is 18.
  CHECK(fed::fed_rows_are_smaller(1, 16));
  CHECK(fed::fed_rows_are_smaller(8, 16));
  CHECK_FALSE(fed::fed_rows_are_smaller(9, 16));
  fed::fed_upload r;
  r.device_id = 1;
  r.seq = 1;
  r.count = 1;
  r.as_rows = true;
  r.rows_x = Eigen::MatrixXd::Ones(1, 16);
  r.rows_y = Eigen::VectorXd::Ones(1);
  r.rows_w = Eigen::VectorXd::Ones(1);
  fed::fed_upload dense;
  dense.device_id = 1;
  dense.seq = 1;
  dense.count = 1;
  dense.gram = Eigen::MatrixXd::Ones(16, 16);
  dense.moment = Eigen::VectorXd::Ones(16);
  CHECK(fed::encode(r).size() < fed::encode(dense).size());
}

TEST_CASE("fed messages: every truncation and every single-bit flip is rejected") {
  for (const auto& msg : one_of_each()) {
    CAPTURE(msg.size());
    CHECK_NOTHROW((void)fed::decode_fed_message(msg));
    for (std::size_t n = 0; n < msg.size(); ++n) {
      std::vector<std::byte> cut(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_THROWS_AS((void)fed::decode_fed_message(cut), incision::parse_error);
    }
    std::vector<std::byte> padded = msg;
    padded.push_back(std::byte{0});
    CHECK_THROWS_AS((void)fed::decode_fed_message(padded), incision::parse_error);
    for (std::size_t i = 0; i < msg.size(); ++i)
      for (int bit = 0; bit < 8; ++bit) {
        std::vector<std::byte> flipped = msg;
        flipped[i] ^= static_cast<std::byte>(1U << bit);
        CHECK_THROWS_AS((void)fed::decode_fed_message(flipped), incision::parse_error);
      }
  }
}

namespace {
// Seals a hand-made payload with a valid envelope (valid checksum), to reach the payload checks.
std::vector<std::byte> sealed(fed::fed_kind kind, const incision::detail::byte_writer& w) {
  auto copy = w;
  return incision::detail::seal(static_cast<std::uint16_t>(kind), copy.buffer());
}
}  // namespace

TEST_CASE("fed messages: well-sealed but invalid payloads are refused with a reason") {
  using incision::detail::byte_writer;
  auto expect = [](const std::vector<std::byte>& b, const std::string& needle) {
    try {
      (void)fed::decode_fed_message(b);
      FAIL("decoded: " << needle);
    } catch (const incision::parse_error& e) {
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  {
    byte_writer w;
    w.u16(2);  // future protocol
    expect(sealed(fed::fed_kind::ack, w), "protocol version 2");
  }
  {
    byte_writer w;
    w.u16(1);
    w.u64(5);
    w.str("g");
    w.u32(0);  // dimension 0
    w.u64(0);
    expect(sealed(fed::fed_kind::hello, w), "dimension 0");
  }
  {
    byte_writer w;
    w.u16(1);
    w.u64(0);  // device 0
    w.str("g");
    w.u32(3);
    w.u64(0);
    expect(sealed(fed::fed_kind::hello, w), "device id 0");
  }
  {
    byte_writer w;
    w.u16(1);
    w.u64(5);
    w.str("");
    w.u32(3);
    w.u64(0);
    expect(sealed(fed::fed_kind::hello, w), "empty group");
  }
  {  // upload: rows count claims more rows than present
    byte_writer w;
    w.u16(1);
    w.u64(5);
    w.u64(1);
    w.u32(2);
    w.u64(1000000000000ULL);
    w.u8(1);
    w.u64(1000000000000ULL);
    expect(sealed(fed::fed_kind::upload, w), "exceeds the data present");
  }
  {  // upload: unknown encoding
    byte_writer w;
    w.u16(1);
    w.u64(5);
    w.u64(1);
    w.u32(2);
    w.u64(1);
    w.u8(7);
    expect(sealed(fed::fed_kind::upload, w), "unknown upload encoding 7");
  }
  {  // upload: NaN in the statistics
    byte_writer w;
    w.u16(1);
    w.u64(5);
    w.u64(1);
    w.u32(1);
    w.u64(1);
    w.u8(0);
    w.f64(std::numeric_limits<double>::quiet_NaN());
    w.f64(1.0);
    expect(sealed(fed::fed_kind::upload, w), "non-finite");
  }
  {  // upload: negative diagonal
    byte_writer w;
    w.u16(1);
    w.u64(5);
    w.u64(1);
    w.u32(1);
    w.u64(1);
    w.u8(0);
    w.f64(-1.0);
    w.f64(1.0);
    expect(sealed(fed::fed_kind::upload, w), "negative diagonal");
  }
  {  // upload: negative row weight
    byte_writer w;
    w.u16(1);
    w.u64(5);
    w.u64(1);
    w.u32(1);
    w.u64(1);
    w.u8(1);
    w.u64(1);
    w.f64(-0.5);
    w.f64(1.0);
    w.f64(1.0);
    expect(sealed(fed::fed_kind::upload, w), "weight");
  }
  {  // upload: rows that overflow once squared
    byte_writer w;
    w.u16(1);
    w.u64(5);
    w.u64(1);
    w.u32(1);
    w.u64(1);
    w.u8(1);
    w.u64(1);
    w.f64(1.0);
    w.f64(1.0);
    w.f64(1e300);
    expect(sealed(fed::fed_kind::upload, w), "overflow");
  }
  {  // broadcast download that acknowledges something
    byte_writer w;
    w.u16(1);
    w.str("g");
    w.u64(1);
    w.u32(1);
    w.u64(1);
    w.u64(0);
    w.u64(3);
    w.f64(1.0);
    w.f64(1.0);
    expect(sealed(fed::fed_kind::download, w), "broadcast");
  }
  {  // reject with an unknown code
    byte_writer w;
    w.u16(1);
    w.u64(1);
    w.u64(0);
    w.u16(999);
    w.str("x");
    expect(sealed(fed::fed_kind::reject, w), "unknown reject code");
  }
  {  // a kind outside the federated set
    byte_writer w;
    w.u16(1);
    auto b = w;
    expect(incision::detail::seal(12, b.buffer()), "not a FedLinUCB-DW message");
  }
}

TEST_CASE("fed messages: encoders refuse bad arguments") {
  CHECK_THROWS_AS((void)fed::encode(fed::fed_hello{0, "g", 3, 0}), incision::invalid_argument);
  CHECK_THROWS_AS((void)fed::encode(fed::fed_hello{1, "", 3, 0}), incision::invalid_argument);
  CHECK_THROWS_AS((void)fed::encode(fed::fed_hello{1, "g", 0, 0}), incision::invalid_argument);
  fed::fed_upload u;
  u.device_id = 1;
  u.seq = 1;
  u.count = 1;
  u.gram = Eigen::MatrixXd::Identity(2, 2);
  u.moment = Eigen::VectorXd::Zero(3);
  CHECK_THROWS_AS((void)fed::encode(u), incision::invalid_argument);
  u.moment = Eigen::VectorXd::Zero(2);
  u.gram(0, 0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS((void)fed::encode(u), incision::invalid_argument);
}
