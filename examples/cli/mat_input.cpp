// `ssah train --mat FILE`: modalities and labels from one MATLAB .mat file (see mat_input.hpp).
//
// Layout presets (`--mat-layout`). These are CONVENTIONS of the cross-modal hashing community,
// not standards; a file that uses other names needs --mat-modality / --mat-labels.
//  - dcmh-flickr: DCMH's FLICKR-25K.mat (Jiang and Li, CVPR 2017, jiangqy/DCMH-CVPR2017; the file
//    SSAH's official code loads): `images` (224 x 224 x 3 x 20015 uint8 as MATLAB sees it),
//    `YAll` (tags, 20015 x 1386), `LAll` (labels, 20015 x 24); see the project's
//    ssah-reference.md.
//  - nus-wide: DCMH's NUS-WIDE release (jiangqy/DCMH-CVPR2017, DCMH_matlab/readme.txt: top-10 and
//    top-21 concept versions, shipped as one variable per file, to be merged by the user), whose
//    variables are `IAll` (images), `YAll` (tags) and `LAll` (labels): the names used by loaders
//    such as qjx0713/adversarial-autoencoder-hashing-for-cross-modal-retrieval (mir/test.py reads
//    `LAll`, `YAll` from nus-wide-tc10.mat) and by DADH/AGAH-style loaders that read
//    nus-wide-tc21-{iall,yall,lall}.mat.
//  - coco: the MS-COCO file written by zhouyu1996/COCO4CMH (coco_data.py writes `IAll` images,
//    `YAll` 2000-d bag of words, `LAll` 80 labels), the same three names.
#include "mat_input.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <new>
#include <set>
#include <utility>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssah/detail/host_memory.hpp"
#include "ssah/detail/permute_axes.hpp"
#include "ssah/error.hpp"

#if SSAH_CLI_HAVE_MATIO
#include "ssah/io/mat.hpp"
#endif

namespace ssah::cli {
namespace {

/// "224 x 224 x 3 x 20015", MATLAB's way of writing a size.
std::string dims_str(const std::vector<std::size_t>& d) {
  std::string s;
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? " x " : "") + std::to_string(d[i]);
  return s;
}

io::HostArray with_shape(const io::HostArray& a, std::vector<std::size_t> shape) {
  io::HostArray out;
  out.dtype = a.dtype;
  out.source = a.source;
  out.shape = std::move(shape);
  out.bytes.resize(a.bytes.size());
  return out;
}

/// `a` reordered so that output axis k is input axis perm[k].
io::HostArray permuted(const io::HostArray& a, const std::vector<std::size_t>& perm) {
  std::vector<std::size_t> shape(perm.size());
  for (std::size_t k = 0; k < perm.size(); ++k) shape[k] = a.shape[perm[k]];
  io::HostArray out = with_shape(a, shape);
  ssah::detail::permute_axes(a.bytes.data(), a.shape, perm, io::dtype_size(a.dtype), out.bytes.data());
  return out;
}

/// `a` with its last axis (the items) moved first and the others in the order `rest_perm`.
io::HostArray items_first(const io::HostArray& a, const std::vector<std::size_t>& rest_perm) {
  std::vector<std::size_t> perm{a.shape.size() - 1};
  perm.insert(perm.end(), rest_perm.begin(), rest_perm.end());
  return permuted(a, perm);
}

bool is_channel_count(std::size_t c) { return c == 1 || c == 3; }

/// The axes of a variable of MATLAB dimensions `d` that may hold `n` items: any axis of a 2-D
/// variable, the first or last of a 3-D or 4-D one.
std::vector<std::size_t> item_axes(const std::vector<std::size_t>& d, std::size_t n) {
  std::vector<std::size_t> axes;
  if (d.size() == 2) {
    for (std::size_t k = 0; k < 2; ++k)
      if (d[k] == n) axes.push_back(k);
  } else if (d.size() == 3 || d.size() == 4) {
    if (d.front() == n) axes.push_back(0);
    if (d.back() == n) axes.push_back(d.size() - 1);
  }
  return axes;
}

/// Whether `a` holds only 0 and 1; if so and `out` is given, writes them to `out` as bytes.
template <class T>
bool only_01(const io::HostArray& a, unsigned char* out = nullptr) {
  const std::size_t n = a.bytes.size() / sizeof(T);
  for (std::size_t i = 0; i < n; ++i) {
    const T v = io::detail::load_element<T>(a.bytes.data(), i);
    if (!(v == T(0) || v == T(1))) return false;
    if (out != nullptr) out[i] = v == T(1) ? 1 : 0;
  }
  return true;
}

/// `a` as uint8 when it holds only 0 and 1 (like a bag of words in .npy, so that it is not
/// standardised), else `a` itself.
[[maybe_unused]] io::HostArray as_u8_if_01(io::HostArray a, std::string& arrangement) {
  auto convert = [&](auto tag) {
    using T = decltype(tag);
    if (a.bytes.empty() || !only_01<T>(a)) return false;
    std::vector<unsigned char> bytes(a.bytes.size() / sizeof(T));
    only_01<T>(a, bytes.data());
    a.bytes = std::move(bytes);
    a.dtype = io::DType::U8;
    return true;
  };
  bool converted = false;
  switch (a.dtype) {
    case io::DType::U8:
      return a;
    case io::DType::I8:
      converted = convert(std::int8_t{});
      break;
    case io::DType::I32:
      converted = convert(std::int32_t{});
      break;
    case io::DType::I64:
      converted = convert(std::int64_t{});
      break;
    case io::DType::F32:
      converted = convert(float{});
      break;
    case io::DType::F64:
      converted = convert(double{});
      break;
  }
  if (converted) arrangement += "; only 0/1: read as uint8";
  return a;
}

/// ShapeError unless a modality of MATLAB dimensions `d` has 2 to 4 of them (`what` names it).
void check_modality_rank(const std::vector<std::size_t>& d, const std::string& what) {
  if (d.size() < 2 || d.size() > 4)
    SSAH_THROW(ShapeError, what, " is ", dims_str(d), ": a modality must have 2 to 4 dimensions (N x D, D x N, images ",
               "H x W x C x N or N x C x H x W)");
}

}  // namespace

