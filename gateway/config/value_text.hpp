// Text forms of scalar config values, shared by the YAML loader and the
// command line: integers, sizes ("64k"), durations ("500ms") and booleans.
// Pure functions: nullopt means "not of that form"; range checks are the
// caller's (the key schema knows the bounds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pagi::gateway {

// Decimal integer, optional sign. No exponent, no fraction, no suffix.
std::optional<std::int64_t> parse_integer(std::string_view text);

// Bytes: a plain integer, or one with a binary unit k, m or g (any case,
// optionally followed by "b"): "512", "64k", "16M", "1g", "8kb".
std::optional<std::uint64_t> parse_size(std::string_view text);

// Seconds: a number ("30", "0.5", "-1"), or one with a unit ms, s, m or h
// ("500ms", "30s", "5m", "1.5h"). Finite values only.
std::optional<double> parse_seconds(std::string_view text);

// true/false, yes/no, on/off (any case).
std::optional<bool> parse_bool(std::string_view text);

// The shortest exact text parse_size reads back: 32768 -> "32k", 100 -> "100".
std::string format_size(std::uint64_t bytes);

// Plain seconds as a number: 30 -> "30", 0.1 -> "0.1".
std::string format_seconds(double seconds);

}  // namespace pagi::gateway
