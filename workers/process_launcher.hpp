// Spawns worker processes: fork + exec with a socketpair. The worker inherits
// its end (number in env PAGI_WORKER_FD), stdin from /dev/null, stdout from
// the gateway, stderr as a pipe the gateway logs line by line with the pool
// and pid (stderr_reader.hpp), and dies with the gateway (PR_SET_PDEATHSIG).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "workers/child_reaper.hpp"
#include "workers/worker_launcher.hpp"

namespace pagi::workers {

// The argv a pool runs: settings.command, or for a *.pl app
// `perl -I<sdk>/lib <sdk>/bin/pagi-worker-perl <app>` where <sdk> is env
// PAGI_PERL_SDK or the source tree's sdk/perl; for a Python app
// (module:attribute, file.py:attribute) `<python> <sdk>/bin/pagi-worker-python
// --interface I [--app-dir D] -- <app>` where <sdk> is env PAGI_PYTHON_SDK or
// the source tree's sdk/python. Empty (with `error`) when none applies.
std::vector<std::string> worker_argv(const PoolSettings& settings, std::string& error);

// The reaper must outlive the launcher.
std::shared_ptr<WorkerLauncher> make_process_launcher(ChildReaper& reaper);

}  // namespace pagi::workers
