/// @file
/// @brief Crash-safe file replacement and bounded whole-file reads (internal).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define INCISION_DETAIL_POSIX_FILES 1
#else
#define INCISION_DETAIL_POSIX_FILES 0
#endif

INCISION_BEGIN_NAMESPACE
namespace detail {

/// The largest file read_file_bytes accepts unless told otherwise (1 GiB): a loader must not
/// be made to allocate without bound by what it is pointed at.
inline constexpr std::size_t default_max_file_bytes = std::size_t{1} << 30;

/// Writes `data` to `path` so that a crash at any point leaves either the old file or the new
/// one, never a mix. The bytes go to a temporary with a fresh name in the target's directory,
/// created exclusively (never an existing file or a link), flushed to disk, renamed over the
/// target, and then the directory is flushed so the rename itself survives a crash. Concurrent
/// writers each use their own temporary: the target ends up as one of their files, whole.
/// On failure only our own temporary is removed; the old target is untouched.
/// @throws io_error naming the step, the file and the system's reason.
void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> data);

/// Reads a whole regular file (links are followed) of at most `max_bytes` bytes.
/// @throws io_error naming the path and the reason: it cannot be opened, is not a regular file
/// (a directory, FIFO, device, ...; a FIFO is never waited on), is larger than `max_bytes`, or a
/// read fails.
std::vector<std::byte> read_file_bytes(const std::filesystem::path& path,
                                       std::size_t max_bytes = default_max_file_bytes);

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

/// A name for the temporary next to `path` that no other writer (thread or process) picks:
/// "<name>.tmp-<16 hex digits>" from a per-process counter, the process id and the clock.
inline std::filesystem::path unique_temporary_name(const std::filesystem::path& path) {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t x = counter.fetch_add(1, std::memory_order_relaxed);
  x ^= static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) * 0x9E3779B97F4A7C15ULL;
#if INCISION_DETAIL_POSIX_FILES
  x ^= static_cast<std::uint64_t>(::getpid()) << 40;
#endif
  x ^= x >> 31;  // splitmix64 finaliser: spread every input bit over the 16 digits
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(x));
  std::filesystem::path tmp = path;
  tmp += ".tmp-";
  tmp += hex;
  return tmp;
}

inline void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> data) {
  std::filesystem::path tmp;
  bool created = false;
  auto fail = [&](const char* step, const std::filesystem::path& about, int err) {
    if (created) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);  // ours alone: created exclusively above
    }
    INCISION_THROW(io_error(message("io", std::string(step) + " '" + about.string() + "': " + std::strerror(err))));
  };
#if INCISION_DETAIL_POSIX_FILES
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = unique_temporary_name(path);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST && errno != EINTR) break;
  }
  if (fd < 0) fail("cannot create a temporary file", tmp, errno);
  created = true;
  std::size_t done = 0;
  while (done < data.size()) {
    const ::ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail("cannot write", tmp, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot flush", tmp, err);
  }
  if (::close(fd) != 0) fail("cannot close", tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename into place", path, errno);
  created = false;  // it is the target now
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("saved, but cannot open the directory to flush it", dir, errno);
  // Some file systems cannot flush a directory (EINVAL); the rename is as durable as they allow.
  if (::fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    const int err = errno;
    ::close(dfd);
    fail("saved, but cannot flush the directory", dir, err);
  }
  ::close(dfd);
#else
  for (int attempt = 0; attempt < 100; ++attempt) {
    tmp = unique_temporary_name(path);
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(tmp, ec))) break;
  }
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot create a temporary file", tmp, errno);
    created = true;
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) fail("cannot write", tmp, errno);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail("cannot rename into place", path, ec.value());
#endif
}

inline std::vector<std::byte> read_file_bytes(const std::filesystem::path& path, std::size_t max_bytes) {
  auto fail = [&](const std::string& why) {
    INCISION_THROW(io_error(message("io", "cannot read '" + path.string() + "': " + why)));
  };
  auto too_big = [&](std::uintmax_t size) {
    fail(std::to_string(size) + " bytes exceeds the limit of " + std::to_string(max_bytes) + " bytes");
  };
#if INCISION_DETAIL_POSIX_FILES
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is rejected below anyway.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) INCISION_THROW(io_error(message("io", "cannot open '" + path.string() + "': " + std::strerror(errno))));
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{fd};
  struct ::stat st {};
  if (::fstat(fd, &st) != 0) fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "of an unknown kind";
    fail(std::string("not a regular file (") + kind + ")");
  }
  if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) too_big(static_cast<std::uintmax_t>(st.st_size));
  // Read to the end, not to st_size: the file may change meanwhile; the limit still holds.
  std::vector<std::byte> out(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t got = 0;
  for (;;) {
    if (got == out.size()) {
      if (got > max_bytes) too_big(got);
      out.resize(got + (got < 65536 ? 65536 : got / 2));
    }
    const ::ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) too_big(got);
  out.resize(got);
  return out;
#else
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec) INCISION_THROW(io_error(message("io", "cannot open '" + path.string() + "': " + ec.message())));
  if (!std::filesystem::is_regular_file(st)) fail("not a regular file");
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(ec.message());
  if (size > max_bytes) too_big(size);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(std::strerror(errno));
  std::vector<std::byte> out(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) fail("shorter than its size");
  return out;
#endif
}

}  // namespace detail
INCISION_END_NAMESPACE

#undef INCISION_DETAIL_POSIX_FILES
