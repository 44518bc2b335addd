#include "runtime/qemu_exit.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <string_view>

#include "base/spawn.h"

namespace vk {
namespace {

// A SHUTDOWN reason for a message: QmpClient only passes QMP names, but this
// function is pure and takes any text.
std::string Printable(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out;
  for (char c : text.substr(0, kMax)) out += (c > 0x20 && c < 0x7f) ? c : '?';
  return out;
}

MachineExit Failed(std::string detail, const QemuOutcome& outcome) {
  if (!outcome.started) detail += " before the guest started";
  return {ExitKind::kInternalError, 0, std::move(detail)};
}

// Exit status 0: QEMU ended after a shutdown request, and QEMU announces
// every shutdown request with a SHUTDOWN event before it exits.
MachineExit ExitZero(const QemuOutcome& outcome) {
  if (!outcome.shutdown_reason) {
    return Failed("QEMU exited with status 0 without a SHUTDOWN event", outcome);
  }
  const std::string& reason = *outcome.shutdown_reason;
  if (reason == "guest-reset") {
    return {ExitKind::kReboot, 0, "guest reset (triple fault or reboot)"};
  }
  if (reason == "guest-shutdown") return {ExitKind::kPowerOff, 0, "the guest powered off"};
  if (reason == "guest-panic") {
    return {ExitKind::kTripleFault, 0, "the guest panicked (QEMU guest-panic)"};
  }
  if (reason.starts_with("host-")) {
    return Failed("QEMU was stopped by " + Printable(reason), outcome);
  }
  return Failed("QEMU shut down (reason " + Printable(reason) + ")", outcome);
}

}  // namespace

// What was seen -> MachineExit, first matching row wins:
//
//  timed_out              -> kTimeout. We killed QEMU ourselves, so its wait
//                            status tells nothing about the guest.
//  internal_error         -> kInternalError. QEMU pauses on a KVM internal
//                            error instead of exiting; the supervisor kills it
//                            after, and that kill is not the cause.
//  no wait_status         -> kInternalError: neither an exit nor a reason to
//                            stop it was observed (a supervisor bug).
//  killed by a signal     -> kInternalError "QEMU was killed by SIGNAME"
//                            (QEMU's own abort, the OOM killer, another user).
//  odd exit code c, no    -> kPowerOff, status c >> 1: isa-debug-exit makes
//  "guest-reset" reason      QEMU exit((v << 1) | 1) for the byte v the guest
//                            wrote, without any SHUTDOWN event. Except c == 1
//                            before QEMU started: QEMU's own start-up errors
//                            exit 1, and the guest cannot have written the
//                            port before QEMU got that far.
//  exit 0:
//    "guest-reset"        -> kReboot: with -no-reboot a reset (reboot, a
//                            triple fault, panic=-1) ends QEMU with status 0.
//    "guest-shutdown"     -> kPowerOff 0, as vk's own VMM maps a guest's
//                            power-off request without a status (KVM's
//                            SYSTEM_EVENT_SHUTDOWN).
//    "guest-panic"        -> kTripleFault: a crash (pvpanic; not on our
//                            -nodefaults microvm, mapped for completeness).
//    "host-..."           -> kInternalError "QEMU was stopped by <reason>":
//                            a signal, a QMP quit or the UI ended the guest,
//                            not the guest itself (our own timeout is the
//                            first row).
//    another reason       -> kInternalError naming it.
//    no SHUTDOWN seen     -> kInternalError. Every shutdown request QEMU
//                            honours is announced with a SHUTDOWN event
//                            first, and our guest reports through
//                            isa-debug-exit (odd codes); microvm with
//                            acpi=off has no power-off device. So status 0
//                            without a reason means the event was missed
//                            (QMP never connected, or not drained before
//                            EOF) and we cannot tell a guest power-off from
//                            an outside `quit`: never report that as the
//                            guest's success. (QEMU starts paused, -S, and
//                            the guest runs only once QMP is connected.)
//  any other exit code    -> kInternalError "QEMU exited with status N":
//                            QEMU's own errors (also an odd code with
//                            "guest-reset", which -no-reboot never produces).
//
// kInternalError details add " before the guest started" when !started.
// Left ambiguous: QEMU's runtime exit(1) after start-up reads as the guest
// writing 0 (QEMU gives no other sign).
MachineExit QemuExit(const QemuOutcome& outcome) {
  if (outcome.timed_out) {
    return {ExitKind::kTimeout, 0, "the guest did not finish before the timeout"};
  }
  if (outcome.internal_error) {
    return {ExitKind::kInternalError, 0,
            "QEMU: KVM internal error (an instruction the host's KVM cannot run); the guest "
            "was stopped"};
  }
  if (!outcome.wait_status) return Failed("QEMU's end was not observed", outcome);
  int status = *outcome.wait_status;
  if (WIFSIGNALED(status)) {
    return Failed("QEMU was killed by " + SignalName(WTERMSIG(status)), outcome);
  }
  if (!WIFEXITED(status)) return Failed("QEMU stopped (not an exit)", outcome);
  int code = WEXITSTATUS(status);
  bool reset = outcome.shutdown_reason == "guest-reset";
  bool startup_error = code == 1 && !outcome.started;
  if ((code & 1) != 0 && !reset && !startup_error) {
    return {ExitKind::kPowerOff, code >> 1, "the guest powered off"};
  }
  if (code == 0) return ExitZero(outcome);
  return Failed("QEMU exited with status " + std::to_string(code), outcome);
}

}  // namespace vk
