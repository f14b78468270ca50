#pragma once
/// \file
/// Atomic file replacement: every file ssah writes (arrays, checkpoints, reports) goes through
/// `AtomicFile`, so that a run that fails or is interrupted never leaves a half-written file in
/// place of a good one.
///
/// The data go to a hidden temporary file in the destination's directory
/// (".<name>.tmp-<pid>-<n>"); `commit()` flushes it, fsyncs it, renames it over the destination
/// (atomic on POSIX file systems) and fsyncs the directory. Destroying an `AtomicFile` that was
/// not committed (an exception, an early return) removes the temporary file and leaves the
/// destination untouched. A program's SIGINT / SIGTERM handler can remove the temporary files
/// being written with `remove_temporary_files()` (the `ssah` program does); a process killed
/// outright (SIGKILL) may leave one behind, never a partial destination. The new file gets mode 0666 minus the umask,
/// like any new file; a destination that is a symbolic link is replaced by the file, not followed. A destination that
/// exists and is not a regular file (a device such as /dev/null, a FIFO, a directory), or a link
/// to one (/dev/stdout to a pipe), is refused: renaming over it would replace the device node or
/// the link. So is a name that leads into /proc (/dev/stdout, /dev/fd/N, /proc/self/fd/N: a
/// process's open file, whatever it is): renaming would replace the system's /dev/stdout link.
///
/// POSIX only.

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssah/error.hpp"
#include "ssah/io/file.hpp"

namespace ssah {
namespace io {

namespace detail {
/// The first name on the way from `path` through its symbolic links whose folder is in /proc
/// ("/proc/self/fd/1" for /dev/stdout), or "" when there is none.
inline std::string name_in_proc(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  for (int hop = 0; hop < 40 && !ec; ++hop) {  // 40: the kernel's own limit on a chain of links
    const std::string folder = fs::canonical(p.parent_path(), ec).string();
    if (!ec && (folder == "/proc" || folder.rfind("/proc/", 0) == 0))  // named as written when it says /proc
      return p.string().rfind("/proc/", 0) == 0 ? p.string() : (fs::path(folder) / p.filename()).string();
    if (!fs::is_symlink(p, ec)) return "";
    const fs::path target = fs::read_symlink(p, ec);
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  return "";
}
}  // namespace detail

/// IoError unless `path` is a name ssah may write a file to: absent, a regular file, or a link to
/// a regular file or to nothing (the link is then replaced by the file), and not in /proc.
inline void check_output_destination(const std::string& path) {
  if (const std::string proc = detail::name_in_proc(path); !proc.empty())
    ::ssah::detail::fail<IoError>("cannot write '", path, "'", proc == path ? "" : ": it leads to '" + proc + "'",
                                  ", in /proc (where /dev/stdout and /dev/fd/N lead: a process's open files), "
                                  "where ssah cannot write a file: give the name of a file");
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // absent (or unreachable: creating it will say why)
  if (S_ISLNK(st.st_mode)) {
    struct stat target {};
    if (::stat(path.c_str(), &target) == 0 && !S_ISREG(target.st_mode))
      ::ssah::detail::fail<IoError>("cannot write '", path, "': it is a link to what is not a regular file (",
                                    io::detail::file_kind(target.st_mode), ")");
    return;
  }
  if (!S_ISREG(st.st_mode))
    ::ssah::detail::fail<IoError>("cannot write '", path, "': it exists and is not a regular file (",
                                  io::detail::file_kind(st.st_mode), ")");
}

namespace detail {

/// The temporary files being written, by name, where a signal handler can reach them without
/// allocating or locking: `remove_temporary_files()` unlinks them (a program that ends on SIGINT
/// or SIGTERM would otherwise leave them, gigabytes for a large search result).
struct TemporaryFileSlots {
  static constexpr std::size_t slots = 64, name_bytes = 4096;
  enum : int { free_slot = 0, filling = 1, live = 2 };
  std::atomic<int> state[slots];
  char names[slots][name_bytes];
};
inline TemporaryFileSlots& temporary_file_slots() noexcept {
  static TemporaryFileSlots s{};  // constant-initialised: no guard, safe to reach from a handler
  return s;
}
/// Records `name`; the slot, or -1 when all are taken or the name is too long (then not recorded).
inline int record_temporary_file(const std::string& name) noexcept {
  TemporaryFileSlots& s = temporary_file_slots();
  if (name.size() >= TemporaryFileSlots::name_bytes) return -1;
  for (std::size_t i = 0; i < TemporaryFileSlots::slots; ++i) {
    int expected = TemporaryFileSlots::free_slot;
    if (!s.state[i].compare_exchange_strong(expected, TemporaryFileSlots::filling)) continue;
    std::memcpy(s.names[i], name.c_str(), name.size() + 1);
    s.state[i].store(TemporaryFileSlots::live);
    return static_cast<int>(i);
  }
  return -1;
}
inline void forget_temporary_file(int slot) noexcept {
  if (slot >= 0) temporary_file_slots().state[slot].store(TemporaryFileSlots::free_slot);
}

}  // namespace detail

/// Unlinks every temporary file an `AtomicFile` is writing; async-signal-safe (for a SIGINT /
/// SIGTERM handler that then ends the program; the destinations are left as they were).
inline void remove_temporary_files() noexcept {
  detail::TemporaryFileSlots& s = detail::temporary_file_slots();
  for (std::size_t i = 0; i < detail::TemporaryFileSlots::slots; ++i)
    if (s.state[i].load() == detail::TemporaryFileSlots::live) ::unlink(s.names[i]);
}

/// A file being written that replaces `path` only when committed.
class AtomicFile {
 public:
  /// Creates the temporary file next to `path`; `IoError` when the directory is not writable.
  explicit AtomicFile(std::string path) : path_(std::move(path)) {
    if (path_.empty() || path_.back() == '/')
      ::ssah::detail::fail<IoError>("cannot write '", path_, "': not a file name");
    check_output_destination(path_);
    const std::size_t slash = path_.find_last_of('/');
    const std::string dir = slash == std::string::npos ? std::string() : path_.substr(0, slash + 1);
    // The temporary name must fit where the destination's does (255 bytes on most file systems).
    const std::string base = (slash == std::string::npos ? path_ : path_.substr(slash + 1)).substr(0, 200);
    static std::atomic<unsigned long> counter{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
      temp_ = dir + "." + base + ".tmp-" + std::to_string(static_cast<long>(::getpid())) + "-" +
              std::to_string(counter.fetch_add(1));
      do fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      while (fd_ < 0 && errno == EINTR);
      if (fd_ >= 0) break;
      if (errno != EEXIST)
        ::ssah::detail::fail<IoError>("cannot write '", path_, "': cannot create a temporary file in '",
                                      dir.empty() ? std::string(".") : dir, "': ", std::strerror(errno));
    }
    if (fd_ < 0) ::ssah::detail::fail<IoError>("cannot write '", path_, "': no free temporary file name");
    slot_ = detail::record_temporary_file(temp_);
    buffer_.reserve(buffer_capacity);
  }

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  AtomicFile(AtomicFile&& other) noexcept
      : path_(std::move(other.path_)),
        temp_(std::move(other.temp_)),
        buffer_(std::move(other.buffer_)),
        fd_(std::exchange(other.fd_, -1)),
        slot_(std::exchange(other.slot_, -1)) {}
  AtomicFile& operator=(AtomicFile&&) = delete;

