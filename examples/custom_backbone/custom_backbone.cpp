// A user-defined backbone plugged into SSAH with no change to the library, in a model with THREE
// modalities: an "image" view (the library's FeatureNet), a bag-of-words view (FeatureNet) and a
// third view read by the backbone defined here. Data: ssah's seeded synthetic set (not real data).
// Trains, encodes, searches with the Hamming index and evaluates MAP for every direction.
#include <cstdio>
#include <string>

#include "ssah/ssah.hpp"

namespace {

/// A backbone of our own: two leaky-ReLU layers and a skip connection. What makes it a backbone
/// is the concept of ssah/model/backbone.hpp: Config, kind, the constructor, forward, feature_dim.
template <class T>
class ResidualMlp {
 public:
  struct Config {
    std::size_t width = 64;
    T slope = T(0.1);
  };
  static constexpr const char* kind = "residual_mlp";

  ResidualMlp(const ssah::Shape& sample_shape, const Config& config, ssah::ParameterSet<T>& params)
      : config_(config),
        in_(params, "in", sample_shape.size(), config.width),
        mid_(params, "mid", config.width, config.width) {}

  ssah::TrunkOutput<T> forward(const ssah::Var<T>& batch, const ssah::ForwardContext&) const {
    ssah::Var<T> h = ssah::leaky_relu(in_(batch), config_.slope);
    ssah::Var<T> feature = ssah::leaky_relu(h + mid_(h), config_.slope);
    return {feature, feature};
  }
  std::size_t feature_dim() const { return config_.width; }

 private:
  Config config_;
  ssah::nn::Linear<T> in_, mid_;
};

template <class T>
std::vector<T> noisy_copy(const std::vector<T>& v, std::uint64_t seed) {
  ssah::HostRng rng(seed);
  std::vector<T> out = v;
  for (auto& x : out) x += T(0.5 * (rng.uniform() - 0.5));
  return out;
}

}  // namespace

int main() {
  using namespace ssah;
  constexpr int K = 32;
  data::SyntheticOptions so;
  so.items = 1200;
  so.labels = 8;
  so.image_dim = 48;
  so.vocabulary = 120;
  const data::SyntheticData d = data::make_synthetic(so);
  const std::size_t n = d.items, train_n = 1000;
  const std::vector<float> labels(d.label_matrix.begin(), d.label_matrix.end());
  const std::vector<float> third = noisy_copy(d.image, 7);  // a third, noisier view of the same items

  auto rows = [&](const std::vector<float>& v, std::size_t width, std::size_t first, std::size_t last) {
    return Tensor<float>::from_host(Shape{last - first, width}, std::vector<float>(v.begin() + long(first * width),
                                                                                   v.begin() + long(last * width)));
  };
  using Model = BasicSsah<float, K, objective::Paper, FeatureNet, FeatureNet, ResidualMlp>;
  Model::Options options;
  options.label_net.hidden = {256, 64};
  std::get<0>(options.backbones).hidden = {256, 64};
  std::get<1>(options.backbones).hidden = {256, 64};
  options.discriminator.hidden = {64, 32};
  Model model(so.labels, {Shape{so.image_dim}, Shape{so.vocabulary}, Shape{so.image_dim}}, options);

  TrainingSet<float> train{rows(labels, so.labels, 0, train_n),
                           {rows(d.image, so.image_dim, 0, train_n), rows(d.text, so.vocabulary, 0, train_n),
                            rows(third, so.image_dim, 0, train_n)}};
  TrainOptions t;
  t.label_lr = SsahTableLr{2.0};
  t.discriminator_lr = SsahTableLr{2.0};
  t.modality_lr = {SsahTableLr{2.0}, SsahTableLr{2.0}, SsahTableLr{2.0}};
  t.label_passes = {5, 3};
  t.modality_passes = {5, 3, 2};
  ssah::fit(model, train, t);

  // Queries: the 200 held-out items; database: the training items.
  const std::vector<float> query_labels(labels.begin() + long(train_n * so.labels), labels.end());
  const std::vector<float> db_labels(labels.begin(), labels.begin() + long(train_n * so.labels));
  const char* names[] = {"img", "txt", "third"};
  const std::vector<float>* views[] = {&d.image, &d.text, &third};
  const std::size_t widths[] = {so.image_dim, so.vocabulary, so.image_dim};
  for (std::size_t q = 0; q < 3; ++q)
    for (std::size_t b = 0; b < 3; ++b) {
      const auto qh = model.hashes(q, rows(*views[q], widths[q], train_n, n)).to_host();
      const auto bh = model.hashes(b, rows(*views[b], widths[b], 0, train_n)).to_host();
      const PackedCodes<K> qc = PackedCodes<K>::from_values(qh), bc = PackedCodes<K>::from_values(bh);
      EvalOptions eo;
      eo.precision_at = {10, 100};
      const EvalResult r = evaluate_retrieval(qc, bc, LabelMatrix::from_multi_hot(query_labels, so.labels),
                                              LabelMatrix::from_multi_hot(db_labels, so.labels), eo);
      const KnnResult nn = HammingIndex<K>(bc).search(qc, 5);
      std::printf("%-5s -> %-5s  mAP %.3f  P@10 %.3f  first neighbours of query 0: %lld %lld %lld\n", names[q],
                  names[b], r.map, r.precision_at_n[0], static_cast<long long>(nn.ids[0]),
                  static_cast<long long>(nn.ids[1]), static_cast<long long>(nn.ids[2]));
    }
  return 0;
}
