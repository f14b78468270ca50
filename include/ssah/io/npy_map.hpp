#pragma once
/// \file
/// A `.npy` file mapped read-only into memory (POSIX `mmap`): its header and a pointer to its data,
/// with nothing copied. The pages are read from the file when first touched and may be dropped by
/// the kernel under memory pressure, so a database of codes larger than the memory one wants to
/// spend on it can be searched in place (`ssah search`, `hamming_knn`).
///
/// The file is checked as `read_npy` checks it (header, dtype, length against the shape). The data
/// are the file's bytes as stored: C order and little-endian, which is all that `read_npy` accepts
/// too ('|b1' files are mapped as their 0/1 bytes). A file truncated by another process while it is
/// mapped makes the next access to the lost pages raise SIGBUS, as with any mapped file.

#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

#include "ssah/error.hpp"
#include "ssah/io/file.hpp"
#include "ssah/io/npy.hpp"

namespace ssah::io {

class MappedNpy {
 public:
  /// Maps `path` (IoError naming the file when it is not a complete .npy file or cannot be mapped).
  explicit MappedNpy(const std::string& path) : source_(path) {
    detail::FileSource src(path);
    header_ = detail::read_complete_npy_header(src);
    if (header_.data_bytes == 0) return;  // nothing to map (and mmap refuses a length of 0)
    length_ = src.size();
    void* p = ::mmap(nullptr, length_, PROT_READ, MAP_SHARED, src.fd(), 0);
    if (p == MAP_FAILED)
      ::ssah::detail::fail<IoError>("cannot map '", path, "' (", ::ssah::detail::human_bytes(length_),
                                    ") into memory: ", std::strerror(errno));
    map_ = p;
  }
  MappedNpy(MappedNpy&& o) noexcept
      : source_(std::move(o.source_)), header_(std::move(o.header_)), map_(o.map_), length_(o.length_) {
    o.map_ = nullptr;
    o.length_ = 0;
  }
  MappedNpy& operator=(MappedNpy&& o) noexcept {
    if (this != &o) {
      unmap();
      source_ = std::move(o.source_);
      header_ = std::move(o.header_);
      map_ = o.map_;
      length_ = o.length_;
      o.map_ = nullptr;
      o.length_ = 0;
    }
    return *this;
  }
  MappedNpy(const MappedNpy&) = delete;
  MappedNpy& operator=(const MappedNpy&) = delete;
  ~MappedNpy() { unmap(); }

  const NpyHeader& header() const noexcept { return header_; }
  DType dtype() const noexcept { return header_.dtype; }
  const std::vector<std::size_t>& shape() const noexcept { return header_.shape; }
  /// The data section, header().data_bytes bytes (nullptr when there are none).
  const unsigned char* data() const noexcept {
    return map_ ? static_cast<const unsigned char*>(map_) + header_.data_offset : nullptr;
  }
  std::size_t data_bytes() const noexcept { return header_.data_bytes; }
  const std::string& source() const noexcept { return source_; }

 private:
  void unmap() noexcept {
    if (map_) ::munmap(map_, length_);
    map_ = nullptr;
  }

  std::string source_;
  NpyHeader header_;
  void* map_ = nullptr;
  std::size_t length_ = 0;
};

}  // namespace ssah::io