namespace {

/// Whether the `items` items of a modality of MATLAB dimensions `d` lie along its first axis (true)
/// or its last (false); ShapeError naming `what` when neither, both, or the rank is not 2 to 4.
bool items_along_first_axis(const std::vector<std::size_t>& d, std::size_t items, const std::string& what) {
  const std::vector<std::size_t> axes = item_axes(d, items);
  check_modality_rank(d, what);
  if (axes.empty())
    SSAH_THROW(ShapeError, what, " is ", dims_str(d), ", with no ", d.size() == 2 ? "axis" : "first or last axis",
               " of ", items, " items");
  if (axes.size() > 1)
    SSAH_THROW(ShapeError, what, " is ", dims_str(d), " and the data set has ", items,
               " items: cannot tell which axis holds the items");
  return axes[0] == 0;
}

/// `a` (a modality with MATLAB's dimensions, or a slab of its items) with its items first: they
/// lie along its first axis when `first`, else along its last.
io::HostArray put_items_first(io::HostArray a, bool first, std::string& arrangement) {
  const std::vector<std::size_t> d = a.shape;
  if (d.size() == 2) {
    if (first) {
      arrangement = "N x D";
      return a;
    }
    arrangement = "D x N, transposed to [N, D]";
    return items_first(a, {0});
  }
  if (d.size() == 3) {
    if (first) {
      arrangement = "N x A x B";
      return a;
    }
    io::HostArray out = items_first(a, {0, 1});
    out.shape = {d[2], 1, d[0], d[1]};
    arrangement = "H x W x N (one channel), made [N, 1, H, W]";
    return out;
  }
  if (!first) {  // H x W x C x N, MATLAB's image stacks
    arrangement = "H x W x C x N, made [N, C, H, W]";
    return items_first(a, {2, 0, 1});
  }
  if (is_channel_count(d[3]) && !is_channel_count(d[1])) {
    arrangement = "N x H x W x C, made [N, C, H, W]";
    return permuted(a, {0, 3, 1, 2});
  }
  arrangement = "N x C x H x W";
  return a;
}

/// Copies `slab`, items [first, first + slab.shape[0]) of an array of `items` items (items
/// first), into `whole`, which takes its type and shape at the first slab (OutOfMemory when it
/// would not fit); false when the slab does not fit the array (a reading process gone wrong).
[[maybe_unused]] bool place_items(io::HostArray& whole, std::size_t items, std::size_t first, io::HostArray slab) {
  std::size_t count = 0;
  if (slab.shape.empty() || !io::detail::checked_count(slab.shape, count) ||
      slab.bytes.size() != count * io::dtype_size(slab.dtype))
    return false;
  const std::size_t rows = slab.shape[0];
  const std::size_t row_bytes = rows == 0 ? 0 : slab.bytes.size() / rows;
  if (first > items || rows > items - first) return false;
  if (whole.shape.empty() && first == 0 && rows == items) {  // one slab: the whole array
    whole = std::move(slab);
    return true;
  }
  if (whole.shape.empty()) {  // the first slab: the array's type and shape
    whole.dtype = slab.dtype;
    whole.shape = slab.shape;
    whole.shape[0] = items;
    whole.source = slab.source;
    std::size_t total = 0;
    if (!io::detail::checked_count(whole.shape, total)) return false;
    ssah::detail::check_host_allocation(total, io::dtype_size(slab.dtype), ("'" + slab.source + "'").c_str());
    whole.bytes.resize(total * io::dtype_size(slab.dtype));
  } else if (whole.shape[0] != items || whole.dtype != slab.dtype || whole.shape.size() != slab.shape.size() ||
             !std::equal(whole.shape.begin() + 1, whole.shape.end(), slab.shape.begin() + 1)) {
    return false;
  }
  if (row_bytes != 0) std::memcpy(whole.bytes.data() + first * row_bytes, slab.bytes.data(), slab.bytes.size());
  return true;
}

}  // namespace

