#include "workers/recycle_policy.hpp"

#include <fmt/format.h>

namespace pagi::workers {

RecycleState RecyclePolicy::plan(const PoolSettings& settings, Clock::time_point ready_at) {
  RecycleState state;
  if (settings.max_requests > 0) {
    std::uint64_t extra = 0;
    if (settings.max_requests_jitter > 0) {
      extra = std::uniform_int_distribution<std::uint64_t>(0, settings.max_requests_jitter)(rng_);
    }
    state.request_limit = settings.max_requests + extra;
  }
  if (settings.max_lifetime > Seconds::zero()) {
    double extra = 0;
    if (settings.max_lifetime_jitter > Seconds::zero()) {
      extra = std::uniform_real_distribution<double>(0, settings.max_lifetime_jitter.count())(rng_);
    }
    state.lifetime_deadline =
        ready_at + std::chrono::duration_cast<Clock::duration>(settings.max_lifetime + Seconds(extra));
  }
  return state;
}

std::optional<std::string> RecyclePolicy::after_scope(const RecycleState& state, std::uint64_t opened) {
  if (state.request_limit == 0 || opened < state.request_limit) return std::nullopt;
  return fmt::format("served {} scopes (max_requests)", opened);
}

std::optional<std::string> RecyclePolicy::on_check(RecycleState& state, const PoolSettings& settings,
                                                   Clock::time_point now, std::optional<std::uint64_t> rss) {
  if (state.lifetime_deadline && now >= *state.lifetime_deadline) {
    return std::string("reached its max_lifetime");
  }
  if (settings.max_rss == 0 || !rss) return std::nullopt;
  state.last_rss = *rss;
  if (*rss <= settings.max_rss) {
    state.rss_over = 0;
    return std::nullopt;
  }
  if (++state.rss_over < settings.max_rss_samples) return std::nullopt;
  return fmt::format("resident memory {} bytes over max_rss {} in {} consecutive samples", *rss, settings.max_rss,
                     state.rss_over);
}

std::string_view RecyclePolicy::kind_of(std::string_view reason) {
  // The reasons are sentences for the log; each names its limit.
  if (reason.find("(max_requests)") != std::string_view::npos) return "max_requests";
  if (reason.find("max_lifetime") != std::string_view::npos) return "max_lifetime";
  if (reason.find("max_rss") != std::string_view::npos) return "max_rss";
  if (reason.find("request timeout") != std::string_view::npos) return "request_timeout";
  return "other";
}

}  // namespace pagi::workers
