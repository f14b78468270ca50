#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ssah/checkpoint.hpp"
#include "ssah/hashing/dispatch.hpp"
#include "ssah/io/array.hpp"
#include "ssah/pipeline.hpp"

using namespace ssah;

TEST_CASE("Standardization: the training rows' mean and std, tiny spreads kept, constant columns centred only") {
  // Columns: ordinary values; a colour-histogram-like bin (0 but for one 1e-6: std 4e-7, variance
  // below 1e-12, as in a MIRFLICKR-730 bin); a constant large value; a constant 0.1.
  pipeline::Modality m;
  m.name = "img";
  m.sample_shape = {4};
  const std::vector<std::vector<float>> rows = {{1.f, 0.f, 1e6f, 0.1f},   {3.f, 1e-6f, 1e6f, 0.1f},
                                                {5.f, 0.f, 1e6f, 0.1f},   {7.f, 0.f, 1e6f, 0.1f},
                                                {-4.f, 0.f, 1e6f, 0.1f}, {9.f, 9.f, 9.f, 9.f}};  // last: not training
  for (const auto& r : rows) m.values.insert(m.values.end(), r.begin(), r.end());
  const std::vector<std::size_t> train = {0, 1, 2, 3, 4};
  const pipeline::Standardization s = pipeline::Standardization::fit(m, train);
  for (std::size_t j = 0; j < 2; ++j) {
    double mean = 0, var = 0;
    for (std::size_t r : train) mean += rows[r][j] / 5.0;
    for (std::size_t r : train) var += (rows[r][j] - mean) * (rows[r][j] - mean) / 5.0;
    CHECK(s.mean[j] == doctest::Approx(mean).epsilon(1e-6));
    CHECK(s.stddev[j] == doctest::Approx(std::sqrt(var)).epsilon(1e-5));
  }
  CHECK(s.stddev[1] < 1e-6f);  // the small spread is the column's scale, not treated as zero
  CHECK(s.mean[2] == 1e6f);
  CHECK(s.stddev[2] == 1.f);
  CHECK(s.mean[3] == 0.1f);
  CHECK(s.stddev[3] == 1.f);

  std::vector<float> standardized = m.values;
  s.apply(standardized);
  for (std::size_t r : train) {
    CHECK(standardized[r * 4 + 2] == 0.f);
    CHECK(standardized[r * 4 + 3] == 0.f);
  }
  CHECK(standardized[1 * 4 + 1] == doctest::Approx(2.0).epsilon(1e-4));  // (1e-6 - 2e-7) / 4e-7

  CHECK_THROWS_WITH_AS(pipeline::Standardization::fit(m, {}), doctest::Contains("no training rows"), InvalidArgument);
}

