#pragma once
/// \file
/// Reorders the axes of a row-major array: the one routine behind every layout change of host
/// data (MATLAB's column-major arrays, MatConvNet's filters and mean image, image stacks whose
/// last axis holds the items). Core layer: standard library and ssah/error.hpp only, so that
/// io/, the adapters and programs can all use it.
///
/// Large arrays stay fast: axes that keep their neighbours are merged first (a column-major
/// 1 x n vector is one copy), and when the source's contiguous axis is not the destination's,
/// the copy goes in square tiles over those two axes, so that neither reads nor writes touch a
/// cache line per element (a 3 GB H x W x C x N image stack made N x C x H x W).

#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ssah/error.hpp"

namespace ssah::detail {

namespace permute_axes_impl {

/// Copies one element of `Es` bytes: a compile-time size, so a single load and store.
template <std::size_t Es>
struct FixedCopy {
  std::size_t size() const noexcept { return Es; }
  void operator()(unsigned char* dst, const unsigned char* src) const noexcept { std::memcpy(dst, src, Es); }
};

/// Copies one element of any other size.
struct AnyCopy {
  std::size_t bytes;
  std::size_t size() const noexcept { return bytes; }
  void operator()(unsigned char* dst, const unsigned char* src) const noexcept { std::memcpy(dst, src, bytes); }
};

inline std::string list_str(const std::vector<std::size_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

/// The same permutation on fewer axes: extent-1 axes dropped, and input axes that stay adjacent
/// and in order in the output merged into one (they are one contiguous run on both sides).
inline void simplify(const std::vector<std::size_t>& dims, const std::vector<std::size_t>& perm,
                     std::vector<std::size_t>& out_dims, std::vector<std::size_t>& out_perm) {
  const std::size_t r = dims.size();
  std::vector<std::size_t> kept_index(r), kept_dims, p;
  for (std::size_t i = 0; i < r; ++i) {
    kept_index[i] = kept_dims.size();
    if (dims[i] != 1) kept_dims.push_back(dims[i]);
  }
  for (std::size_t k = 0; k < r; ++k)
    if (dims[perm[k]] != 1) p.push_back(kept_index[perm[k]]);
  const std::size_t q = p.size();
  std::vector<bool> starts_run(q, false);
  for (std::size_t k = 0; k < q; ++k)
    if (k == 0 || p[k] != p[k - 1] + 1) starts_run[p[k]] = true;
  // In input order, an axis that does not start a run directly follows the previous one of its run.
  std::vector<std::size_t> merged_index(q);
  out_dims.clear();
  for (std::size_t i = 0; i < q; ++i) {
    if (starts_run[i]) {
      merged_index[i] = out_dims.size();
      out_dims.push_back(kept_dims[i]);
    } else {
      out_dims.back() *= kept_dims[i];
    }
  }
  out_perm.clear();
  for (std::size_t k = 0; k < q; ++k)
    if (starts_run[p[k]]) out_perm.push_back(merged_index[p[k]]);
}

/// `count` steps of an odometer over `extents` (last axis fastest), calling body(src, dst) with
/// the element offsets of each position.
template <class Body>
void odometer(const std::vector<std::size_t>& extents, const std::vector<std::size_t>& src_stride,
              const std::vector<std::size_t>& dst_stride, Body&& body) {
  std::size_t count = 1;
  for (std::size_t e : extents) count *= e;
  std::vector<std::size_t> idx(extents.size(), 0);
  std::size_t s = 0, d = 0;
  for (std::size_t step = 0; step < count; ++step) {
    body(s, d);
    for (std::size_t k = extents.size(); k-- > 0;) {
      if (++idx[k] < extents[k]) {
        s += src_stride[k];
        d += dst_stride[k];
        break;
      }
      s -= src_stride[k] * (extents[k] - 1);
      d -= dst_stride[k] * (extents[k] - 1);
      idx[k] = 0;
    }
  }
}

/// The permutation of simplified, non-empty `dims` (rank 2 or more, not the identity).
template <class Copy>
void run(const unsigned char* src, const std::vector<std::size_t>& dims, const std::vector<std::size_t>& perm,
         Copy copy, unsigned char* dst) {
  const std::size_t q = dims.size(), es = copy.size();
  std::vector<std::size_t> in_stride(q, 1);
  for (std::size_t i = q - 1; i-- > 0;) in_stride[i] = in_stride[i + 1] * dims[i + 1];
  std::vector<std::size_t> extent(q), src_stride(q), dst_stride(q, 1);
  for (std::size_t k = 0; k < q; ++k) {
    extent[k] = dims[perm[k]];
    src_stride[k] = in_stride[perm[k]];
  }
  for (std::size_t k = q - 1; k-- > 0;) dst_stride[k] = dst_stride[k + 1] * extent[k + 1];
  const std::size_t last = q - 1;

  if (perm[last] == last) {  // rows contiguous on both sides
    const std::size_t row_bytes = extent[last] * es;
    extent.pop_back();
    src_stride.pop_back();
    dst_stride.pop_back();
    odometer(extent, src_stride, dst_stride,
             [&](std::size_t s, std::size_t d) { std::memcpy(dst + d * es, src + s * es, row_bytes); });
    return;
  }

  // Output axis `a` is the input's contiguous one; the output's contiguous one reads with stride
  // `far`. Square tiles over the two: a tile's source lines and destination lines all stay in cache.
  std::size_t a = 0;
  while (perm[a] != last) ++a;
  const std::size_t na = extent[a], nl = extent[last], a_stride = dst_stride[a], far = src_stride[last];
  const std::size_t tile = es == 1 ? 64 : 32;  // a tile's row spans at least a cache line (64 bytes)
  std::vector<std::size_t> outer, outer_src, outer_dst;
  for (std::size_t k = 0; k < last; ++k) {
    if (k == a) continue;
    outer.push_back(extent[k]);
    outer_src.push_back(src_stride[k]);
    outer_dst.push_back(dst_stride[k]);
  }
  odometer(outer, outer_src, outer_dst, [&](std::size_t s, std::size_t d) {
    for (std::size_t i0 = 0; i0 < na; i0 += tile) {
      const std::size_t i1 = i0 + tile < na ? i0 + tile : na;
      for (std::size_t j0 = 0; j0 < nl; j0 += tile) {
        const std::size_t j1 = j0 + tile < nl ? j0 + tile : nl;
        for (std::size_t i = i0; i < i1; ++i) {
          unsigned char* out = dst + (d + i * a_stride) * es;
          const unsigned char* in = src + (s + i) * es;
          for (std::size_t j = j0; j < j1; ++j) copy(out + j * es, in + j * far * es);
        }
      }
    }
  });
}

}  // namespace permute_axes_impl

/// Reorders the axes of `src`, row-major with extents `dims` and elements of `element_size`
/// bytes, into `dst`, row-major with extents dims[perm[0]], ..., dims[perm[r-1]]: output axis k
/// is input axis perm[k]. `src` and `dst` must not overlap. Column-major data of extents
/// d_0 .. d_{r-1} are row-major of extents d_{r-1} .. d_0, so perm = (r-1, ..., 0) with the dims
/// reversed makes them row-major. InvalidArgument when `perm` is not a permutation of 0..r-1 or
/// `element_size` is 0; ShapeError when the element count overflows.
inline void permute_axes(const void* src, const std::vector<std::size_t>& dims, const std::vector<std::size_t>& perm,
                         std::size_t element_size, void* dst) {
  const std::size_t r = dims.size();
  std::vector<bool> seen(r, false);
  bool valid = perm.size() == r;
  for (std::size_t k = 0; valid && k < r; ++k) {
    valid = perm[k] < r && !seen[perm[k]];
    if (valid) seen[perm[k]] = true;
  }
  SSAH_CHECK_AS(InvalidArgument, valid, "permute_axes: ", permute_axes_impl::list_str(perm),
                " is not a permutation of the ", r, " axes of dims ", permute_axes_impl::list_str(dims));
  SSAH_CHECK_AS(InvalidArgument, element_size != 0, "permute_axes: element size 0");
  std::size_t n = 1;
  bool empty = false;
  for (std::size_t d : dims) empty = empty || d == 0;
  if (empty) return;
  for (std::size_t d : dims) {
    SSAH_CHECK_AS(ShapeError, n <= std::numeric_limits<std::size_t>::max() / d / element_size, "permute_axes: dims ",
                  permute_axes_impl::list_str(dims), " of ", element_size,
                  "-byte elements are more bytes than memory can hold");
    n *= d;
  }
  const auto* in = static_cast<const unsigned char*>(src);
  auto* out = static_cast<unsigned char*>(dst);
  std::vector<std::size_t> d, p;
  permute_axes_impl::simplify(dims, perm, d, p);
  if (d.size() <= 1) {  // the identity once merged (rank 0 and 1 included)
    std::memcpy(out, in, n * element_size);
    return;
  }
  switch (element_size) {  // fixed-size element copies for the common sizes, chosen once
    case 1:
      return permute_axes_impl::run(in, d, p, permute_axes_impl::FixedCopy<1>{}, out);
    case 2:
      return permute_axes_impl::run(in, d, p, permute_axes_impl::FixedCopy<2>{}, out);
    case 4:
      return permute_axes_impl::run(in, d, p, permute_axes_impl::FixedCopy<4>{}, out);
    case 8:
      return permute_axes_impl::run(in, d, p, permute_axes_impl::FixedCopy<8>{}, out);
    default:
      return permute_axes_impl::run(in, d, p, permute_axes_impl::AnyCopy{element_size}, out);
  }
}

/// `permute_axes` on elements of type T.
template <class T>
void permute_axes(const T* src, const std::vector<std::size_t>& dims, const std::vector<std::size_t>& perm, T* dst) {
  static_assert(std::is_trivially_copyable_v<T>, "permute_axes copies elements as bytes");
  permute_axes(static_cast<const void*>(src), dims, perm, sizeof(T), static_cast<void*>(dst));
}

}  // namespace ssah::detail
