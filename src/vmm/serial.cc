#include "vmm/serial.h"

#include <unistd.h>

namespace vk {
namespace {

// Register offsets and bits (16550A data sheet; Linux include/uapi/linux/serial_reg.h).
constexpr uint16_t kData = 0, kIer = 1, kIir = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
constexpr uint8_t kIerRxData = 0x01, kIerThrEmpty = 0x02;
constexpr uint8_t kIirNone = 0x01, kIirThrEmpty = 0x02, kIirRxData = 0x04, kIirFifo = 0xc0;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20, kLsrIdle = 0x40;
constexpr uint8_t kMsrDcd = 0x80, kMsrDsr = 0x20, kMsrCts = 0x10;
constexpr uint8_t kMcrLoop = 0x10;
// Abuse bounds: host input queued for a guest that does not read, and the
// output kept for error messages.
constexpr size_t kMaxInput = 64 * 1024;
constexpr size_t kMaxTail = 16 * 1024;
constexpr size_t kMaxLine = 4096;

}  // namespace

uint8_t Serial::Read(uint16_t offset) {
  bool drained = false;
  uint8_t value = ReadLocked(offset, drained);
  if (drained && input_drained_) input_drained_();
  return value;
}

uint8_t Serial::ReadLocked(uint16_t offset, bool& drained) {
  std::lock_guard lock(mutex_);
  switch (offset) {
    case kData: {
      if (lcr_ & kLcrDlab) return dll_;
      if (input_.empty()) return 0;
      uint8_t byte = input_.front();
      input_.pop_front();
      drained = input_.empty();
      UpdateInterrupt();
      return byte;
    }
    case kIer: return (lcr_ & kLcrDlab) ? dlm_ : ier_;
    case kIir: {
      uint8_t iir = kIirNone;
      if ((ier_ & kIerRxData) && !input_.empty()) {
        iir = kIirRxData;
      } else if ((ier_ & kIerThrEmpty) && thr_empty_pending_) {
        iir = kIirThrEmpty;
        thr_empty_pending_ = false;  // reading IIR acknowledges THR empty
      }
      UpdateInterrupt();
      return iir | kIirFifo;
    }
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr: return kLsrThrEmpty | kLsrIdle | (input_.empty() ? 0 : kLsrDataReady);
    case kMsr: return (mcr_ & kMcrLoop) ? 0 : (kMsrDcd | kMsrDsr | kMsrCts);
    case kScr: return scr_;
    default: return 0xff;
  }
}

void Serial::Write(uint16_t offset, uint8_t value) {
  std::lock_guard lock(mutex_);
  switch (offset) {
    case kData:
      if (lcr_ & kLcrDlab) {
        dll_ = value;
        return;
      }
      Emit(value);
      thr_empty_pending_ = true;  // transmission is instant
      break;
    case kIer:
      if (lcr_ & kLcrDlab) {
        dlm_ = value;
        return;
      }
      // Enabling THR-empty interrupts while THR is empty raises one at once.
      if ((value & kIerThrEmpty) && !(ier_ & kIerThrEmpty)) thr_empty_pending_ = true;
      ier_ = value & 0x0f;
      break;
    case kLcr: lcr_ = value; return;
    case kMcr: mcr_ = value; return;
    case kScr: scr_ = value; return;
    default: return;  // FCR and read-only registers: nothing to model
  }
  UpdateInterrupt();
}

void Serial::UpdateInterrupt() {
  bool pending =
      ((ier_ & kIerRxData) && !input_.empty()) || ((ier_ & kIerThrEmpty) && thr_empty_pending_);
  // Edge-triggered ISA line: pulse on each new pending condition.
  if (pending && !irq_asserted_) raise_irq_();
  irq_asserted_ = pending;
}

void Serial::Emit(uint8_t byte) {
  tail_.push_back(static_cast<char>(byte));
  if (tail_.size() > kMaxTail) tail_.erase(0, tail_.size() - kMaxTail / 2);
  line_.push_back(static_cast<char>(byte));
  if (line_buffered_ && byte != '\n' && line_.size() < kMaxLine) return;
  WriteLine();
}

void Serial::WriteLine() {
  WriteCapped(output_fd_, std::span(reinterpret_cast<const uint8_t*>(line_.data()), line_.size()),
              max_output_bytes_);
  line_.clear();
}

void Serial::Receive(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  for (char c : bytes) {
    if (input_.size() >= kMaxInput) break;
    input_.push_back(static_cast<uint8_t>(c));
  }
  UpdateInterrupt();
}

size_t Serial::InputSpace() const {
  std::lock_guard lock(mutex_);
  return kMaxInput - input_.size();
}

void Serial::SetInputDrained(std::function<void()> callback) {
  input_drained_ = std::move(callback);
}

void Serial::Flush() {
  std::lock_guard lock(mutex_);
  WriteLine();
}

std::string Serial::Tail(size_t max_bytes) const {
  std::lock_guard lock(mutex_);
  return tail_.size() > max_bytes ? tail_.substr(tail_.size() - max_bytes) : tail_;
}

void Serial::SaveState(StateWriter& out) const {
  std::lock_guard lock(mutex_);
  out.BeginRecord("uart", 1);
  for (uint8_t value : {ier_, lcr_, mcr_, scr_, dll_, dlm_}) out.U8(value);
  out.Bool(thr_empty_pending_);
  out.Bool(irq_asserted_);
  std::vector<uint8_t> input(input_.begin(), input_.end());
  out.Bytes(input);
  out.String(line_);
  out.String(tail_);
}

Result<void> Serial::RestoreState(StateReader& in) {
  VK_TRY(in.ExpectRecord("uart", 1));
  uint8_t registers[6];
  for (uint8_t& value : registers) value = VK_TRY(in.U8());
  bool thr_empty_pending = VK_TRY(in.Bool());
  bool irq_asserted = VK_TRY(in.Bool());
  std::vector<uint8_t> input = VK_TRY(in.Bytes());
  std::string line = VK_TRY(in.String());
  std::string tail = VK_TRY(in.String());
  if (input.size() > kMaxInput || line.size() > kMaxLine || tail.size() > kMaxTail) {
    return Error("saved serial state is larger than this build's buffers");
  }
  std::lock_guard lock(mutex_);
  ier_ = registers[0] & 0x0f;  // as a register write stores it
  lcr_ = registers[1], mcr_ = registers[2], scr_ = registers[3];
  dll_ = registers[4], dlm_ = registers[5];
  thr_empty_pending_ = thr_empty_pending;
  irq_asserted_ = irq_asserted;
  input_.assign(input.begin(), input.end());
  line_ = std::move(line);
  tail_ = std::move(tail);
  return Ok();
}

}  // namespace vk