TEST_CASE("Split::validate refuses repeated rows and a query set inside the database, data_warnings reports the rest") {
  pipeline::Dataset data;
  data.items = 8;
  data.classes = 2;
  data.labels = {1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0};  // rows 3 and 6 have no label
  pipeline::Split s;
  s.query = {0, 1};
  s.database = {2, 3, 4, 5, 6, 7};
  s.train = {2, 3, 4, 5};
  CHECK_NOTHROW(s.validate(8));
  CHECK(s.overlap() == 0);
  CHECK(pipeline::data_warnings(data, s) ==
        std::vector<std::string>{"2 of the 6 database items have no label (never relevant to any query)",
                                 "1 of the 4 training items have no label (dissimilar to every item)"});

  pipeline::Split dup = s;
  dup.query = {0, 1, 1};
  CHECK_THROWS_WITH_AS(dup.validate(8), "split: the query set lists row 1 twice", InvalidArgument);
  dup = s;
  dup.database.push_back(2);
  CHECK_THROWS_WITH_AS(dup.validate(8), "split: the database set lists row 2 twice", InvalidArgument);
  dup = s;
  dup.train.push_back(2);  // oversampling a training row is allowed
  CHECK_NOTHROW(dup.validate(8));

  pipeline::Split same = s;
  same.query = s.database;
  CHECK_THROWS_WITH_AS(same.validate(8), doctest::Contains("every query is also a database item"), InvalidArgument);
  pipeline::Split overlap = s;
  overlap.query = {0, 2};
  CHECK_NOTHROW(overlap.validate(8));
  CHECK(overlap.overlap() == 1);
  const std::vector<std::string> overlap_warnings = pipeline::data_warnings(data, overlap);
  REQUIRE(overlap_warnings.size() == 4);  // the two of `s`, then these (row 2 is a training row too)
  CHECK(overlap_warnings[2] ==
        "1 of the 2 queries are also database items: each retrieves itself, which raises the MAP");
  CHECK(overlap_warnings[3] ==
        "1 of the 2 queries are training items: the MAP is measured on items the model was trained on");

  pipeline::Dataset unlabelled = data;
  unlabelled.labels.assign(16, 0.f);
  CHECK_THROWS_WITH_AS(pipeline::data_warnings(unlabelled, s), doctest::Contains("no training item has a label"),
                       InvalidArgument);
  unlabelled.labels = data.labels;
  for (std::size_t r : {4, 5, 7}) unlabelled.labels[r * 2] = unlabelled.labels[r * 2 + 1] = 0.f;  // only 0-2 labelled
  s.train = {2};
  CHECK_NOTHROW(pipeline::data_warnings(unlabelled, s));
  s.train = {3};
  CHECK_THROWS_WITH_AS(pipeline::data_warnings(unlabelled, s), doctest::Contains("no training item has a label"),
                       InvalidArgument);

  // Training rows that all share a label (one class, or every pair through a different class).
  const std::string all_similar = "every training item shares a label with every other training item";
  const auto warns_all_similar = [&](const pipeline::Dataset& d, const pipeline::Split& split) {
    const std::vector<std::string> w = pipeline::data_warnings(d, split);
    return std::any_of(w.begin(), w.end(), [&](const std::string& m) { return m.rfind(all_similar, 0) == 0; });
  };
  s.train = {2, 4};  // {1,1} and {1,0}: class 0 in both
  CHECK(warns_all_similar(data, s));
  s.train = {2, 4, 5};  // {1,0} and {0,1} share nothing
  CHECK_FALSE(warns_all_similar(data, s));
  pipeline::Dataset triangle;  // {1,1,0}, {0,1,1}, {1,0,1}: every pair shares a class, no class is in all three
  triangle.items = 4;
  triangle.classes = 3;
  triangle.labels = {1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0};
  pipeline::Split t;
  t.query = {3};
  t.database = {0, 1, 2};
  t.train = {0, 1, 2};
  CHECK(warns_all_similar(triangle, t));
  t.train = {0, 1, 2, 3};  // {1,0,0} and {0,1,1} share nothing
  CHECK_FALSE(warns_all_similar(triangle, t));
}

