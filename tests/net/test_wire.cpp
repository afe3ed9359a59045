// The wire format: every message round-trips; the header is refused before allocation when it
// announces more than the limit; truncation, padding, a flipped bit, a wrong version, a bad
// magic and out-of-range fields are parse_errors naming the problem.
#include <incision/exec/example_networks.hpp>
#include <incision/exec/wire.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace ie = incision::exec;
namespace ip = incision::partition;

namespace {
ie::tensor_list two_tensors() {
  ie::tensor_list ts(2);
  ts[0].id = 3;
  ts[0].value = ie::random_tensor({1, 2, 3}, 1);
  ts[1].id = 9;
  ts[1].value = ie::random_tensor({4}, 2);
  return ts;
}
std::string error_of(auto&& f) {
  try {
    f();
  } catch (const incision::parse_error& e) {
    return e.what();
  }
  return "(no parse_error)";
}
}  // namespace

TEST_CASE("wire: hello, welcome, error, request and reply round-trip") {
  std::vector<std::byte> b;
  ie::encode(ie::wire_hello{1, 0x1234567890ULL}, b);
  auto f = ie::open_frame(b);
  CHECK(f.kind == 310);
  CHECK(ie::decode_hello(f.payload).model == 0x1234567890ULL);

  ie::encode(ie::wire_welcome{1, ie::wire_status::wrong_model, 7, 99, "no"}, b);
  f = ie::open_frame(b);
  const auto w = ie::decode_welcome(f.payload);
  CHECK((w.status == ie::wire_status::wrong_model && w.model == 7 && w.max_frame_bytes == 99 && w.text == "no"));

  ie::encode(ie::wire_error{ie::wire_status::busy, "full"}, b);
  const auto e = ie::decode_error(ie::open_frame(b).payload);
  CHECK((e.code == ie::wire_status::busy && e.text == "full"));

  const auto ts = two_tensors();
  const std::vector<ip::layer_id> d{0, 1, 2, 3};
  ie::encode_request(42, 77, 1000, d, ts, b);
  f = ie::open_frame(b);
  CHECK(f.kind == 312);
  ie::wire_request r;
  ie::decode_request(f.payload, r);
  CHECK((r.frame_id == 42 && r.plan_id == 77 && r.budget_us == 1000 && r.device_layers == d));
  ie::tensor_list back;
  ie::decode(r.tensors, back);
  REQUIRE(back.size() == 2);
  CHECK((back[0].id == 3 && back[1].id == 9 && back[0].value == ts[0].value && back[1].value == ts[1].value));

  ie::encode_reply(42, 77, ie::wire_status::ok, 12345, "", ts, b);
  auto rep = ie::decode_reply(ie::open_frame(b).payload);
  CHECK((rep.frame_id == 42 && rep.server_ns == 12345 && rep.status == ie::wire_status::ok));
  ie::decode(rep.tensors, back);
  CHECK(back[1].value == ts[1].value);
  ie::encode_reply(43, 77, ie::wire_status::expired, 0, "late", ts, b);  // no tensors unless ok
  rep = ie::decode_reply(ie::open_frame(b).payload);
  CHECK((rep.status == ie::wire_status::expired && rep.tensors.empty() && rep.text == "late"));
}

TEST_CASE("wire: a header announcing more than the limit is refused before the body is read") {
  std::vector<std::byte> b;
  ie::encode_request(1, 1, 0, std::vector<ip::layer_id>{0}, two_tensors(), b);
  ie::wire_limits lim;
  lim.max_frame_bytes = 64;
  const std::string m = error_of([&] { (void)ie::read_frame_header(std::span(b).first(16), lim); });
  CHECK(m.find("[incision.net]") != std::string::npos);
  CHECK(m.find("exceeds the limit 64") != std::string::npos);
  // a header claiming 2^63 bytes: refused by the header check alone
  std::vector<std::byte> h(b.begin(), b.begin() + 16);
  h[15] = std::byte{0x80};
  CHECK(error_of([&] { (void)ie::read_frame_header(h); }).find("exceeds the limit") != std::string::npos);
}

TEST_CASE("wire: corrupt frames are parse errors naming the problem") {
  std::vector<std::byte> good;
  ie::encode_request(5, 6, 0, std::vector<ip::layer_id>{0, 1}, two_tensors(), good);
  auto bad = good;
  bad[20] ^= std::byte{1};
  CHECK(error_of([&] { (void)ie::open_frame(bad); }).find("checksum") != std::string::npos);
  bad = good;
  bad[4] = std::byte{9};  // envelope version 9
  CHECK(error_of([&] { (void)ie::open_frame(bad); }).find("unsupported envelope version 9") != std::string::npos);
  bad = good;
  bad[0] = std::byte{'X'};
  CHECK(error_of([&] { (void)ie::open_frame(bad); }).find("bad magic") != std::string::npos);
  bad.assign(good.begin(), good.end() - 1);
  CHECK(error_of([&] { (void)ie::open_frame(bad); }).find("truncated or padded") != std::string::npos);
  bad = good;
  bad.push_back(std::byte{0});
  CHECK(error_of([&] { (void)ie::open_frame(bad); }).find("truncated or padded") != std::string::npos);
  // a device set count beyond the data present
  std::vector<std::byte> payload(28, std::byte{0});
  payload[24] = std::byte{0xFF};
  ie::wire_request r;
  r.frame_id = 99;
  CHECK(error_of([&] { ie::decode_request(payload, r); }).find("exceeds") != std::string::npos);
  CHECK(r.frame_id == 99);  // untouched
  CHECK(error_of([&] { (void)ie::decode_hello(std::span(payload).first(5)); }).find("expected 12") !=
        std::string::npos);
}

TEST_CASE("wire: the model fingerprint tells networks and weights apart") {
  const auto a = ie::model_fingerprint(ie::resnet_network(1));
  CHECK(a == ie::model_fingerprint(ie::resnet_network(1)));
  CHECK(a != ie::model_fingerprint(ie::resnet_network(2)));  // same graph, other weights
  CHECK(a != ie::model_fingerprint(ie::inception_network(1)));
}
