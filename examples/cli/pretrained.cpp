// `ssah train --pretrained`: see pretrained.hpp.
#include "pretrained.hpp"

#include "ssah/error.hpp"

#if SSAH_CLI_HAVE_MATIO
#include "ssah/matconvnet.hpp"
#endif

namespace ssah::cli {

#if SSAH_CLI_HAVE_MATIO

CnnF<float>::Config pretrained_cnnf_config(const std::string& path) { return matconvnet_cnnf_config<float>(path); }

std::string load_pretrained_cnnf(CnnF<float>& net, const std::string& path) {
  const MatConvNetLoadReport r = load_matconvnet_cnnf(net, path);
  return std::string(r.layout == MatConvNetLayout::Old ? "old (pre-beta16) layout" : "beta16+ layout") + ", " +
         std::to_string(r.loaded.size()) + " tensors (conv1..fc7), mean: " + r.mean_kind;
}

#else

namespace {
[[noreturn]] void unsupported(const std::string& path) {
  SSAH_THROW(InvalidArgument, "--pretrained '", path,
             "': this ssah was built without MATLAB .mat support (matio was not found)");
}
}  // namespace

CnnF<float>::Config pretrained_cnnf_config(const std::string& path) { unsupported(path); }
std::string load_pretrained_cnnf(CnnF<float>&, const std::string& path) { unsupported(path); }

#endif

}  // namespace ssah::cli
