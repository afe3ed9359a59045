/// @file
/// @brief Crash-safe file replacement and whole-file reads (internal).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

INCISION_BEGIN_NAMESPACE
namespace detail {

/// Writes `data` to `path` so that a crash at any point leaves either the old file or the new
/// one, never a mix: write a sibling temporary, flush it to disk, then rename over the target.
inline void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> data) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  auto fail = [&](const char* step) {
    const std::string why = std::strerror(errno);
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    INCISION_THROW(io_error(message("io", std::string(step) + " '" + tmp.string() + "': " + why)));
  };
#if defined(__unix__) || defined(__APPLE__)
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create");
  std::size_t done = 0;
  while (done < data.size()) {
    const ::ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("cannot flush");
  }
  if (::close(fd) != 0) fail("cannot close");
#else
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot create");
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) fail("cannot write");
  }
#endif
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    errno = ec.value();
    fail("cannot rename into place");
  }
}

/// Reads a whole file. @throws io_error if it cannot be opened or read.
inline std::vector<std::byte> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    INCISION_THROW(io_error(message("io", "cannot open '" + path.string() + "': " +
                                              std::strerror(errno))));
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) INCISION_THROW(io_error(message("io", "cannot read '" + path.string() + "'")));
  std::vector<std::byte> out(chars.size());
  if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

}  // namespace detail
INCISION_END_NAMESPACE
