// The simulated link against closed-form delivery times; CSV traces and their errors.
#include <incision/exec/sim_link.hpp>

#include <doctest/doctest.h>

#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace ie = incision::exec;

TEST_CASE("delivery times: rate, latency, FIFO wire, rate change mid-message, outages") {
  ie::sim_link c(ie::bandwidth_trace::constant(1e6, 0.01));
  CHECK(c.send(0.0, 1000) == doctest::Approx(0.011));
  CHECK(c.send(0.0, 1000) == doctest::Approx(0.012));  // waits for the first message to leave
  CHECK(c.send(1.0, 0) == doctest::Approx(1.01));
  std::vector<std::byte> bytes(500);
  CHECK(c.send(2.0, bytes) == doctest::Approx(2.0105));

  ie::sim_link change(ie::bandwidth_trace({{0.0, 1000.0}, {1.0, 4000.0}}));
  CHECK(change.send(0.5, 1500) == doctest::Approx(1.25));  // 500 B by t = 1, 1000 B at 4 kB/s

  ie::sim_link down(ie::bandwidth_trace({{0.0, 0.0}}));
  CHECK(std::isinf(down.send(0.0, 1)));
  ie::sim_link outage(ie::bandwidth_trace({{0.0, 0.0, 0.5}, {2.0, 100.0, 0.1}}));
  CHECK(outage.send(0.0, 100) == doctest::Approx(3.5));  // latency as in force at the start (0.5)
  CHECK(outage.send(5.0, 100) == doctest::Approx(6.1));
}

TEST_CASE("jitter is seeded, bounded and replayable") {
  const auto trace = ie::bandwidth_trace::constant(1e3, 0.1, 0.05);
  ie::sim_link a(trace, 7), b(trace, 7), other(trace, 8);
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    const double t = 10.0 * i;
    const double x = a.send(t, 100);
    CHECK(x == b.send(t, 100));
    CHECK(x >= t + 0.2);
    CHECK(x < t + 0.25);
    differs = differs || x != other.send(t, 100);
  }
  CHECK(differs);
  a.reset();
  b.reset();
  CHECK(a.send(0.0, 100) == b.send(0.0, 100));
}

TEST_CASE("CSV traces: columns, comments, and clear errors with the line") {
  const auto t = ie::bandwidth_trace::parse_csv("# 4G trace\ntime,bandwidth,latency\n0,1e6,0.02\n\n5.5, 2e5 ,0.03\r\n");
  REQUIRE(t.points().size() == 2);
  CHECK(t.at(6.0).bandwidth == 2e5);
  CHECK(t.at(6.0).latency == 0.03);
  CHECK(t.at(1.0).jitter == 0.0);
  const auto message = [](std::string_view text) {
    try {
      (void)ie::bandwidth_trace::parse_csv(text, "trace.csv");
    } catch (const incision::parse_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(message("time,rate\n0,1\n") == "[incision.exec] trace.csv:1: header column 2 is 'rate', expected 'bandwidth'");
  CHECK(message("time,bandwidth\n0,abc\n") == "[incision.exec] trace.csv:2: 'abc' is not a number");
  CHECK(message("time,bandwidth\n0,1\n0,2\n") == "[incision.exec] trace.csv:3: times must increase strictly");
  CHECK(message("time,bandwidth\n0,1,2\n") == "[incision.exec] trace.csv:2: 3 values, the header names 2");
  CHECK(message("time,bandwidth\n0,-1\n").find("finite and >= 0") != std::string::npos);
  CHECK(message("time,bandwidth\n0,inf\n").find("finite and >= 0") != std::string::npos);
  CHECK(message("time,bandwidth\n").find("no rows") != std::string::npos);
  CHECK(message("").find("no header") != std::string::npos);
  CHECK_THROWS_WITH_AS(ie::bandwidth_trace({{1.0, 5.0}, {0.5, 5.0}}), doctest::Contains("row 1: times must increase"),
                       incision::invalid_argument);

  const auto dir = std::filesystem::temp_directory_path() / ("incision_exec_trace_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "t.csv") << "time,bandwidth,latency,jitter\n0,1000,0.1,0\n";
  CHECK(ie::bandwidth_trace::load_csv(dir / "t.csv").points()[0].latency == 0.1);
  CHECK_THROWS_AS((void)ie::bandwidth_trace::load_csv(dir / "missing.csv"), incision::io_error);
  std::filesystem::remove_all(dir);
}
