// `ssah encode`: the codes of one modality's items under a checkpoint of `ssah train`.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "ssah/checkpoint.hpp"
#include "ssah/io/array.hpp"
#include "ssah/io/npy.hpp"

namespace ssah::cli {
namespace {

struct EncodeArgs {
  std::string checkpoint, modality, out;
};

void run_encode(const EncodeArgs& a) {
  const auto [name, path] = split_pair(a.modality, "--modality");
  check_output_file("--out", a.out, {{"--checkpoint", a.checkpoint}, {"--modality", path}});
  check_output_streams_not_inputs({{"--checkpoint", a.checkpoint}, {"--modality", path}});
  Checkpoint c;
  std::unique_ptr<AnyModel<float>> model = load_checkpoint(a.checkpoint, c);
  std::size_t m = 0;
  while (m < c.modalities.size() && c.modalities[m].name != name) ++m;
  if (m == c.modalities.size()) {
    std::string known;
    for (const auto& cm : c.modalities) known += (known.empty() ? "'" : ", '") + cm.name + "'";
    SSAH_THROW(InvalidArgument, "checkpoint '", a.checkpoint, "' has no modality '", name, "' (it has ", known, ")");
  }
  const pipeline::Modality in = pipeline::modality_from_array(name, io::read_npy(path));
  if (in.sample_shape != c.modalities[m].sample_shape)
    SSAH_THROW(ShapeError, "'", path, "': items of shape ", io::shape_str(in.sample_shape), " where the checkpoint's '",
               name, "' expects ", io::shape_str(c.modalities[m].sample_shape));
  const std::size_t rows = in.value_count() / in.row_size();
  pipeline::Standardization st;
  st.mean = c.modalities[m].mean;
  st.stddev = c.modalities[m].stddev;
  const std::vector<float> h = pipeline::hashes_of(*model, m, in, st);
  // Finite weights or standardisation can still overflow inside the network into NaN (inf - inf),
  // whose sign is no code at all. (The hostile suite's 3e38 checkpoint saturates to one code for
  // every item instead, which the warning below reports; this check has no case that reaches it.)
  if (const auto bad = std::find_if(h.begin(), h.end(), [](float v) { return !std::isfinite(v); }); bad != h.end())
    SSAH_THROW(NumericError, "'", a.checkpoint, "': the model gives a non-finite hash (", *bad, ") for item ",
               (bad - h.begin()) / c.spec.bits, " of '", path,
               "'; its weights or standardisation are out of range, or the items are");
  const std::vector<std::int8_t> codes = sign_codes(h);
  io::write_npy(a.out, codes, {rows, static_cast<std::size_t>(c.spec.bits)});
  std::printf("%zu codes of %d bits written to %s\n", rows, c.spec.bits, a.out.c_str());
  // A collapsed model (or one whose weights saturate every unit) ranks nothing: say so.
  if (all_rows_equal(codes.data(), rows, static_cast<std::size_t>(c.spec.bits)))
    std::fprintf(stderr, "ssah encode: warning: all %zu items get the same code: the model does not tell them apart\n",
                 rows);
}

}  // namespace

void add_encode_command(CLI::App& app) {
  auto args = std::make_shared<EncodeArgs>();
  CLI::App* cmd = app.add_subcommand("encode", "Hash codes (int8 ±1) of items with a checkpoint written by train");
  cmd->add_option("--checkpoint", args->checkpoint, "model-K<bits>.safetensors written by ssah train")->required();
  cmd->add_option("--modality", args->modality, "NAME=FILE.npy (NAME as in training)")->required();
  cmd->add_option("--out", args->out, "codes .npy [N, K] int8")->required()->check(non_empty_path());
  cmd->callback([args] { run_encode(*args); });
}

}  // namespace ssah::cli