io::HostArray arrange_items(io::HostArray a, std::size_t items, const std::string& what, std::string& arrangement) {
  const bool first = items_along_first_axis(a.shape, items, what);
  return put_items_first(std::move(a), first, arrangement);
}

MatLayout mat_layout(const std::string& layout) {
  if (layout == "dcmh-flickr") return {{"image=images", "text=YAll"}, "LAll"};
  if (layout == "nus-wide" || layout == "coco") return {{"image=IAll", "text=YAll"}, "LAll"};
  SSAH_THROW(InvalidArgument, "--mat-layout: unknown layout '", layout, "' (dcmh-flickr, nus-wide or coco)");
}

#if SSAH_CLI_HAVE_MATIO

bool mat_input_supported() noexcept { return true; }

/// Where the slabs of a modality go: (modality index, its items, first item, slab with its items
/// first). Empty: into the modality's array.
using SlabSink = std::function<void(std::size_t, std::size_t, std::size_t, const io::HostArray&)>;

/// Reads the labels and modalities of the file; each modality slab by slab of its items, arranged
/// items first, into its array or, with `send`, to `send` (the array then keeps no values).
/// Arrays of 0/1 values are left in their type (see read_mat_input).
MatInput read_mat_input_here(const MatInputOptions& o, const SlabSink& send = {}) {
  if (o.file.empty()) SSAH_THROW(InvalidArgument, "--mat-modality, --mat-labels and --mat-layout need --mat FILE");
  io::MatFile f(o.file);
  MatInput in;
  in.file = o.file;
  in.version = f.version();
  in.layout = o.layout;
  const std::vector<io::MatVarInfo> vars = f.variables();
  auto listing = [&] {
    std::string s;
    for (const io::MatVarInfo& v : vars)
      s += (s.empty() ? "" : ", ") + v.name + " (" + v.class_name + " " + dims_str(v.dims) + ")";
    return s.empty() ? std::string("no variables") : s;
  };

  // Which variables: the preset, then --mat-modality / --mat-labels (which replace the preset's).
  std::vector<std::pair<std::string, std::string>> mods;  // name, variable
  std::string labels_var;
  auto add = [&](const std::string& s) {
    const std::size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      SSAH_THROW(InvalidArgument, "--mat-modality expects NAME=VARIABLE, got '", s, "'");
    const std::string name = s.substr(0, eq), var = s.substr(eq + 1);
    for (auto& m : mods)
      if (m.first == name) {
        m.second = var;
        return;
      }
    mods.emplace_back(name, var);
  };
  if (!o.layout.empty()) {
    const MatLayout preset = mat_layout(o.layout);
    for (const std::string& s : preset.modalities) add(s);
    labels_var = preset.labels;
  }
  std::set<std::string> given;
  for (const std::string& s : o.modalities) {
    const std::string name = s.substr(0, s.find('='));
    if (!given.insert(name).second) SSAH_THROW(InvalidArgument, "--mat-modality: the name '", name, "' is used twice");
    add(s);
  }
  if (!o.labels.empty()) labels_var = o.labels;
  if (mods.empty() || labels_var.empty())
    SSAH_THROW(InvalidArgument, "--mat '", o.file,
               "': say which variables to read, with --mat-layout dcmh-flickr|nus-wide|coco ",
               "or --mat-modality NAME=VARIABLE and --mat-labels VARIABLE (the file has ", listing(), ")");
  if (mods.size() > 3) SSAH_THROW(InvalidArgument, mods.size(), " modalities given; ssah train supports 1 to 3");

  // Every variable present and numeric; their dimensions, before any data are read.
  auto info = [&](const std::string& var, const std::string& role) -> const io::MatVarInfo& {
    for (const io::MatVarInfo& v : vars)
      if (v.name == var) {
        static const std::set<std::string> numeric = {"double",  "single", "int8",          "uint8", "int16",
                                                      "uint16",  "int32",  "uint32",        "int64", "uint64",
                                                      "logical", "sparse", "sparse logical"};
        if (v.is_complex || !numeric.count(v.class_name))
          SSAH_THROW(IoError, "'", o.file, "': variable '", var, "' (", role, ") is ", v.is_complex ? "complex " : "a ",
                     v.class_name, " ", dims_str(v.dims), ", not a real numeric or logical array");
        return v;
      }
    SSAH_THROW(IoError, "'", o.file, "': no variable '", var, "' (", role, "); the file has ", listing());
  };
  std::vector<const io::MatVarInfo*> minfo;
  for (const auto& [name, var] : mods) {
    minfo.push_back(&info(var, "modality " + name));
    // Before the item count is sought: a 5-D array has no axis where the items could lie.
    check_modality_rank(minfo.back()->dims, "'" + o.file + "': '" + var + "' (" + name + ")");
  }
  const io::MatVarInfo& lab = info(labels_var, "the labels");
  if (lab.dims.size() != 2)
    SSAH_THROW(ShapeError, "'", o.file, "': labels '", labels_var, "' are ", dims_str(lab.dims),
               ": labels must be a matrix N x classes (or classes x N) of 0/1");

  // The item count: the length of a labels axis that every modality has too.
  std::vector<std::size_t> fits;
  std::size_t best = 0, best_count = 0;
  for (std::size_t n : {lab.dims[0], lab.dims[1]}) {
    if (!fits.empty() && fits.back() == n) continue;
    std::size_t count = 0;
    for (const io::MatVarInfo* m : minfo) count += item_axes(m->dims, n).empty() ? 0 : 1;
    if (count == minfo.size()) fits.push_back(n);
    if (count > best_count || (count == best_count && n > best)) best = n, best_count = count;
  }
  auto all_shapes = [&] {
    std::string s = "labels '" + labels_var + "' " + dims_str(lab.dims);
    for (std::size_t i = 0; i < mods.size(); ++i)
      s += ", " + mods[i].first + " '" + mods[i].second + "' " + dims_str(minfo[i]->dims);
    return s;
  };
  if (fits.empty()) {
    if (best_count == 0)
      SSAH_THROW(ShapeError, "'", o.file, "': no modality has an axis of the length of either axis of the labels (",
                 all_shapes(), "); the items must lie along one axis of every variable (the first or last of ",
                 "an image array)");
    std::string bad;
    for (std::size_t i = 0; i < mods.size(); ++i)
      if (item_axes(minfo[i]->dims, best).empty())
        bad += std::string(bad.empty() ? "" : ", ") + "'" + mods[i].second + "' (" + mods[i].first + ") is " +
               dims_str(minfo[i]->dims);
    SSAH_THROW(ShapeError, "'", o.file, "': the variables do not agree on the number of items: labels '", labels_var,
               "' are ", dims_str(lab.dims), " (", best, " items), but ", bad, ", with no axis of ", best,
               " (the items must lie along one axis of every variable, the first or last of an image array)");
  }
  if (fits.size() > 1)
    SSAH_THROW(ShapeError, "'", o.file, "': the number of items is ambiguous: both ", fits[0], " and ", fits[1],
               " fit every variable (", all_shapes(), "); store the labels as N x classes with N not equal to ",
               "any other size");
  const std::size_t n = fits[0];
  if (lab.dims[0] == lab.dims[1])
    SSAH_THROW(ShapeError, "'", o.file, "': labels '", labels_var, "' are ", dims_str(lab.dims),
               ": cannot tell the items from the classes");

  // Read, one variable at a time (the file's copy is freed before the next is read).
  {
    io::HostArray raw = f.read(labels_var).to_array();
    in.labels_variable = labels_var;
    in.labels_dims = raw.shape;
    std::string arrangement;
    in.labels = arrange_items(std::move(raw), n, "'" + o.file + "': labels '" + labels_var + "'", arrangement);
  }
  for (std::size_t i = 0; i < mods.size(); ++i) {
    MatModality m;
    m.name = mods[i].first;
    m.variable = mods[i].second;
    m.dims = minfo[i]->dims;
    const bool first =
        items_along_first_axis(m.dims, n, "'" + o.file + "': variable '" + m.variable + "' (" + m.name + ")");
    f.read_slabs(m.variable, first ? 0 : m.dims.size() - 1, o.slab_bytes, [&](std::size_t from, io::HostArray slab) {
      io::HostArray arranged = put_items_first(std::move(slab), first, m.arrangement);
      if (send)
        send(i, n, from, arranged);
      else if (!place_items(m.array, n, from, std::move(arranged)))
        SSAH_THROW(IoError, "'", o.file, "': variable '", m.variable, "' changed shape while it was read");
    });
    in.modalities.push_back(std::move(m));
  }
  return in;
}

