#pragma once
/// \file
/// Loads MatConvNet's pretrained CNN-F (`imagenet-vgg-f.mat`) into a `CnnF` (conv1..fc7 and the
/// mean image), read with matio through ssah/io/mat.hpp. Programs that include this header link
/// `ssah::matio`; the core `CnnF` does not need it.
///
/// Both layouts of the file are understood:
/// - the old one (before MatConvNet beta16, used by SSAH's official code): top-level variables
///   `layers` (a cell array of layer structs) and `normalization.averageImage`;
/// - the beta16+ one (used by the SincereJoy / zyfsa ports): `layers` and
///   `meta.normalization.averageImage`.
/// A file holding a single struct `net` with those fields is accepted as well. DagNN files are not.
///
/// Layers are found by name (conv1..conv5, pool1, pool2, pool5, fc6, fc7; norm1 and norm2 are
/// checked when present), whatever the order of their struct fields. Each conv layer's filters
/// (field `weights` = {filters, biases}, or the pre-beta8 fields `filters` / `biases`) are
/// MatConvNet's H x W x Cin x Cout array and become ssah's [Cout, Cin, H, W]:
///
///   weight[o, c, y, x] = filters(y+1, x+1, c+1, o+1)
///
/// Pads, strides and pool sizes stored in the file are compared with CnnF's fixed geometry (the
/// reference code reads them at run time; CNN-F's file holds exactly that geometry), and any
/// difference, a missing layer or a filter bank whose size does not match the network's
/// parameter is an `IoError` naming the file and the layer. fc8 (ImageNet's 1000 classes) is not
/// loaded: SSAH's fc8 (4096 -> 512) is a new layer.
///
/// The mean image: an H x W x C `averageImage` of the network's input size becomes the
/// {C, H, W} mean image; a 1 x 1 x C (or C-element) one gives one mean per channel; an image of
/// another size is reduced to its per-channel averages (reported in `mean_kind`).

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "ssah/detail/permute_axes.hpp"
#include "ssah/error.hpp"
#include "ssah/io/mat.hpp"
#include "ssah/model/cnnf.hpp"

