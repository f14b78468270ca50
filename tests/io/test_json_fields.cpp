#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssah/io/json_error.hpp"

using nlohmann::json;
using ssah::io::json_as;
using ssah::io::json_field;
using ssah::io::JsonFormError;

TEST_CASE("json_as reads a value only when it has exactly the form asked for") {
  CHECK(json_as<std::size_t>(json(7), "n") == 7);
  CHECK(json_as<int>(json(-3), "n") == -3);
  CHECK(json_as<bool>(json(true), "b"));
  CHECK(json_as<std::string>(json("x"), "s") == "x");
  CHECK(json_as<std::vector<std::size_t>>(json::parse("[1, 2]"), "v") == std::vector<std::size_t>{1, 2});
  CHECK(json_as<std::array<std::size_t, 2>>(json::parse("[3, 4]"), "a") == std::array<std::size_t, 2>{3, 4});
  // nlohmann's get<T>() would read each of these as some number.
  CHECK_THROWS_WITH_AS(json_as<std::size_t>(json(3.5), "epochs"), "'epochs' is 3.5 (expected a whole number)",
                       JsonFormError);
  CHECK_THROWS_WITH_AS(json_as<std::size_t>(json(-1), "epochs"), "'epochs' is -1 (expected a whole number)",
                       JsonFormError);
  CHECK_THROWS_AS(json_as<std::int8_t>(json(300), "x"), JsonFormError);
  CHECK_THROWS_AS(json_as<int>(json(std::uint64_t(1) << 63), "x"), JsonFormError);
  CHECK_THROWS_AS(json_as<bool>(json(1), "x"), JsonFormError);
  CHECK_THROWS_WITH_AS(json_as<std::int64_t>(json::parse("9223372036854775808"), "steps"),
                       "'steps' is 9223372036854775808 (expected an integer from -9223372036854775808 to "
                       "9223372036854775807)",
                       JsonFormError);
  CHECK_THROWS_WITH_AS(json_as<std::vector<std::size_t>>(json::parse("[1, \"2\"]"), "v"),
                       "'v' is [1,\"2\"] (expected a list of whole numbers)", JsonFormError);
  CHECK_THROWS_WITH_AS((json_as<std::array<std::size_t, 5>>(json::parse("[1, 2]"), "c")),
                       "'c' is [1,2] (expected a list of 5 whole numbers)", JsonFormError);
  // A long value is cut in the message.
  const std::string cut =
      "'s' is \"" + std::string(36, 'a') + "... (expected an integer from -2147483648 to 2147483647)";
  CHECK_THROWS_WITH_AS(json_as<int>(json(std::string(100, 'a')), "s"), cut.c_str(), JsonFormError);
}

TEST_CASE("json_field names the field: missing, in a parent that is not an object, or of another form") {
  const json doc = json::parse(R"({"bits": 16, "modalities": [{"name": 3}], "n": 2})");
  CHECK(json_field<int>(doc, "bits") == 16);
  CHECK(json_field<json>(doc, "modalities").is_array());
  CHECK_THROWS_WITH_AS(json_field<int>(doc, "seed"), "'seed' is missing", JsonFormError);
  CHECK_THROWS_WITH_AS(json_field<std::string>(doc["modalities"][0], "name", "modalities[0]"),
                       "'modalities[0].name' is 3 (expected a string)", JsonFormError);
  CHECK_THROWS_WITH_AS(json_field<int>(doc["n"], "x", "n"), "'n' is not an object", JsonFormError);
  CHECK_THROWS_WITH_AS(json_field<int>(json(5), "x"), "the document is not an object", JsonFormError);
}

TEST_CASE("parse_json refuses nesting deeper than its bound before the recursive parser sees it") {
  CHECK(ssah::io::parse_json(R"({"a": [[1]], "s": "[[[[[[[["})", 3)["a"][0][0] ==
        1);  // brackets in strings do not count
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  CHECK_THROWS_WITH_AS(ssah::io::parse_json(deep, 16), "nested more than 16 levels deep", JsonFormError);
  CHECK_THROWS_AS(ssah::io::parse_json("{\"a\": ", 16), nlohmann::json::exception);
}

TEST_CASE("json_nesting: the deepest nesting and where the first value closes, strings skipped") {
  const auto n = ssah::io::detail::json_nesting(R"({"a": "}]", "b": [[1]]}  [[[[x)");
  CHECK(n.max_depth == 4);  // the bytes after the object count toward the depth too
  CHECK(n.first_value_end == 23);
  CHECK(ssah::io::detail::json_nesting(R"({"a": [1)").first_value_end == std::string::npos);
  CHECK(ssah::io::detail::json_nesting("{\"a\\\"}\": 1}").first_value_end == 11);  // an escaped quote
  CHECK_FALSE(ssah::io::detail::json_nesting(R"({"a": [1]}   )").unbalanced);
  CHECK(ssah::io::detail::json_nesting(R"({"a": ]})").unbalanced);  // a stray closer: not JSON
}