/// Modalities of 0/1 values as uint8 (see as_u8_if_01).
void modalities_as_u8_if_01(MatInput& in) {
  for (MatModality& m : in.modalities) m.array = as_u8_if_01(std::move(m.array), m.arrangement);
}

// ---------------------------------------------------------------- v7.3 files in a child process
//
// A v7.3 file is HDF5, parsed by the HDF5 library, which fuzzing shows is not safe on malformed
// files (heap overflows and crashes while matio lists or reads variables: docs/fuzzing.md) and
// which ssah cannot validate beforehand through matio. So such a file is read in a child process
// (fork) that streams the arrays back through a pipe: whatever HDF5 does to that process, the
// program reports an error naming the file instead of crashing. v5 files, which ssah validates
// whole before matio reads them, are read in the process itself.

namespace {

struct Pipe {
  int fd;
  std::chrono::steady_clock::time_point deadline{};  ///< reads give up then (none when unset)
  bool timed_out = false;
  void write_bytes(const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    while (n > 0) {
      const ssize_t put = ::write(fd, c, n);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) ::_exit(3);  // the parent stopped reading
      c += put;
      n -= static_cast<std::size_t>(put);
    }
  }
  bool read_bytes(void* p, std::size_t n) {
    auto* c = static_cast<unsigned char*>(p);
    while (n > 0) {
      if (deadline != std::chrono::steady_clock::time_point{}) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd pfd{fd, POLLIN, 0};
        const int ready =
            left.count() > 0 ? ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30))) : 0;
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) return timed_out = true, false;
      }
      const ssize_t got = ::read(fd, c, n);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      c += got;
      n -= static_cast<std::size_t>(got);
    }
    return true;
  }
  void put(std::uint64_t v) { write_bytes(&v, sizeof v); }
  void put(const std::string& s) {
    put(static_cast<std::uint64_t>(s.size()));
    write_bytes(s.data(), s.size());
  }
  void put(const std::vector<std::size_t>& v) {
    put(static_cast<std::uint64_t>(v.size()));
    for (std::size_t e : v) put(static_cast<std::uint64_t>(e));
  }
  void put(const io::HostArray& a) {
    put(static_cast<std::uint64_t>(a.dtype));
    put(a.shape);
    put(a.source);
    put(static_cast<std::uint64_t>(a.bytes.size()));
    write_bytes(a.bytes.data(), a.bytes.size());
  }
};

