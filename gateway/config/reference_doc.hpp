// docs/configuration.md, generated from the key and flag tables so the
// reference cannot drift from the code (a unit test compares the file).
#pragma once

#include <string>

namespace pagi::gateway {

// The whole reference page, Markdown.
std::string config_reference_markdown();

// A config file setting every key to its default (plus an example app):
// the "full example" of the reference, and a test input.
std::string example_config_yaml();

}  // namespace pagi::gateway
