// Test harness: plays a guest driver against a real MmioTransport (virtio
// 1.2 §3.1.1 initialization through the registers, each queue laid out by a
// driver-side FakeVirtqueue), and snapshots the device into a fresh
// transport over the same guest memory, as a restore in a new process does.
//
//   FakeDriver driver(guest, CreateRngDevice());
//   driver.Start();
//   driver.vq(0).AddChain({}, {64});
//   driver.Notify(0);
//   auto state = driver.Save();
//   driver.Restore(CreateRngDevice(), *state);   // the vqs carry on
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "virtio/mmio_transport.h"
#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio::testing {

class FakeDriver {
 public:
  FakeDriver(FakeGuest& guest, std::unique_ptr<VirtioDevice> device, EventLoop* loop = nullptr)
      : guest_(guest), loop_(loop) {
    Attach(std::move(device));
  }

  // ACKNOWLEDGE, DRIVER, features (VERSION_1 added), FEATURES_OK, every
  // queue at its maximum size, DRIVER_OK.
  void Start(uint64_t features = 0) {
    Write(0x070, 1);
    Write(0x070, 3);
    features |= kFeatureVersion1;
    for (uint32_t half = 0; half < 2; ++half) {
      Write(0x024, half);
      Write(0x020, static_cast<uint32_t>(features >> (32 * half)));
    }
    Write(0x070, 3 | 8);
    for (uint32_t i = 0; i < transport_->queue_count(); ++i) {
      Write(0x030, i);
      auto size = static_cast<uint16_t>(Read(0x034));
      vqs_.push_back(std::make_unique<FakeVirtqueue>(guest_, size));
      Write(0x038, size);
      WriteAddress(0x080, vqs_.back()->descriptor_table());
      WriteAddress(0x090, vqs_.back()->available_ring());
      WriteAddress(0x0a0, vqs_.back()->used_ring());
      Write(0x044, 1);
    }
    Write(0x070, 3 | 8 | 4);
  }

  uint32_t Read(uint64_t offset) {
    uint32_t value = 0;
    transport_->Read(offset, std::span(reinterpret_cast<uint8_t*>(&value), 4));
    return value;
  }
  void Write(uint64_t offset, uint32_t value) {
    transport_->Write(offset, std::span(reinterpret_cast<const uint8_t*>(&value), 4));
  }
  void Notify(uint32_t queue) { transport_->Notify(queue); }

  FakeVirtqueue& vq(size_t index) { return *vqs_.at(index); }
  MmioTransport& transport() { return *transport_; }
  VirtioDevice& device() { return transport_->device(); }
  CountingInterrupt& interrupt() { return *interrupt_; }

  Result<std::vector<uint8_t>> Save() {
    StateWriter out;
    VK_TRY(transport_->SaveState(out));
    return out.Take();
  }
  // The saved transport and device go away (as the saved process does);
  // call it before creating the new device when both cannot coexist (a
  // disk image's lock). Restore does it otherwise.
  void Discard() { transport_.reset(); }
  // The driver side (the vqs, guest memory) carries on.
  Result<void> Restore(std::unique_ptr<VirtioDevice> device, std::span<const uint8_t> state) {
    transport_.reset();
    Attach(std::move(device));
    StateReader in(state);
    VK_TRY(transport_->RestoreState(in));
    return in.Finish();
  }

 private:
  void Attach(std::unique_ptr<VirtioDevice> device) {
    auto interrupt = std::make_unique<CountingInterrupt>();
    interrupt_ = interrupt.get();
    transport_ = std::make_unique<MmioTransport>(std::move(device), &guest_.memory(), loop_,
                                                 std::move(interrupt));
  }
  void WriteAddress(uint64_t low, uint64_t address) {
    Write(low, static_cast<uint32_t>(address));
    Write(low + 4, static_cast<uint32_t>(address >> 32));
  }

  FakeGuest& guest_;
  EventLoop* loop_;
  std::unique_ptr<MmioTransport> transport_;
  CountingInterrupt* interrupt_ = nullptr;
  std::vector<std::unique_ptr<FakeVirtqueue>> vqs_;
};

}  // namespace vk::virtio::testing
