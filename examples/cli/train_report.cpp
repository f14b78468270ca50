// `ssah train`: report.json, read back and compared by --resume (train.hpp).
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "ssah/error.hpp"
#include "ssah/io/checksum.hpp"
#include "ssah/io/file.hpp"
#include "ssah/io/json_diff.hpp"
#include "ssah/io/json_error.hpp"
#include "train.hpp"

namespace ssah::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

template <class T>
std::string crc_hex(const std::vector<T>& v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(io::crc32(v.data(), v.size() * sizeof(T))));
  return buf;
}

}  // namespace

/// CRC-32 of the float values of every item of `m` as training reads them (standardised with
/// m.standardization), read about 16 MiB at a time.
std::string crc_hex(const pipeline::Modality& m) {
  const ItemRows<float> rows = pipeline::item_rows(m, m.standardization);
  const std::size_t block = std::max<std::size_t>(1, (std::size_t(16) << 20) / (m.row_size() * sizeof(float)));
  io::Crc32 crc;
  for (std::size_t first = 0; first < rows.rows(); first += block) {
    const std::vector<float> values = rows.slice(first, std::min(rows.rows(), first + block)).to_host();
    crc.update(values.data(), values.size() * sizeof(float));
  }
  return crc.hex();
}

/// Checksums of what training reads (labels, each modality after standardisation, the split), so
/// that --resume can tell whether the command line describes the data of the run it continues.
json input_checksums(const pipeline::Dataset& data, const pipeline::Split& split) {
  json mods = json::object();
  for (const pipeline::Modality& m : data.modalities) mods[m.name] = crc_hex(m);
  return {{"labels", crc_hex(data.labels)},
          {"modalities", mods},
          {"split",
           {{"query", crc_hex(split.query)}, {"database", crc_hex(split.database)}, {"train", crc_hex(split.train)}}}};
}

/// report.json of the run in `dir` (IoError when it has none).
json read_report(const std::string& dir) {
  const std::string path = dir + "/report.json";
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec)))
    SSAH_THROW(IoError, "--resume ", dir, ": no report.json there (not an output folder of ssah train)");
  const std::vector<unsigned char> bytes = io::read_file(path);  // refuses a FIFO, a device, a folder
  json report;
  try {
    report = io::parse_json(std::string(bytes.begin(), bytes.end()), 16);
  } catch (const json::exception& e) {
    SSAH_THROW(IoError, "'", path, "': not valid JSON (", io::json_error_text(e), ")");
  } catch (const io::JsonFormError& e) {
    SSAH_THROW(IoError, "'", path, "': not a report of ssah train (", e.what(), ")");
  }
  // What --resume reads must have the form ssah train writes: the sections it compares, and of each
  // finished K the epochs and MAPs that decide whether it is skipped.
  try {
    if (!report.is_object()) throw io::JsonFormError("not a JSON object");
    for (const char* key : {"input_checksums", "hyperparameters", "results"})
      if (report.contains(key) && !report[key].is_object())
        throw io::JsonFormError("'" + std::string(key) + "' is not an object");
    if (report.contains("modalities") && !report["modalities"].is_array())
      throw io::JsonFormError("'modalities' is not a list");
    if (report.contains("total_seconds") &&
        !(report["total_seconds"].is_number() && report["total_seconds"].get<double>() >= 0))
      throw io::JsonFormError("'total_seconds' is " + report["total_seconds"].dump().substr(0, 40) +
                              ", not a number of seconds");
    const json results = report.value("results", json::object());
    for (const auto& [k, done] : results.items()) {  // results are carried into the new report
      const std::string field = "results." + k;
      int bits = 0;
      const auto parsed = std::from_chars(k.data() + std::min<std::size_t>(1, k.size()), k.data() + k.size(), bits);
      if (k.empty() || k[0] != 'K' || parsed.ec != std::errc() || parsed.ptr != k.data() + k.size() ||
          !is_model_bits(bits) || "K" + std::to_string(bits) != k)
        throw io::JsonFormError("'" + field + "' is not a code length of ssah train (K and one of " +
                                model_bits_list() + ")");
      if (io::json_field<int>(done, "bits", field) != bits)
        throw io::JsonFormError("'" + field + ".bits' is not " + std::to_string(bits));
      io::json_field<std::size_t>(done, "epochs", field);
      const json maps = io::json_field<json>(done, "map", field);
      if (!maps.is_object()) throw io::JsonFormError("'" + field + ".map' is not an object");
      for (const auto& [direction, map] : maps.items())
        if (!map.is_number() || !(map.get<double>() >= 0 && map.get<double>() <= 1))
          throw io::JsonFormError("'" + field + ".map." + direction + "' is " + map.dump() +
                                  " (a MAP is a number from 0 to 1)");
    }
  } catch (const io::JsonFormError& e) {
    SSAH_THROW(IoError, "'", path, "': not a report of ssah train (", e.what(), ")");
  }
  return report;
}