namespace ssah {

/// Which layout a MatConvNet file used.
enum class MatConvNetLayout {
  Old,     ///< `layers` + `normalization` (pre-beta16)
  Beta16,  ///< `layers` + `meta.normalization` (beta16 and later)
};

/// What `load_matconvnet_cnnf` found and loaded.
struct MatConvNetLoadReport {
  MatConvNetLayout layout = MatConvNetLayout::Old;
  /// The parameters written, in order (conv1.weight, conv1.bias, ..., fc7.bias).
  std::vector<std::string> loaded;
  /// "image", "per-channel", "per-channel average of a <h>x<w> image", or "none" (no
  /// averageImage in the file, or not requested).
  std::string mean_kind = "none";
};

struct MatConvNetLoadOptions {
  /// Set the network's mean image from the file's `averageImage`.
  bool load_mean_image = true;
};

namespace detail {

/// A MatConvNet layer's numeric field as doubles (pad, stride, pool, param).
inline std::vector<double> mcn_numbers(const io::MatValue& layer, const std::string& field) {
  return layer.field(field).to_array().as<double>();
}

inline std::string mcn_join(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + detail::concat(v[i]);
  return s + "]";
}

/// Compares a stored [top bottom left right] (or scalar) pad, a [sy sx] (or scalar) stride and,
/// for pools, a [h w] (or scalar) pool size with a CnnF stage.
inline void mcn_check_geometry(const io::MatValue& layer, const std::string& file, const std::string& name,
                               std::size_t kernel, std::size_t stride, const Padding2d& pad, bool pool) {
  auto fail_with = [&](const char* what, const std::vector<double>& got, const std::string& expected) {
    fail<IoError>("'", file, "': layer '", name, "': ", what, " ", mcn_join(got), " differs from CNN-F's ", expected,
                  " (CnnF has a fixed geometry)");
  };
  if (layer.has_field("pad")) {
    const std::vector<double> p = mcn_numbers(layer, "pad");
    const std::vector<double> want = {double(pad.top), double(pad.bottom), double(pad.left), double(pad.right)};
    const bool ok = (p.size() == 1 && p[0] == want[0] && p[0] == want[1] && p[0] == want[2] && p[0] == want[3]) ||
                    (p.size() == 4 && p == want);
    if (!ok) fail_with("pad", p, mcn_join(want));
  }
  if (layer.has_field("stride")) {
    const std::vector<double> s = mcn_numbers(layer, "stride");
    const bool ok = (s.size() == 1 || s.size() == 2) && s[0] == double(stride) && s.back() == double(stride);
    if (!ok) fail_with("stride", s, mcn_join({double(stride), double(stride)}));
  }
  if (pool) {
    const std::vector<double> k = mcn_numbers(layer, "pool");
    const bool ok = (k.size() == 1 || k.size() == 2) && k[0] == double(kernel) && k.back() == double(kernel);
    if (!ok) fail_with("pool size", k, mcn_join({double(kernel), double(kernel)}));
    if (layer.has_field("method")) {
      const std::string method = layer.field("method").to_string();
      SSAH_CHECK_AS(IoError, method == "max", "'", file, "': layer '", name, "': pooling method '", method,
                    "', CNN-F's is 'max'");
    }
  }
}

/// The filter bank and biases of a conv layer (field `weights` = {filters, biases}, or the
/// pre-beta8 fields `filters` / `biases`), not yet read.
struct McnConvValues {
  io::MatValue filters, biases;
};
inline McnConvValues mcn_conv_values(const io::MatValue& layer, const std::string& file, const std::string& name) {
  if (layer.has_field("weights")) {
    const io::MatValue w = layer.field("weights");
    SSAH_CHECK_AS(IoError, w.is_cell() && w.numel() >= 2, "'", file, "': layer '", name,
                  "': 'weights' is not a {filters, biases} cell array");
    return {w.cell(0), w.cell(1)};
  }
  if (layer.has_field("filters") && layer.has_field("biases")) return {layer.field("filters"), layer.field("biases")};
  fail<IoError>("'", file, "': layer '", name, "' has neither 'weights' nor 'filters'/'biases'");
}

/// MATLAB's H x W x Cin x Cout size of a filter bank, with the trailing singletons MATLAB drops
/// restored (a bank with one output is H x W x Cin).
inline std::vector<std::size_t> mcn_filter_dims(const std::vector<std::size_t>& dims, const std::string& file,
                                                const std::string& name) {
  SSAH_CHECK_AS(IoError, dims.size() >= 2 && dims.size() <= 4, "'", file, "': layer '", name, "': filters of size ",
                io::shape_str(dims), " are not H x W x Cin x Cout");
  std::vector<std::size_t> d = dims;
  while (d.size() < 4) d.push_back(1);
  return d;
}

/// Copies the filters and biases of a conv layer into `weight` [Cout, Cin, kh, kw] and `bias`.
template <class T>
void mcn_load_conv(const io::MatValue& layer, const std::string& file, const std::string& name, const Var<T>& weight,
                   const Var<T>& bias) {
  const McnConvValues values = mcn_conv_values(layer, file, name);
  const io::HostArray filters = values.filters.to_array();
  const io::HostArray biases = values.biases.to_array();
  const std::vector<std::size_t> d = mcn_filter_dims(filters.shape, file, name);
  const Shape& ws = weight.shape();
  const std::size_t kh = d[0], kw = d[1], cin = d[2], cout = d[3];
  SSAH_CHECK_AS(IoError, ws[0] == cout && ws[1] == cin && ws[2] == kh && ws[3] == kw, "'", file, "': layer '", name,
                "': filters of size ", io::shape_str(filters.shape), " (H x W x Cin x Cout) do not fit the network's ",
                name, ".weight ", ws.str(), " ([Cout, Cin, H, W])");
  SSAH_CHECK_AS(IoError, biases.size() == cout, "'", file, "': layer '", name, "': ", biases.size(),
                " biases for ", cout, " filters");
  const std::vector<T> f = filters.as<T>();
  std::vector<T> out(f.size());
  permute_axes(f.data(), {kh, kw, cin, cout}, {3, 2, 0, 1}, out.data());  // [H, W, Cin, Cout] -> [Cout, Cin, H, W]
  Tensor<T> wv = weight.value();  // a view into the network's parameters
  wv.copy_from_host(out.data(), out.size());
  const std::vector<T> b = biases.as<T>();
  Tensor<T> bv = bias.value();
  bv.copy_from_host(b.data(), b.size());
}

/// A MatConvNet SimpleNN file opened for CNN-F: its layers by name and its normalization struct.
/// Shared by `load_matconvnet_cnnf` and `matconvnet_cnnf_config`.
struct McnNetwork {
  std::string path;
  MatConvNetLayout layout = MatConvNetLayout::Old;
  std::vector<std::string> names;     ///< layer names, in file order
  std::vector<io::MatValue> layers;   ///< the layer structs, same order
  std::vector<io::MatValue> norm;     ///< the normalization struct (empty when the file has none)

