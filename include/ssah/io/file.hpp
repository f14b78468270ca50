#pragma once
/// \file
/// Reading files for the io layer: a random-access byte source (a file or a memory buffer) that
/// never reads past its end, so that every reader checks sizes from a header against the real
/// length before it allocates, and the same parsing code serves files and fuzzers.
///
/// POSIX only (open/pread/fstat), like the rest of the io layer.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssah/error.hpp"

namespace ssah {
namespace io {
namespace detail {
using ::ssah::detail::concat;
using ::ssah::detail::fail;

/// Read-only random access to `size()` bytes named `name()` in messages.
class ByteSource {
 public:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}
  virtual ~ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  const std::string& name() const noexcept { return name_; }
  virtual std::size_t size() const noexcept = 0;
  /// Copies `n` bytes starting at `offset` into `dst`; `IoError` when they are not all there.
  void read(std::size_t offset, void* dst, std::size_t n) const {
    if (offset > size() || n > size() - offset)
      fail<IoError>("'", name_, "': truncated: needs bytes ", offset, "..", offset + n, " but has ", size());
    if (n) read_impl(offset, static_cast<unsigned char*>(dst), n);
  }

 private:
  virtual void read_impl(std::size_t offset, unsigned char* dst, std::size_t n) const = 0;
  std::string name_;
};

/// A caller-owned memory buffer (fuzzers, in-memory tests).
class MemorySource final : public ByteSource {
 public:
  MemorySource(const unsigned char* data, std::size_t n, std::string name)
      : ByteSource(std::move(name)), data_(data), size_(n) {}
  std::size_t size() const noexcept override { return size_; }

 private:
  void read_impl(std::size_t offset, unsigned char* dst, std::size_t n) const override {
    std::memcpy(dst, data_ + offset, n);
  }
  const unsigned char* data_;
  std::size_t size_;
};

/// What a file that is not a regular one is, for messages: "a directory", "a FIFO", ...
inline const char* file_kind(mode_t mode) noexcept {
  return S_ISDIR(mode)                    ? "a directory"
         : S_ISFIFO(mode)                 ? "a FIFO"
         : S_ISSOCK(mode)                 ? "a socket"
         : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
         : S_ISLNK(mode)                  ? "a symbolic link"
         : S_ISREG(mode)                  ? "a regular file"
                                          : "not a file";
}

/// A regular file opened read-only; its size is taken once at open.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : ByteSource(path) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; it is
    // refused below instead (and has no effect on reading a regular file).
    do fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) fail<IoError>("cannot open '", path, "': ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      fail<IoError>("cannot stat '", path, "': ", std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      fail<IoError>("'", path, "': not a regular file (", file_kind(st.st_mode), ")");
    }
    size_ = static_cast<std::size_t>(st.st_size);
  }
  ~FileSource() override { ::close(fd_); }
  std::size_t size() const noexcept override { return size_; }
  /// The open descriptor (e.g. to map the file), valid while this object lives.
  int fd() const noexcept { return fd_; }

 private:
  void read_impl(std::size_t offset, unsigned char* dst, std::size_t n) const override {
    while (n > 0) {
      const ssize_t got = ::pread(fd_, dst, n, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail<IoError>("cannot read '", name(), "': ", std::strerror(errno));
      if (got == 0) fail<IoError>("'", name(), "': file shrank while being read");
      dst += got;
      offset += static_cast<std::size_t>(got);
      n -= static_cast<std::size_t>(got);
    }
  }
  int fd_ = -1;
  std::size_t size_ = 0;
};

}  // namespace detail

/// The whole content of a regular file; `IoError` naming the file when it cannot be read.
inline std::vector<unsigned char> read_file(const std::string& path) {
  detail::FileSource src(path);
  std::vector<unsigned char> out(src.size());
  src.read(0, out.data(), out.size());
  return out;
}

}  // namespace io
}  // namespace ssah