  /// Removes the temporary file unless `commit()` succeeded.
  ~AtomicFile() { discard(); }

  /// The destination.
  const std::string& path() const noexcept { return path_; }
  /// The temporary file being written (empty once committed or discarded).
  const std::string& temp_path() const noexcept { return temp_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  /// The temporary file's descriptor (-1 once committed or discarded), for output that another
  /// writer produces (a child process's standard output); not to be closed, and used before any
  /// `write` (which buffers: its bytes would land after those written through the descriptor).
  int native_handle() const noexcept { return fd_; }

  void write(const void* data, std::size_t n) {
    require_open("write");
    const auto* p = static_cast<const unsigned char*>(data);
    if (n >= buffer_capacity) {
      flush_buffer();
      write_all(p, n);
      return;
    }
    if (buffer_.size() + n > buffer_capacity) flush_buffer();
    buffer_.insert(buffer_.end(), p, p + n);
  }
  void write(const std::string& text) { write(text.data(), text.size()); }

  /// Flushes, fsyncs and renames the temporary file over the destination; afterwards the
  /// destination holds exactly what was written. On failure the destination is unchanged.
  void commit() {
    require_open("commit");
    flush_buffer();
    if (::fsync(fd_) != 0) fail_errno("fsync");
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) {
      const int err = errno;
      ::unlink(temp_.c_str());
      forget_temporary();
      errno = err;
      fail_errno("close");
    }
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp_.c_str());
      forget_temporary();
      ::ssah::detail::fail<IoError>("cannot write '", path_,
                                    "': rename from the temporary file failed: ", std::strerror(err));
    }
    forget_temporary();
    sync_directory();
  }

  /// Closes and removes the temporary file; the destination is left as it was.
  void discard() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    if (!temp_.empty()) ::unlink(temp_.c_str());
    forget_temporary();
    buffer_.clear();
  }

 private:
  static constexpr std::size_t buffer_capacity = std::size_t(1) << 20;

  void forget_temporary() noexcept {
    detail::forget_temporary_file(std::exchange(slot_, -1));
    temp_.clear();
  }

  void require_open(const char* what) const {
    if (fd_ < 0)
      ::ssah::detail::fail<IoError>("cannot ", what, " '", path_, "': the file was already committed or discarded");
  }
  [[noreturn]] void fail_errno(const char* what) {
    const int err = errno;
    discard();
    ::ssah::detail::fail<IoError>("cannot write '", path_, "': ", what, " failed: ", std::strerror(err));
  }
  void flush_buffer() {
    write_all(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
  void write_all(const unsigned char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t put = ::write(fd_, p, n);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) fail_errno("write");
      p += put;
      n -= static_cast<std::size_t>(put);
    }
  }
  /// Makes the rename durable; failures are ignored (some file systems refuse directory fsync).
  void sync_directory() const noexcept {
    const std::size_t slash = path_.find_last_of('/');
    const std::string dir = slash == std::string::npos ? std::string(".") : path_.substr(0, slash == 0 ? 1 : slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }

  std::string path_;
  std::string temp_;
  std::vector<unsigned char> buffer_;
  int fd_ = -1;
  int slot_ = -1;  ///< in detail::temporary_file_slots(), for remove_temporary_files()
};

/// Atomically replaces `path` with `n` bytes from `data`.
inline void write_file_atomic(const std::string& path, const void* data, std::size_t n) {
  AtomicFile file(path);
  file.write(data, n);
  file.commit();
}

/// Atomically replaces `path` with `text` (JSON reports, CSV files).
inline void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

}  // namespace io
}  // namespace ssah