/// Reads what the child sent; false when the stream ends early or is inconsistent.
struct Reader {
  Pipe pipe;
  bool ok = true;
  std::uint64_t u64() {
    std::uint64_t v = 0;
    ok = ok && pipe.read_bytes(&v, sizeof v);
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    if (!ok || n > (1u << 20)) return ok = false, std::string();
    std::string s(n, '\0');
    ok = ok && pipe.read_bytes(s.data(), n);
    return s;
  }
  std::vector<std::size_t> dims() {
    const std::uint64_t n = u64();
    if (!ok || n > 64) return ok = false, std::vector<std::size_t>();
    std::vector<std::size_t> v(n);
    for (std::size_t& e : v) e = u64();
    return v;
  }
  io::HostArray array() {
    io::HostArray a;
    a.dtype = static_cast<io::DType>(u64());
    a.shape = dims();
    a.source = str();
    const std::uint64_t n = u64();
    std::size_t count = 0;
    const auto dtype = static_cast<std::uint64_t>(a.dtype);
    if (!ok || dtype > static_cast<std::uint64_t>(io::DType::F64) || !io::detail::checked_count(a.shape, count) ||
        count > n / io::dtype_size(a.dtype) || n != count * io::dtype_size(a.dtype))
      return ok = false, a;
    a.bytes.resize(n);
    ok = ok && pipe.read_bytes(a.bytes.data(), n);
    return a;
  }
};

