// A 16550A-compatible UART (COM1 at 0x3f8, IRQ 4, is the guest kernel
// console; COM2-COM4 exist for libkrun's serial consoles). Output goes to an
// fd (a log file, the terminal, a pipe). Only what Linux's 8250 driver uses
// is modelled: THR/RBR, IER, IIR (THR-empty and RX interrupts), LCR with the
// divisor latch, MCR, LSR, MSR, SCR. Input, when enabled, is fed with
// Receive().
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "base/capped_write.h"
#include "base/result.h"
#include "base/state_stream.h"

namespace vk {

class Serial {
 public:
  // `raise_irq` pulses the UART's interrupt line; `output_fd` is not owned.
  // A regular output file grows to at most `max_output_bytes` (the guest
  // controls what it prints; see base/capped_write.h).
  // A log is written a line at a time (kernel messages from several sources
  // stay whole); an interactive port (`line_buffered` false) passes each
  // byte on at once, so a prompt without a newline shows.
  Serial(int output_fd, std::function<void()> raise_irq,
         uint64_t max_output_bytes = kDefaultConsoleLogLimit, bool line_buffered = true)
      : output_fd_(output_fd),
        max_output_bytes_(max_output_bytes),
        line_buffered_(line_buffered),
        raise_irq_(std::move(raise_irq)) {}

  // Guest port access at offset 0..7 from the base port (guest-controlled).
  uint8_t Read(uint16_t offset);
  void Write(uint16_t offset, uint8_t value);
  // Host input for the guest (bounded: bytes beyond InputSpace() are
  // dropped, so a reader that must not lose any asks InputSpace() first).
  void Receive(std::string_view bytes);
  size_t InputSpace() const;
  // Called, without the UART's lock, each time the guest has read the last
  // queued input byte: a paused input reader may go on.
  void SetInputDrained(std::function<void()> callback);
  // The last `max_bytes` of output, kept to explain a guest crash.
  std::string Tail(size_t max_bytes = 4096) const;
  // Writes out a partial last line (at machine exit).
  void Flush();

  // Snapshots (docs/snapshots.md): the registers (IER, LCR, MCR, SCR, the
  // divisor latch), the pending THR-empty interrupt and the line's state,
  // the receive FIFO, and the partial output line and tail, so the restored
  // console carries on mid-line. IIR, LSR and MSR are derived from these.
  void SaveState(StateWriter& out) const;
  // Into a fresh Serial (its fd and IRQ are the new process's). Untrusted:
  // sizes above this build's bounds are refused. Raises no interrupt: the
  // interrupt controller's own state is restored with the machine's.
  Result<void> RestoreState(StateReader& in);

 private:
  uint8_t ReadLocked(uint16_t offset, bool& drained);
  void UpdateInterrupt();  // callers hold mutex_
  void Emit(uint8_t byte);
  void WriteLine();  // callers hold mutex_

  mutable std::mutex mutex_;
  int output_fd_;
  uint64_t max_output_bytes_;
  bool line_buffered_;
  std::function<void()> raise_irq_;
  std::function<void()> input_drained_;  // set before the vCPUs run
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0x0c, dlm_ = 0;
  bool thr_empty_pending_ = false;  // a THR-empty interrupt awaits an IIR read
  bool irq_asserted_ = false;
  std::deque<uint8_t> input_;
  std::string tail_;  // ring of recent output
  std::string line_;  // buffered output line, flushed on '\n' or when long
};

}  // namespace vk
