// QemuExit: every row of the table in qemu_exit.cc.
#include "runtime/qemu_exit.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

namespace vk {
namespace {

int Exited(int code) { return W_EXITCODE(code, 0); }
int Killed(int sig) { return W_EXITCODE(0, sig); }

QemuOutcome Outcome(std::optional<int> wait_status, std::optional<std::string> reason = {},
                    bool started = true) {
  QemuOutcome outcome;
  outcome.wait_status = wait_status;
  outcome.shutdown_reason = std::move(reason);
  outcome.started = started;
  return outcome;
}

void ExpectExit(const QemuOutcome& outcome, ExitKind kind, int status, const std::string& detail) {
  MachineExit exit = QemuExit(outcome);
  EXPECT_EQ(exit.kind, kind) << exit.detail;
  EXPECT_EQ(exit.status, status) << exit.detail;
  EXPECT_EQ(exit.detail, detail);
}

TEST(QemuExit, TimeoutWinsOverWhatWeCausedByKilling) {
  QemuOutcome outcome = Outcome(Killed(SIGKILL));
  outcome.timed_out = true;
  outcome.internal_error = true;
  ExpectExit(outcome, ExitKind::kTimeout, 0, "the guest did not finish before the timeout");
  outcome.wait_status.reset();
  EXPECT_EQ(QemuExit(outcome).kind, ExitKind::kTimeout);
}

TEST(QemuExit, KvmInternalErrorPausedQemu) {
  const std::string detail =
      "QEMU: KVM internal error (an instruction the host's KVM cannot run); the guest was stopped";
  QemuOutcome outcome = Outcome(std::nullopt);
  outcome.internal_error = true;
  ExpectExit(outcome, ExitKind::kInternalError, 0, detail);
  outcome.wait_status = Killed(SIGKILL);  // the supervisor killed the paused QEMU
  ExpectExit(outcome, ExitKind::kInternalError, 0, detail);
}

TEST(QemuExit, NothingObserved) {
  ExpectExit(Outcome(std::nullopt), ExitKind::kInternalError, 0, "QEMU's end was not observed");
}

TEST(QemuExit, DebugExitPortIsPowerOffWithTheGuestsByte) {
  ExpectExit(Outcome(Exited(1)), ExitKind::kPowerOff, 0, "the guest powered off");
  ExpectExit(Outcome(Exited(3)), ExitKind::kPowerOff, 1, "the guest powered off");
  ExpectExit(Outcome(Exited(255)), ExitKind::kPowerOff, 127, "the guest powered off");
  ExpectExit(Outcome(Exited(85), "guest-shutdown"), ExitKind::kPowerOff, 42,
             "the guest powered off");
  // Only QEMU's own errors exit 1; any other odd code is the guest's.
  ExpectExit(Outcome(Exited(5), std::nullopt, false), ExitKind::kPowerOff, 2,
             "the guest powered off");
}

TEST(QemuExit, StatusOneBeforeStartIsQemusOwnError) {
  ExpectExit(Outcome(Exited(1), std::nullopt, false), ExitKind::kInternalError, 0,
             "QEMU exited with status 1 before the guest started");
}

TEST(QemuExit, GuestResetIsReboot) {
  ExpectExit(Outcome(Exited(0), "guest-reset"), ExitKind::kReboot, 0,
             "guest reset (triple fault or reboot)");
  // -no-reboot never exits odd after a reset: that is a QEMU error.
  ExpectExit(Outcome(Exited(3), "guest-reset"), ExitKind::kInternalError, 0,
             "QEMU exited with status 3");
}

TEST(QemuExit, GuestShutdownAndPanic) {
  ExpectExit(Outcome(Exited(0), "guest-shutdown"), ExitKind::kPowerOff, 0, "the guest powered off");
  ExpectExit(Outcome(Exited(0), "guest-panic"), ExitKind::kTripleFault, 0,
             "the guest panicked (QEMU guest-panic)");
}

TEST(QemuExit, HostShutdownIsNotTheGuestsAnswer) {
  ExpectExit(Outcome(Exited(0), "host-signal"), ExitKind::kInternalError, 0,
             "QEMU was stopped by host-signal");
  ExpectExit(Outcome(Exited(0), "host-qmp-quit"), ExitKind::kInternalError, 0,
             "QEMU was stopped by host-qmp-quit");
  ExpectExit(Outcome(Exited(0), "host-signal", false), ExitKind::kInternalError, 0,
             "QEMU was stopped by host-signal before the guest started");
  ExpectExit(Outcome(Exited(0), "snapshot-load"), ExitKind::kInternalError, 0,
             "QEMU shut down (reason snapshot-load)");
  ExpectExit(Outcome(Exited(0), "host-\n\x7f"), ExitKind::kInternalError, 0,
             "QEMU was stopped by host-??");
}

TEST(QemuExit, ExitZeroWithoutShutdownEventIsNotASuccess) {
  ExpectExit(Outcome(Exited(0)), ExitKind::kInternalError, 0,
             "QEMU exited with status 0 without a SHUTDOWN event");
  ExpectExit(Outcome(Exited(0), std::nullopt, false), ExitKind::kInternalError, 0,
             "QEMU exited with status 0 without a SHUTDOWN event before the guest started");
}

TEST(QemuExit, EvenExitCodesAreQemuErrors) {
  ExpectExit(Outcome(Exited(2)), ExitKind::kInternalError, 0, "QEMU exited with status 2");
  ExpectExit(Outcome(Exited(2), std::nullopt, false), ExitKind::kInternalError, 0,
             "QEMU exited with status 2 before the guest started");
}

TEST(QemuExit, KilledBySignal) {
  ExpectExit(Outcome(Killed(SIGKILL)), ExitKind::kInternalError, 0, "QEMU was killed by SIGKILL");
  ExpectExit(Outcome(Killed(SIGABRT), std::nullopt, false), ExitKind::kInternalError, 0,
             "QEMU was killed by SIGABRT before the guest started");
  // A kill after a SHUTDOWN event is still a kill.
  ExpectExit(Outcome(Killed(SIGSEGV), "guest-reset"), ExitKind::kInternalError, 0,
             "QEMU was killed by SIGSEGV");
}

}  // namespace
}  // namespace vk