/// Whether two spellings of a folder name the same one ("x/", "./x", a link to it).
bool same_folder(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  const auto normal = [](const std::string& p) {
    std::error_code e;
    fs::path n = fs::absolute(p, e).lexically_normal();
    return n.has_filename() ? n : n.parent_path();
  };
  return normal(a) == normal(b);
}

void check_resume_matches(const json& previous, const json& report, const std::string& dir) {
  auto check_same = [&](const json& there, const json& here, const std::string& what, const std::string& option = "") {
    const std::string d = io::json_first_difference(there, here);
    if (!d.empty())
      SSAH_THROW(InvalidArgument, "--resume ", dir, ": this command line does not describe the run there: ", what, " ",
                 d, option.empty() ? "" : " (" + option + ")", " is ", io::json_value_at(there, d), " there but ",
                 io::json_value_at(here, d), " here; give the same inputs and options");
  };
  if (!previous.contains("input_checksums"))
    SSAH_THROW(InvalidArgument, "--resume ", dir,
               ": its report.json has no input checksums (written by an older ssah train)");
  // From what explains most to what explains least: the modalities (names, order, backbones),
  // the options, then the data; the split comes before the modalities' checksums, which are
  // taken after standardisation by the training items and so change with the split too.
  json mods_there = previous.value("modalities", json::array()), mods_here = report.at("modalities");
  for (json* mods : {&mods_there, &mods_here})
    for (json& m : *mods)
      if (m.is_object()) m.erase("file");
  check_same(json{{"modality list", mods_there}}, json{{"modality list", mods_here}}, "the");
  json hp_there = previous.value("hyperparameters", json::object()), hp_here = report.at("hyperparameters");
  for (const char* key : {"epochs", "bits"}) {
    hp_there.erase(key);
    hp_here.erase(key);
  }
  // The settings an option changes first, in the option's own order and named with it (--hidden
  // sets `hidden` and `discriminator_hidden`: the message should say `hidden`, not the one that
  // sorts first), then whatever else differs.
  static const std::pair<const char*, const char*> option_of[] = {{"recipe", "--recipe"},
                                                                  {"objective", "--objective"},
                                                                  {"seed", "--seed"},
                                                                  {"init", "--init"},
                                                                  {"hidden", "--hidden"},
                                                                  {"discriminator_hidden", "--hidden"},
                                                                  {"batch_size", "--batch-size"},
                                                                  {"steps_per_pass", "--steps-per-pass"},
                                                                  {"label_passes", "--passes"},
                                                                  {"discriminator_passes", "--passes"},
                                                                  {"modality_passes", "--passes"},
                                                                  {"backbones", "--backbone"},
                                                                  {"standardize", "--no-standardize"}};
  for (const auto& [key, option] : option_of)
    check_same(json{{key, hp_there.value(key, json())}}, json{{key, hp_here.value(key, json())}}, "hyperparameter",
               option);
  check_same(hp_there, hp_here, "hyperparameter");
  const json& sums_there = previous.at("input_checksums");
  const json& sums_here = report.at("input_checksums");
  for (const char* part : {"split", "labels", "modalities"})
    check_same(json{{part, sums_there.value(part, json())}}, json{{part, sums_here.value(part, json())}},
               "the checksum of");
}

std::vector<int> run_bits(const json& results, const std::vector<int>& bits) {
  std::set<int> all(bits.begin(), bits.end());
  for (const auto& [key, value] : results.items()) all.insert(std::stoi(key.substr(1)));
  return std::vector<int>(all.begin(), all.end());
}

}  // namespace ssah::cli
