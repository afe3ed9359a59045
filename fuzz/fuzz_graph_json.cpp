// libFuzzer target: the layer-graph JSON loaders (own format and msr-fiddle). Any input must
// either load or be rejected with parse_error / invalid_argument / out_of_range; whatever loads
// must round-trip exactly through the exporter, hold only UTF-8 names and types (what Python
// decodes), and partition without crashing.
#include <incision/partition.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace ip = incision::partition;

namespace {
void exercise(const ip::layer_graph& g) {
  for (ip::layer_id v = 0; v < g.size(); ++v)
    if (!incision::detail::valid_utf8(g[v].name) || !incision::detail::valid_utf8(g[v].type)) std::abort();
  const auto text = ip::to_json(g);
  const auto back = ip::from_json(text);
  if (ip::to_json(back) != text) std::abort();
  if (!g.empty() && g.size() <= 2000) {
    const auto p = ip::dsl(g, 1e6);
    if (ip::detail::first_violation(g, p.placement) != g.size()) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    exercise(ip::from_json(text));
  } catch (const incision::parse_error&) {
  } catch (const incision::invalid_argument&) {
  } catch (const incision::out_of_range&) {
  }
  try {
    exercise(ip::from_msr_json(text));
  } catch (const incision::parse_error&) {
  } catch (const incision::invalid_argument&) {
  } catch (const incision::out_of_range&) {
  }
  return 0;
}
