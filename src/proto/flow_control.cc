#include "proto/flow_control.h"

#include "proto/str_format.h"

namespace vk::proto {

Result<void> SendCredit::Grant(uint32_t bytes) {
  if (available_ + bytes > kMaxWindow) {  // peer-controlled
    return Error(StrFormat("peer granted {} bytes of credit, over the {} byte limit",
                           available_ + bytes, kMaxWindow));
  }
  available_ += bytes;
  return Ok();
}

Result<void> ReceiveWindow::OnData(size_t bytes) {
  if (bytes > outstanding_) {  // peer-controlled
    return Error(StrFormat("peer sent {} bytes with only {} bytes of credit", bytes, outstanding_));
  }
  outstanding_ -= bytes;
  return Ok();
}

std::optional<uint32_t> ReceiveWindow::TakeUpdate(bool buffer_empty) {
  if (unreported_ == 0) return std::nullopt;
  if (!buffer_empty && unreported_ < kInitialWindow / 4) return std::nullopt;
  const auto bytes = static_cast<uint32_t>(unreported_);
  outstanding_ += unreported_;
  unreported_ = 0;
  return bytes;
}

}  // namespace vk::proto