enum class ErrorKind : std::uint64_t { error, io, invalid, shape, memory };

/// Whether `path` starts with the header of a MATLAB v7.3 file (read without matio or HDF5).
bool is_mat73(const std::string& path) {
  try {
    io::detail::FileSource src(path);
    if (src.size() < 128) return false;
    unsigned char h[128];
    src.read(0, h, 128);
    if (h[126] == 'I' && h[127] == 'M') return h[124] == 0x00 && h[125] == 0x02;
    if (h[126] == 'M' && h[127] == 'I') return h[124] == 0x02 && h[125] == 0x00;
  } catch (const Error&) {  // read_mat_input_here reports it
  }
  return false;
}

}  // namespace

MatInput read_mat_input(const MatInputOptions& o) {
  if (o.file.empty() || !is_mat73(o.file)) {
    MatInput in = read_mat_input_here(o);
    modalities_as_u8_if_01(in);
    return in;
  }
  int fds[2];
  if (::pipe(fds) != 0) SSAH_THROW(IoError, "--mat '", o.file, "': cannot create a pipe: ", std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    SSAH_THROW(IoError, "--mat '", o.file, "': cannot start the reading process: ", std::strerror(errno));
  }
  if (child == 0) {  // the child: read, send, and leave without running the parent's exit handlers
    ::close(fds[0]);
    ::signal(SIGPIPE, SIG_DFL);
    Pipe out{fds[1]};
    try {
      // Each slab of a modality is sent as it is read (message 2), so that neither process holds
      // a large variable twice; then the rest (message 1), the modalities without their values.
      const MatInput in = read_mat_input_here(
          o, [&](std::size_t modality, std::size_t items, std::size_t first, const io::HostArray& slab) {
            out.put(std::uint64_t{2});
            out.put(static_cast<std::uint64_t>(modality));
            out.put(static_cast<std::uint64_t>(items));
            out.put(static_cast<std::uint64_t>(first));
            out.put(slab);
          });
      out.put(std::uint64_t{1});
      out.put(in.file);
      out.put(in.version);
      out.put(in.layout);
      out.put(in.labels_variable);
      out.put(in.labels_dims);
      out.put(in.labels);
      out.put(static_cast<std::uint64_t>(in.modalities.size()));
      for (const MatModality& m : in.modalities) {
        out.put(m.name);
        out.put(m.variable);
        out.put(m.dims);
        out.put(m.arrangement);
      }
    } catch (const std::exception& e) {
      ErrorKind kind = ErrorKind::error;
      if (dynamic_cast<const IoError*>(&e)) kind = ErrorKind::io;
      if (dynamic_cast<const InvalidArgument*>(&e)) kind = ErrorKind::invalid;
      if (dynamic_cast<const ShapeError*>(&e)) kind = ErrorKind::shape;
      if (dynamic_cast<const OutOfMemory*>(&e) || dynamic_cast<const std::bad_alloc*>(&e)) kind = ErrorKind::memory;
      out.put(std::uint64_t{0});
      out.put(static_cast<std::uint64_t>(kind));
      out.put(std::string(e.what()).substr(0, 4096));
    }
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  // A malformed file can also make HDF5 loop (fuzzing found one): the reading gets a minute plus
  // one second per 20 MB of file, far more than a good file needs.
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(o.file, ec);
  const auto allowed = std::chrono::seconds(60 + (ec ? 0 : static_cast<long long>(bytes / (20u << 20))));
  Reader r{Pipe{fds[0], std::chrono::steady_clock::now() + allowed}};
  MatInput in;
  std::string message;
  ErrorKind kind = ErrorKind::error;
  constexpr std::uint64_t max_modalities = 16;
  std::vector<io::HostArray> arrays(max_modalities);       // the modalities' values, as their slabs come
  std::vector<std::uint64_t> received(max_modalities, 0);  // items received of each
  std::exception_ptr failure;  // of this process (memory for an array): the child is stopped first
  std::uint64_t status = r.u64();
  while (r.ok && status == 2) {
    const std::uint64_t modality = r.u64(), items = r.u64(), first = r.u64();
    io::HostArray slab = r.array();
    const std::size_t rows = slab.shape.empty() ? 0 : slab.shape[0];
    try {
      r.ok = r.ok && modality < max_modalities && first == received[modality] &&
             place_items(arrays[modality], items, first, std::move(slab));
    } catch (...) {
      failure = std::current_exception();
      r.ok = false;
    }
    if (r.ok) received[modality] += rows;
    status = r.u64();
  }
  if (r.ok && status == 1) {
    in.file = r.str();
    in.version = r.str();
    in.layout = r.str();
    in.labels_variable = r.str();
    in.labels_dims = r.dims();
    in.labels = r.array();
    const std::uint64_t n = r.u64();
    r.ok = r.ok && n <= max_modalities;
    for (std::uint64_t i = 0; r.ok && i < n; ++i) {
      MatModality m;
      m.name = r.str();
      m.variable = r.str();
      m.dims = r.dims();
      m.arrangement = r.str();
      m.array = std::move(arrays[i]);
      // Every item of every modality came, once.
      r.ok = r.ok && !m.array.shape.empty() && received[i] == m.array.shape[0];
      in.modalities.push_back(std::move(m));
    }
  } else if (r.ok && status == 0) {
    kind = static_cast<ErrorKind>(r.u64());
    message = r.str();
  }
  const bool complete = r.ok;
  ::close(fds[0]);
  if (!complete) ::kill(child, SIGKILL);
  int wstatus = 0;
  while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (failure) std::rethrow_exception(failure);
  if (r.pipe.timed_out)
    SSAH_THROW(IoError, "--mat '", o.file, "': the HDF5 library did not finish reading this MATLAB v7.3 file within ",
               allowed.count(), " s: the file is malformed; convert it to v5 or .npy where it was written");
  if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) != SIGKILL)
    SSAH_THROW(IoError, "--mat '", o.file, "': the HDF5 library failed reading this MATLAB v7.3 file (",
               strsignal(WTERMSIG(wstatus)), "): the file is malformed; convert it to v5 or .npy where it was written");
  if (!complete || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    SSAH_THROW(IoError, "--mat '", o.file, "': reading this MATLAB v7.3 file failed (the reading process ended early)");
  if (status == 0) {
    switch (kind) {
      case ErrorKind::io:
        throw IoError(message);
      case ErrorKind::invalid:
        throw InvalidArgument(message);
      case ErrorKind::shape:
        throw ShapeError(message);
      case ErrorKind::memory:
        throw OutOfMemory(message.empty() ? "out of memory reading '" + o.file + "'" : message);
      default:
        throw Error(message);
    }
  }
  modalities_as_u8_if_01(in);
  return in;
}

#else

bool mat_input_supported() noexcept { return false; }

MatInput read_mat_input(const MatInputOptions& o) {
  SSAH_THROW(
      InvalidArgument, "--mat '", o.file, "': this ssah was built without MATLAB .mat support (matio was not found ",
      "when it was configured; Debian: libmatio-dev); convert the file to .npy and use --modality ", "and --labels");
}

#endif

}  // namespace ssah::cli
