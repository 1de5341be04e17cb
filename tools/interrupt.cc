// tools/interrupt.cc — see interrupt.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/interrupt.h"

#include <signal.h>

#include <atomic>
#include <cstdio>

namespace aiosim::tools {

namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free,
              "the handler needs a lock-free atomic");

extern "C" void OnStopSignal(int sig) {
  int none = 0;
  g_signal.compare_exchange_strong(none, sig, std::memory_order_relaxed);
}

}  // namespace

void CatchStopSignals() {
  for (const int sig : {SIGINT, SIGTERM}) {
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
    struct sigaction action = {};
    action.sa_handler = OnStopSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(sig, &action, nullptr);
  }
}

int StopSignal() { return g_signal.load(std::memory_order_relaxed); }

std::string_view SignalName(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  return "signal";
}

void ReRaise(int sig) {
  std::fflush(stdout);
  std::fflush(stderr);
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(sig, &action, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
}

}  // namespace aiosim::tools