TEST_CASE("dataset_from_labels, modality_from_array and Dataset::validate name the file that is wrong") {
  const auto labels = io::HostArray::from(std::vector<float>{1, 0, 0, 1, 1, 1}, {3, 2}, "lab.npy");
  pipeline::Dataset data = pipeline::dataset_from_labels(labels);
  CHECK(data.items == 3);
  CHECK(data.classes == 2);
  CHECK(data.labels_source == "lab.npy");
  CHECK_THROWS_WITH_AS(pipeline::dataset_from_labels(io::HostArray::from(std::vector<float>{1, 0, 2}, {3, 1}, "l.npy")),
                       "'l.npy': labels must be 0 or 1, found 2 at row 2, column 0", InvalidArgument);
  CHECK_THROWS_WITH_AS(pipeline::dataset_from_labels(io::HostArray::from(std::vector<int>{1, 0}, {2}, "l.npy")),
                       "'l.npy': labels must be a multi-hot array [items, classes], got shape [2]", ShapeError);

  const auto img = io::HostArray::from(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 1, 2}, "img.npy");
  pipeline::Modality m = pipeline::modality_from_array("img", img);
  CHECK(m.sample_shape == std::vector<std::size_t>{1, 2});
  CHECK(m.values == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(m.source == "img.npy");
  data.modalities.push_back(m);
  CHECK_NOTHROW(data.validate());
  CHECK_THROWS_WITH_AS(pipeline::modality_from_array("v", io::HostArray::from(std::vector<float>{1, 2}, {2}, "v.npy")),
                       doctest::Contains("'v.npy': a modality must be an array [items, ...] of 2 to 4 dimensions"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(pipeline::modality_from_array(
                           "v", io::HostArray::from(std::vector<float>{1, NAN}, {1, 2}, "v.npy")),
                       doctest::Contains("v.npy: non-finite value nan at row 0, column 1"), NumericError);

  pipeline::Dataset twice = data;
  twice.modalities.push_back(m);
  CHECK_THROWS_WITH_AS(twice.validate(), "the modality name 'img' is used twice", InvalidArgument);
  pipeline::Dataset bad_name = data;
  bad_name.modalities[0].name = "a/../b";
  CHECK_THROWS_WITH_AS(bad_name.validate(), doctest::Contains("the modality name 'a/../b' becomes part of"),
                       InvalidArgument);
  bad_name.modalities[0].name = "label";
  CHECK_THROWS_WITH_AS(bad_name.validate(), doctest::Contains("'label' is reserved"), InvalidArgument);
  pipeline::Dataset short_rows = data;
  short_rows.modalities[0].values.resize(4);
  CHECK_THROWS_WITH_AS(short_rows.validate(), "'img.npy' has 2 rows but the labels 'lab.npy' have 3", ShapeError);
  short_rows.modalities[0].source.clear();
  short_rows.labels_source.clear();
  CHECK_THROWS_WITH_AS(short_rows.validate(), "modality 'img' has 2 rows but the labels have 3", ShapeError);
  pipeline::Dataset nan = data;
  nan.modalities[0].values[3] = INFINITY;
  CHECK_THROWS_WITH_AS(nan.validate(), doctest::Contains("'img.npy': non-finite value inf at row 1, column 1"),
                       NumericError);
}

TEST_CASE("check_networks: widths beyond memory and a backbone that cannot read its items fail before training") {
  pipeline::Dataset data = pipeline::dataset_from_labels(io::HostArray::from(std::vector<float>{1, 0, 0, 1, 1, 1}, {3, 2}));
  data.modalities.push_back(pipeline::modality_from_array("txt", io::HostArray::from(std::vector<float>(96, 1.f), {3, 32})));
  data.modalities[0].backbone.kind = "text";
  pipeline::Experiment e;
  CHECK_THROWS_WITH_AS(pipeline::check_networks(data, e, 16),
                       doctest::Contains("the text backbone cannot read the items of 'txt' (shape [32]): pooling window"),
                       InvalidArgument);
  data.modalities[0].backbone.kind = "feature";
  CHECK_NOTHROW(pipeline::check_networks(data, e, 16));
  e.label_net.hidden = {std::size_t(1) << 20, std::size_t(1) << 20};
  // 2^40 weights between the two hidden layers alone, four float copies each: 16 TiB.
  CHECK(pipeline::training_memory_lower_bound(pipeline::model_spec(data, e, 16), data, 3, 128).weights >=
        16.0 * (1ull << 40));
  CHECK_THROWS_WITH_AS(pipeline::check_networks(data, e, 16),
                       doctest::Contains("the networks need at least"), OutOfMemory);
}

TEST_CASE("training_memory_lower_bound: a step's activations grow with the batch, too large a batch is refused") {
  // CNN-F on 3 x 224 x 224: the input (150,528), conv1 (64 x 54 x 54, with ReLU and LRN: x3),
  // pool1 (64 x 27 x 27), conv2 (256 x 27 x 27, x3), pool2 (256 x 13 x 13), conv3-5 (256 x 13 x 13,
  // with ReLU: x2 each), pool5 (256 x 6 x 6), fc6 and fc7 with ReLU (2 x 2 x 4096), fc8 (512).
  const auto layout = CnnF<float>::layout(Shape{3, 224, 224}, CnnF<float>::Config::full());
  CHECK(layout.activations_per_item ==
        150528 + 3 * 186624 + 46656 + 3 * 186624 + 43264 + 3 * 2 * 43264 + 9216 + 4 * 4096 + 512);

  pipeline::Dataset data =
      pipeline::dataset_from_labels(io::HostArray::from(std::vector<float>{1, 0, 0, 1, 1, 1}, {3, 2}));
  data.modalities.push_back(
      pipeline::modality_from_array("img", io::HostArray::from(std::vector<float>(12, 1.f), {3, 4})));
  pipeline::Experiment e;
  e.label_net.hidden = {1000, 8};
  e.discriminator.hidden = {16, 16};
  const ModelSpec<float> spec = pipeline::model_spec(data, e, 16);
  const auto one = pipeline::training_memory_lower_bound(spec, data, 3, 1);
  CHECK(one.activations > 0);
  // The batch is at most the training rows there are: 3 here.
  const auto all = pipeline::training_memory_lower_bound(spec, data, 3, 1000);
  CHECK(all.activations == doctest::Approx(3 * one.activations));
  CHECK(all.weights == doctest::Approx(one.weights));
  // Each batch row also meets every training row in the pairwise terms: two floats a pair.
  CHECK(pipeline::training_memory_lower_bound(spec, data, 1003, 1).activations ==
        doctest::Approx(one.activations + 2 * 1000 * sizeof(float)));
  // A batch of 2^30 rows of 2^30: terabytes of activations, refused before anything is allocated.
  const std::size_t huge = std::size_t(1) << 30;
  CHECK_THROWS_WITH_AS(pipeline::check_training_memory(spec, data, huge, huge),
                       doctest::Contains("a training step on a batch of 1073741824 of 1073741824 rows needs at least"),
                       OutOfMemory);
  CHECK_NOTHROW(pipeline::check_training_memory(spec, data, 3, 128));
}

TEST_CASE("modality names whose files would collide, and values that standardisation takes beyond float") {
  CHECK_NOTHROW(pipeline::check_modality_names_apart({"img", "txt", "img_to"}));
  CHECK_THROWS_WITH_AS(pipeline::check_modality_names_apart({"a", "a_to_a"}),
                       doctest::Contains("the directions 'a->a_to_a' and 'a_to_a->a' would write the same files"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(pipeline::check_modality_names_apart({"img", "txt", "IMG"}),
                       doctest::Contains("'img' and 'IMG' differ only in letter case"), InvalidArgument);
  // 'label' queries too: label->x_to_y and label_to_x->y would share a file.
  CHECK_THROWS_AS(pipeline::check_modality_names_apart({"label_to_x", "x_to_y", "y"}), InvalidArgument);

  pipeline::Dataset data =
      pipeline::dataset_from_labels(io::HostArray::from(std::vector<float>{1, 0, 0, 1, 1, 0, 0, 1}, {4, 2}));
  data.modalities.push_back(pipeline::modality_from_array(
      "img", io::HostArray::from(std::vector<float>{1, 2, 2, 3, 3, 4, 3e38f, 5}, {4, 2})));
  pipeline::Split split;
  split.train = {0, 1, 2};
  split.database = {0, 1, 2};
  split.query = {3};
  data.modalities[0].standardize = false;
  CHECK_NOTHROW(pipeline::check_standardization(data, split));
  data.modalities[0].standardize = true;
  CHECK_THROWS_WITH_AS(pipeline::check_standardization(data, split),
                       doctest::Contains("the value 3e+38 at row 3, column 0 is"), InvalidArgument);
  split.train = {0, 1, 2, 3};  // within the training rows' spread: fine
  CHECK_NOTHROW(pipeline::check_standardization(data, split));
}

TEST_CASE("with_model_bits and with_code_bits: one run-time-to-K dispatcher over two named sets") {
  for (int k : model_bits) CHECK(with_model_bits(k, [](auto kc) { return int(decltype(kc)::value); }) == k);
  CHECK(is_model_bits(64));
  CHECK_FALSE(is_model_bits(48));
  CHECK(model_bits_list() == "16, 32, 64, 128");
  CHECK_THROWS_WITH_AS(with_model_bits(48, [](auto) { return 0; }),
                       doctest::Contains("48 bits is not one of the code lengths built in (16, 32, 64, 128)"),
                       InvalidArgument);
  // A model's codes, read back from a file, are searched with the model's own K.
  for (int k : model_bits) CHECK(dispatch_bits_for(k) == k);
  int seen = 0;  // a void f, and a result passed through (a pointer: nvcc takes a lambda returning a
                 // captured reference for a reference to a local, error 836)
  with_model_bits(32, [&](auto kc) { seen = decltype(kc)::value; });
  CHECK(seen == 32);
  const int* same = with_code_bits(40, [&](auto kc) {
    seen = decltype(kc)::value;
    return &seen;
  });
  CHECK(same == &seen);
  CHECK(seen == 48);
  CHECK_THROWS_WITH_AS(detail::with_int_constant(
                           std::integer_sequence<int, 1, 2>{}, 3, [](auto) {}, [](int) {}),
                       "with_int_constant: 3 is not in the set", InvalidArgument);
}

namespace {
/// Whether encode<K> accepts `Model` (SFINAE on the call expression).
template <int K, class Model, class = void>
struct encodes_as : std::false_type {};
template <int K, class Model>
struct encodes_as<K, Model,
                  std::void_t<decltype(encode<K>(std::declval<const Model&>(), 0, std::declval<Tensor<float>>()))>>
    : std::true_type {};
}  // namespace

TEST_CASE("encode: a model's K-bit codes as PackedCodes<K>, and no other K") {
  using Model = BasicSsah<float, 32, objective::Paper, FeatureNet, FeatureNet>;
  static_assert(encodes_as<32, Model>::value, "encode<32> of a 32-bit model");
  static_assert(!encodes_as<64, Model>::value && !encodes_as<16, Model>::value,
                "codes of another length cannot come out of a 32-bit model");
  Model::Options o;
  std::get<0>(o.backbones).hidden = {8};
  std::get<1>(o.backbones).hidden = {8};
  o.label_net.hidden = {8};
  o.discriminator.hidden = {8};
  o.init = InitScheme::Xavier;
  o.seed = 3;
  const Model model(4, {Shape{5}, Shape{7}}, o);
  std::vector<float> x(6 * 7);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.7f * static_cast<float>(i));
  const Tensor<float> items = Tensor<float>::from_host(Shape{6, 7}, x);
  const PackedCodes<32> codes = encode(model, 1, items);
  const std::vector<float> h = model.hashes(1, items).to_host();
  REQUIRE(codes.size() == 6);
  for (std::size_t i = 0; i < 6; ++i)
    for (int b = 0; b < 32; ++b) CHECK(codes.bit(i, b) == (h[i * 32 + static_cast<std::size_t>(b)] > 0.f));
}

TEST_CASE("checkpoint_spec_difference: none for the same structure at another epoch, else the first difference") {
  Checkpoint stored;
  stored.spec.bits = 16;
  stored.spec.num_labels = 3;
  stored.spec.label_net.hidden = {64, 32};
  stored.epoch = 1;
  Checkpoint wanted = stored;
  wanted.epoch = 4;
  CHECK(checkpoint_spec_difference(stored, wanted).empty());
  wanted.spec.label_net.hidden = {128, 32};
  CHECK(checkpoint_spec_difference(stored, wanted) == "label_hidden [64,32] where the run gives [128,32]");
}

TEST_CASE("uint8 values are kept as bytes, and read a batch at a time exactly as the same values given as floats") {
  const std::size_t items = 700, width = 20, classes = 3;
  std::vector<std::uint8_t> pixels(items * width);
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<std::uint8_t>((i * 37 + i / width * 11) % 256);
  std::vector<float> labels(items * classes, 0.f);
  for (std::size_t i = 0; i < items; ++i) labels[i * classes + (i * 7 % 5) % classes] = 1.f;
  pipeline::Dataset as_bytes = pipeline::dataset_from_labels(io::HostArray::from(labels, {items, classes}, "l.npy"));
  pipeline::Dataset as_floats = as_bytes;
  as_bytes.modalities.push_back(pipeline::modality_from_array("px", io::HostArray::from(pixels, {items, width})));
  as_floats.modalities.push_back(pipeline::modality_from_array(
      "px", io::HostArray::from(std::vector<float>(pixels.begin(), pixels.end()), {items, width})));
  const pipeline::Modality& b = as_bytes.modalities[0];
  const pipeline::Modality& f = as_floats.modalities[0];
  CHECK(b.bytes.size() == items * width);  // one byte a value, no float copy
  CHECK(b.values.empty());
  CHECK(b.value_count() == f.value_count());
  CHECK(pipeline::same_values(b, f.values));

  pipeline::Split split;
  for (std::size_t i = 0; i < items; ++i) (i < 100 ? split.query : split.database).push_back(i);
  split.train.assign(split.database.begin(), split.database.begin() + 300);
  const pipeline::Standardization sb = pipeline::Standardization::fit(b, split.train);
  const pipeline::Standardization sf = pipeline::Standardization::fit(f, split.train);
  CHECK(sb.mean == sf.mean);
  CHECK(sb.stddev == sf.stddev);

  // A batch converted and standardised on the device system equals the host's standardisation.
  const std::vector<std::size_t> batch = {5, 0, 299, 5};
  CHECK(pipeline::item_rows(b, split.database, sb).gather(batch).to_host() ==
        pipeline::item_rows(f, split.database, sf).gather(batch).to_host());
  std::vector<std::size_t> database_rows;
  for (std::size_t k : batch) database_rows.push_back(split.database[k]);
  std::vector<float> from_database = pipeline::take_rows(f.values, width, database_rows);
  sf.apply(from_database);
  CHECK(pipeline::item_rows(f, split.database, sf).gather(batch).to_host() == from_database);

  // Encoding 256 rows at a time gives the values of one call on every row (600 rows: three pieces).
  pipeline::Experiment e;
  e.bits = {16};
  e.label_net.hidden = {16};
  e.discriminator.hidden = {8};
  e.init = InitScheme::Xavier;
  e.seed = 2;
  e.train.epochs = 1;
  e.train.batch_size = 32;
  e.train.steps_per_pass = 2;
  e.train.label_passes = {1};
  e.train.discriminator_passes = {1};
  e.train.modality_passes = {1};
  as_bytes.modalities[0].backbone.feature.hidden = {16};
  as_floats.modalities[0].backbone.feature.hidden = {16};
  const std::unique_ptr<AnyModel<float>> model = make_model(pipeline::model_spec(as_bytes, e, 16));
  std::vector<float> all = pipeline::take_rows(f.values, width, split.database);
  sf.apply(all);
  CHECK(pipeline::hashes_of_rows(*model, 0, pipeline::item_rows(b, split.database, sb)) ==
        model->hashes(0, Tensor<float>::from_host(Shape{600, width}, all)).to_host());

  // A whole run: the same codes from bytes as from floats.
  const pipeline::BitsResult rb = pipeline::run(as_bytes, split, e).front();
  const pipeline::BitsResult rf = pipeline::run(as_floats, split, e).front();
  CHECK(rb.query_hashes == rf.query_hashes);
  CHECK(rb.database_hashes == rf.database_hashes);
  REQUIRE(rb.directions.size() == rf.directions.size());
  CHECK(rb.directions[0].result.map == rf.directions[0].result.map);
  CHECK(rb.standardization[0].mean == sf.mean);

  // standardize() records the statistics in the modality and leaves the bytes as they are.
  pipeline::Dataset recorded = as_bytes;
  const std::vector<pipeline::Standardization> st = pipeline::standardize(recorded, split);
  CHECK(st[0].mean == sb.mean);
  CHECK(recorded.modalities[0].standardization.stddev == sb.stddev);
  CHECK_FALSE(recorded.modalities[0].standardize);
  CHECK(recorded.modalities[0].bytes == as_bytes.modalities[0].bytes);
  CHECK(pipeline::run(recorded, split, e).front().database_hashes == rb.database_hashes);

  // Bytes that are the labels themselves are reported as such.
  pipeline::Dataset label_copy = as_bytes;
  std::vector<std::uint8_t> label_bytes(labels.begin(), labels.end());
  label_copy.modalities.push_back(
      pipeline::modality_from_array("lab", io::HostArray::from(label_bytes, {items, classes})));
  const std::vector<std::string> w = pipeline::data_warnings(label_copy, split);
  CHECK(std::find(w.begin(), w.end(),
                  "modality 'lab' holds the labels themselves: its MAP measures the labels, not what the model "
                  "learns from data") != w.end());
}