  const io::MatValue* find(const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return &layers[i];
    return nullptr;
  }
  /// The layer `name`, of MatConvNet type `type` when the file stores types; IoError otherwise.
  const io::MatValue& require(const std::string& name, const char* type) const {
    const io::MatValue* l = find(name);
    if (l == nullptr) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      fail<IoError>("'", path, "': no layer named '", name, "' (layers: ", list.empty() ? "none" : list,
                    "): not MatConvNet's CNN-F");
    }
    if (l->has_field("type")) {
      const std::string t = l->field("type").to_string();
      SSAH_CHECK_AS(IoError, t == type, "'", path, "': layer '", name, "' is of type '", t, "', expected '", type,
                    "'");
    }
    return *l;
  }
};

/// Opens `path` and finds `layers` and the normalization struct in either layout.
inline McnNetwork mcn_open(const std::string& path) {
  io::MatFile file(path);
  McnNetwork net;
  net.path = path;
  std::vector<std::string> top;
  for (const io::MatVarInfo& v : file.variables()) top.push_back(v.name);
  auto has = [&](const char* n) {
    for (const std::string& t : top)
      if (t == n) return true;
    return false;
  };
  const io::MatValue layers = [&]() -> io::MatValue {
    if (has("layers")) return file.read("layers");
    if (has("net")) return file.read("net").field("layers");
    if (has("vars") || has("params"))
      fail<IoError>("'", path, "': a DagNN network; only SimpleNN files (imagenet-vgg-f.mat) are supported");
    fail<IoError>("'", path, "': no 'layers' variable: not a MatConvNet SimpleNN file");
  }();
  auto take_norm = [&](const io::MatValue& holder, MatConvNetLayout layout) {
    net.layout = layout;
    if (layout == MatConvNetLayout::Beta16) {
      if (holder.has_field("normalization")) net.norm.push_back(holder.field("normalization"));
    } else {
      net.norm.push_back(holder);
    }
  };
  if (has("layers")) {
    if (has("meta")) {
      take_norm(file.read("meta"), MatConvNetLayout::Beta16);
    } else if (has("normalization")) {
      take_norm(file.read("normalization"), MatConvNetLayout::Old);
    }
  } else {
    const io::MatValue n = file.read("net");
    if (n.has_field("meta")) {
      take_norm(n.field("meta"), MatConvNetLayout::Beta16);
    } else if (n.has_field("normalization")) {
      take_norm(n.field("normalization"), MatConvNetLayout::Old);
    }
  }
  SSAH_CHECK_AS(IoError, layers.is_cell(), "'", path, "': 'layers' is a ", layers.class_name(),
                ", not a cell array of layer structs");
  for (std::size_t i = 0; i < layers.numel(); ++i) {
    io::MatValue l = layers.cell(i);
    if (!l.is_struct() || !l.has_field("name")) continue;
    net.names.push_back(l.field("name").to_string());
    net.layers.push_back(l);
  }
  return net;
}

}  // namespace detail

