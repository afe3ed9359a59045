#include <incision/detail/atomic_file.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <csignal>
#endif

using namespace incision;
namespace fs = std::filesystem;

namespace {

std::string process_tag() {
#if defined(__unix__) || defined(__APPLE__)
  return std::to_string(::getpid());
#else
  return "0";
#endif
}

// A fresh, empty directory per test (the process id keeps concurrent runs of this binary,
// e.g. from two build trees, apart), removed on scope exit.
struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& name)
      : path(fs::temp_directory_path() / ("incision_test_" + name + "_" + process_tag())) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

std::vector<std::byte> filled(std::size_t n, unsigned char value) {
  return std::vector<std::byte>(n, static_cast<std::byte>(value));
}

void write_plain(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string read_plain(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("atomic write replaces the target and leaves no temporary") {
  scratch_dir dir("atomic_replace");
  const auto path = dir.path / "state.bin";
  const auto first = filled(100, 1);
  detail::write_file_atomic(path, first);
  CHECK(detail::read_file_bytes(path) == first);
  const auto second = filled(50, 2);
  detail::write_file_atomic(path, second);
  CHECK(detail::read_file_bytes(path) == second);
  CHECK(entries(dir.path) == std::vector<std::string>{"state.bin"});
  CHECK_THROWS_AS(detail::read_file_bytes(dir.path / "missing.bin"), io_error);
  CHECK_THROWS_WITH_AS(detail::write_file_atomic(dir.path / "no" / "such" / "dir.bin", first),
                       doctest::Contains("[incision.io]"), io_error);
  CHECK(detail::read_file_bytes(path) == second);
  // A relative name (no directory part) writes into the working directory.
  const auto cwd = fs::current_path();
  fs::current_path(dir.path);
  detail::write_file_atomic("relative.bin", first);
  fs::current_path(cwd);
  CHECK(detail::read_file_bytes(dir.path / "relative.bin") == first);
}

#if defined(__unix__) || defined(__APPLE__)
TEST_CASE("atomic write never follows or removes a symlink at the old temporary name") {
  scratch_dir dir("atomic_symlink");
  const auto path = dir.path / "state.bin";
  const auto victim = dir.path / "victim.txt";
  write_plain(victim, "precious");
  fs::create_symlink(victim, dir.path / "state.bin.tmp");

  detail::write_file_atomic(path, filled(64, 7));
  CHECK(read_plain(victim) == "precious");
  CHECK(fs::is_symlink(dir.path / "state.bin.tmp"));
  CHECK_FALSE(fs::is_symlink(path));
  CHECK(detail::read_file_bytes(path) == filled(64, 7));
}

TEST_CASE("a failed atomic write leaves the old target and other files alone") {
  scratch_dir dir("atomic_fail");
  const auto path = dir.path / "state.bin";
  detail::write_file_atomic(path, filled(100, 1));
  write_plain(dir.path / "state.bin.tmp", "someone else's file");

  SUBCASE("the write itself fails (file size limit)") {
    // RLIMIT_FSIZE makes write() fail with EFBIG once SIGXFSZ is ignored; restored below.
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    CHECK_THROWS_WITH_AS(detail::write_file_atomic(path, filled(1 << 16, 2)), doctest::Contains("cannot write"),
                         io_error);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
    std::signal(SIGXFSZ, old_handler);
  }
  SUBCASE("the rename fails (a directory is in the way)") {
    const auto blocked = dir.path / "blocked";
    fs::create_directories(blocked / "inside");
    CHECK_THROWS_WITH_AS(detail::write_file_atomic(blocked, filled(10, 3)), doctest::Contains("rename"), io_error);
    CHECK(fs::is_directory(blocked / "inside"));
    fs::remove_all(blocked);
  }
  CHECK(detail::read_file_bytes(path) == filled(100, 1));
  CHECK(read_plain(dir.path / "state.bin.tmp") == "someone else's file");
  CHECK(entries(dir.path) == std::vector<std::string>{"state.bin", "state.bin.tmp"});
}
#endif

TEST_CASE("concurrent atomic writers to one path each leave a whole file") {
  scratch_dir dir("atomic_concurrent");
  const auto path = dir.path / "state.bin";
  // Big enough that a shared temporary would interleave the two writers' chunks.
  constexpr std::size_t size = std::size_t{1} << 20;
  const auto a = filled(size, 0xAA);
  const auto b = filled(size + 4096, 0xBB);
  constexpr int rounds = 8;
  for (int round = 0; round < rounds; ++round) {
    std::atomic<int> failures{0};
    std::thread other([&] {
      try {
        detail::write_file_atomic(path, b);
      } catch (const io_error&) {
        ++failures;
      }
    });
    try {
      detail::write_file_atomic(path, a);
    } catch (const io_error&) {
      ++failures;
    }
    other.join();
    CHECK(failures == 0);
    const auto got = detail::read_file_bytes(path);
    CHECK((got == a || got == b));
  }
  CHECK(entries(dir.path) == std::vector<std::string>{"state.bin"});
}

#if defined(__unix__) || defined(__APPLE__)
TEST_CASE("reading refuses what is not a regular file, and files over the limit") {
  scratch_dir dir("read_kinds");
  SUBCASE("a character device that never ends") {
    CHECK_THROWS_WITH_AS(
        detail::read_file_bytes("/dev/zero"),
        doctest::Contains("[incision.io] cannot read '/dev/zero': not a regular file (a character device)"), io_error);
  }
  SUBCASE("a FIFO with no writer (must not block)") {
    const auto fifo = dir.path / "pipe";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(detail::read_file_bytes(fifo), doctest::Contains("(a FIFO)"), io_error);
  }
  SUBCASE("a directory") {
    CHECK_THROWS_WITH_AS(detail::read_file_bytes(dir.path), doctest::Contains("(a directory)"), io_error);
  }
  SUBCASE("a symlink to a regular file is followed") {
    detail::write_file_atomic(dir.path / "real.bin", filled(3, 9));
    fs::create_symlink(dir.path / "real.bin", dir.path / "link.bin");
    CHECK(detail::read_file_bytes(dir.path / "link.bin") == filled(3, 9));
  }
  SUBCASE("a file over the size limit") {
    const auto big = dir.path / "big.bin";
    detail::write_file_atomic(big, filled(1000, 5));
    CHECK(detail::read_file_bytes(big, 1000) == filled(1000, 5));
    CHECK_THROWS_WITH_AS(detail::read_file_bytes(big, 999), doctest::Contains("1000 bytes exceeds the limit of 999"),
                         io_error);
    CHECK(detail::default_max_file_bytes == std::size_t{1} << 30);
  }
  SUBCASE("an empty file") {
    detail::write_file_atomic(dir.path / "empty.bin", {});
    CHECK(detail::read_file_bytes(dir.path / "empty.bin").empty());
  }
}
#endif