/// Loads conv1..fc7 (and the mean image) of MatConvNet's `imagenet-vgg-f.mat` at `path` into
/// `net`. See the file comment for the layouts, the weight order and the checks.
template <class T>
MatConvNetLoadReport load_matconvnet_cnnf(CnnF<T>& net, const std::string& path,
                                          const MatConvNetLoadOptions& options = {}) {
  const detail::McnNetwork mcn = detail::mcn_open(path);
  MatConvNetLoadReport report;
  report.layout = mcn.layout;
  auto find = [&](const std::string& name) { return mcn.find(name); };
  const bool have_norm = !mcn.norm.empty();

  for (const CnnFStage& st : cnnf_stages) {
    const io::MatValue& l = mcn.require(st.name, st.pool ? "pool" : "conv");
    detail::mcn_check_geometry(l, path, st.name, st.kernel, st.stride, st.pad, st.pool);
    if (st.pool) continue;
    detail::mcn_load_conv(l, path, st.name, net.conv_weight(st.conv_index), net.conv_bias(st.conv_index));
    report.loaded.push_back(std::string(st.name) + ".weight");
    report.loaded.push_back(std::string(st.name) + ".bias");
  }
  // LRN settings, when stored: CnnF applies TF's (radius 2 = MatConvNet's depth 5, kappa 2, alpha 1e-4, beta 0.75).
  for (const char* lrn_name : {"norm1", "norm2"}) {
    const io::MatValue* l = find(lrn_name);
    if (l == nullptr || !l->has_field("param")) continue;
    const std::vector<double> p = detail::mcn_numbers(*l, "param");
    const bool ok = p.size() == 4 && p[0] == 5 && p[1] == 2 && std::abs(p[2] - 1e-4) < 1e-12 && p[3] == 0.75;
    SSAH_CHECK_AS(IoError, ok, "'", path, "': layer '", lrn_name, "': LRN parameters ", detail::mcn_join(p),
                  " differ from CNN-F's [5 2 0.0001 0.75]");
  }
  for (const char* fc : {"fc6", "fc7"}) {
    const io::MatValue& l = mcn.require(fc, "conv");
    detail::mcn_check_geometry(l, path, fc, 0, 1, Padding2d{}, false);
    const bool six = std::string(fc) == "fc6";
    detail::mcn_load_conv(l, path, fc, six ? net.fc6_weight() : net.fc7_weight(), six ? net.fc6_bias() : net.fc7_bias());
    report.loaded.push_back(std::string(fc) + ".weight");
    report.loaded.push_back(std::string(fc) + ".bias");
  }

  if (options.load_mean_image && have_norm && mcn.norm[0].is_struct() && mcn.norm[0].has_field("averageImage")) {
    const io::HostArray a = mcn.norm[0].field("averageImage").to_array();
    const std::vector<T> v = a.as<T>();
    const Shape& s = net.sample_shape();
    const std::size_t c = s[0], h = s[1], w = s[2];
    std::vector<std::size_t> d = a.shape;
    while (d.size() < 3) d.push_back(1);
    if (d.size() == 3 && d[0] == h && d[1] == w && d[2] == c) {  // H x W x C -> {C, H, W}
      std::vector<T> chw(v.size());
      detail::permute_axes(v.data(), {h, w, c}, {2, 0, 1}, chw.data());
      net.set_mean_image(Tensor<T>::from_host(s, chw));
      report.mean_kind = "image";
    } else if (v.size() == c) {
      net.set_mean_image(Tensor<T>::from_host(Shape{c}, v));
      report.mean_kind = "per-channel";
    } else if (d.size() == 3 && d[2] == c && d[0] * d[1] > 0) {
      std::vector<T> means(c, T(0));
      std::vector<double> sums(c, 0.0);
      for (std::size_t i = 0; i < v.size(); ++i) sums[i % c] += static_cast<double>(v[i]);
      for (std::size_t k = 0; k < c; ++k) means[k] = static_cast<T>(sums[k] / static_cast<double>(d[0] * d[1]));
      net.set_mean_image(Tensor<T>::from_host(Shape{c}, means));
      report.mean_kind = "per-channel average of a " + std::to_string(d[0]) + "x" + std::to_string(d[1]) + " image";
    } else {
      detail::fail<IoError>("'", path, "': averageImage of size ", io::shape_str(a.shape),
                            " fits neither the network's input ", s.str(), " nor its ", c, " channels");
    }
  }
  return report;
}

/// The `CnnF<T>::Config` that the weights of MatConvNet's CNN-F file at `path` imply: conv1..conv5
/// output channels and the fc6 / fc7 widths read from the filter banks' sizes (without reading
/// their values); `feature` (fc8, SSAH's new layer) is not in the file and is taken from the
/// argument. The same lookup and errors as `load_matconvnet_cnnf` (a missing layer, a wrong type,
/// a filter bank that is not H x W x Cin x Cout), plus an `IoError` when a layer's input channels
/// do not follow the previous layer's outputs. Whether the geometry fits an input size is
/// checked by `load_matconvnet_cnnf` on the network built from this config.
template <class T>
typename CnnF<T>::Config matconvnet_cnnf_config(const std::string& path, std::size_t feature = 512) {
  const detail::McnNetwork mcn = detail::mcn_open(path);
  typename CnnF<T>::Config config;
  config.feature = feature;
  std::size_t previous = 0;  // output channels of the previous conv (0: conv1, any input)
  auto outputs = [&](const char* name) {
    const io::MatValue& l = mcn.require(name, "conv");
    const std::vector<std::size_t> d =
        detail::mcn_filter_dims(detail::mcn_conv_values(l, path, name).filters.dims(), path, name);
    SSAH_CHECK_AS(IoError, d[3] > 0, "'", path, "': layer '", name, "' has no filters");
    SSAH_CHECK_AS(IoError, previous == 0 || d[2] == previous, "'", path, "': layer '", name, "': filters of size ",
                  io::shape_str(d), " read ", d[2], " channels, but the layer before it has ", previous, " outputs");
    previous = d[3];
    return d[3];
  };
  for (const CnnFStage& st : cnnf_stages)
    if (!st.pool) config.conv_channels[st.conv_index] = outputs(st.name);
  config.fc6 = outputs("fc6");
  config.fc7 = outputs("fc7");
  return config;
}

}  // namespace ssah
