#include "virtio/queue.h"

#include <gtest/gtest.h>

#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio {
namespace {

using testing::FakeGuest;
using testing::FakeVirtqueue;

TEST(QueueTest, PopsChainWithReadableThenWritableBuffers) {
  FakeGuest guest;
  Queue queue(16);
  FakeVirtqueue vq(guest, queue);
  uint16_t head = vq.AddChain({{1, 2, 3}, {4, 5}}, {8});
  auto chain = queue.Pop(guest.memory());
  ASSERT_TRUE(chain.ok()) << chain.error().message();
  ASSERT_TRUE(chain->has_value());
  DescriptorChain& c = **chain;
  EXPECT_EQ(c.head(), head);
  EXPECT_EQ(c.readable_bytes(), 5u);
  EXPECT_EQ(c.writable_bytes(), 8u);
  ChainReader reader(guest.memory(), c);
  uint8_t bytes[5];
  ASSERT_TRUE(reader.Read(bytes).ok());
  EXPECT_EQ(bytes[3], 4);
  EXPECT_FALSE(reader.Read(std::span<uint8_t>(bytes, 1)).ok());
  ChainWriter writer(guest.memory(), c);
  ASSERT_TRUE(writer.Write<uint64_t>(0x1122334455667788ull).ok());
  EXPECT_FALSE(writer.Write<uint8_t>(1).ok());
  ASSERT_TRUE(queue.Push(guest.memory(), std::move(c), 8).ok());
  auto used = vq.NextUsed();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, head);
  EXPECT_EQ(used->length, 8u);
  EXPECT_EQ(vq.Written(head)[0], 0x88);
  auto empty = queue.Pop(guest.memory());
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST(QueueTest, IndicesWrapAround16Bits) {
  FakeGuest guest;
  Queue queue(4);
  FakeVirtqueue vq(guest, queue);
  for (int i = 0; i < 70000; ++i) {
    vq.AddChain({{1}}, {});
    auto chain = queue.Pop(guest.memory());
    ASSERT_TRUE(chain.ok() && chain->has_value()) << i;
    ASSERT_TRUE(queue.Push(guest.memory(), std::move(**chain), 0).ok());
    ASSERT_TRUE(vq.NextUsed().has_value());
  }
}

class HostileChainTest : public ::testing::Test {
 protected:
  HostileChainTest() : queue_(8), vq_(guest_, queue_) {}
  // Pops what was published: must be an error, and the head comes back used.
  void ExpectRejected(uint16_t head) {
    vq_.Publish(head);
    auto chain = queue_.Pop(guest_.memory());
    EXPECT_FALSE(chain.ok());
    auto used = vq_.NextUsed();
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(used->id, head);
    EXPECT_EQ(used->length, 0u);
  }
  FakeGuest guest_;
  Queue queue_;
  FakeVirtqueue vq_;
};

TEST_F(HostileChainTest, Loop) {
  vq_.SetDescriptor(0, 0x1000, 16, FakeVirtqueue::kNext, 1);
  vq_.SetDescriptor(1, 0x1000, 16, FakeVirtqueue::kNext, 0);
  ExpectRejected(0);
}

TEST_F(HostileChainTest, AddressOutsideMemory) {
  vq_.SetDescriptor(0, 0xffffffffffff0000ull, 64, 0, 0);
  ExpectRejected(0);
}

TEST_F(HostileChainTest, LengthOverflowsAddressSpace) {
  vq_.SetDescriptor(0, 0x1000, 0xffffffffu, 0, 0);
  ExpectRejected(0);
}

TEST_F(HostileChainTest, NextOutOfRange) {
  vq_.SetDescriptor(0, 0x1000, 16, FakeVirtqueue::kNext, 200);
  ExpectRejected(0);
}

TEST_F(HostileChainTest, ReadableAfterWritable) {
  vq_.SetDescriptor(0, 0x1000, 16, FakeVirtqueue::kNext | FakeVirtqueue::kWrite, 1);
  vq_.SetDescriptor(1, 0x1000, 16, 0, 0);
  ExpectRejected(0);
}

TEST_F(HostileChainTest, NestedIndirect) {
  uint64_t table = guest_.Alloc(32);
  uint64_t inner[2] = {0x1000, (uint64_t{FakeVirtqueue::kIndirect} << 32) | 16};
  guest_.Write(table, std::span(reinterpret_cast<uint8_t*>(inner), 16));
  vq_.SetDescriptor(0, table, 16, FakeVirtqueue::kIndirect, 0);
  ExpectRejected(0);
}

TEST_F(HostileChainTest, IndirectLengthNotMultipleOf16) {
  vq_.SetDescriptor(0, guest_.Alloc(64), 20, FakeVirtqueue::kIndirect, 0);
  ExpectRejected(0);
}

TEST_F(HostileChainTest, AvailIndexRunsAhead) {
  uint16_t bogus = 100;
  std::memcpy(guest_.host(queue_.available_ring() + 2), &bogus, 2);
  EXPECT_FALSE(queue_.Pop(guest_.memory()).ok());
  // The queue stops instead of failing the same way forever (a device's
  // drain loop would spin); a reset by the driver makes it usable again.
  EXPECT_TRUE(queue_.broken());
  auto again = queue_.Pop(guest_.memory());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  queue_.Reset();
  EXPECT_FALSE(queue_.broken());
}

TEST(QueueTest, IndirectChainIsFlattened) {
  FakeGuest guest;
  Queue queue(8);
  FakeVirtqueue vq(guest, queue);
  uint64_t table = guest.Alloc(32);
  struct {
    uint64_t address;
    uint32_t length;
    uint16_t flags, next;
  } entries[2] = {{0x1000, 4, FakeVirtqueue::kNext, 1}, {0x2000, 8, FakeVirtqueue::kWrite, 0}};
  guest.Write(table, std::span(reinterpret_cast<uint8_t*>(entries), 32));
  vq.SetDescriptor(0, table, 32, FakeVirtqueue::kIndirect, 0);
  vq.Publish(0);
  auto chain = queue.Pop(guest.memory());
  ASSERT_TRUE(chain.ok() && chain->has_value());
  EXPECT_EQ((*chain)->readable_bytes(), 4u);
  EXPECT_EQ((*chain)->writable_bytes(), 8u);
}

TEST(QueueTest, NoInterruptFlagSuppressesInterrupts) {
  FakeGuest guest;
  Queue queue(8);
  FakeVirtqueue vq(guest, queue);
  vq.AddChain({{1}}, {});
  auto chain = queue.Pop(guest.memory());
  ASSERT_TRUE(queue.Push(guest.memory(), std::move(**chain), 0).ok());
  vq.SetAvailFlags(1);
  EXPECT_FALSE(queue.NeedsInterrupt(guest.memory()));
  vq.SetAvailFlags(0);
  EXPECT_TRUE(queue.NeedsInterrupt(guest.memory()));
}

TEST(QueueTest, EventIdxInterruptsOnlyWhenUsedEventIsCrossed) {
  FakeGuest guest;
  Queue queue(8);
  FakeVirtqueue vq(guest, queue, 8, /*event_idx=*/true);
  auto push_one = [&] {
    vq.AddChain({{1}}, {});
    auto chain = queue.Pop(guest.memory());
    ASSERT_TRUE(queue.Push(guest.memory(), std::move(**chain), 0).ok());
  };
  push_one();
  EXPECT_TRUE(queue.NeedsInterrupt(guest.memory()));  // first decision always signals
  vq.SetUsedEvent(2);  // driver wants an interrupt once used idx passes 2
  push_one();          // used idx 2
  EXPECT_FALSE(queue.NeedsInterrupt(guest.memory()));
  push_one();  // used idx 3: crossed
  EXPECT_TRUE(queue.NeedsInterrupt(guest.memory()));
  EXPECT_EQ(vq.AvailEvent(), 3);  // device asks to be notified for the next buffer
}

TEST(QueueTest, ValidateRejectsBadSizesAndRings) {
  FakeGuest guest;
  Queue queue(16);
  FakeVirtqueue vq(guest, queue);
  EXPECT_TRUE(queue.Validate(guest.memory()).ok());
  queue.set_size(12);
  EXPECT_FALSE(queue.Validate(guest.memory()).ok());
  queue.set_size(32);
  EXPECT_FALSE(queue.Validate(guest.memory()).ok());
  queue.set_size(16);
  queue.set_used_ring(0xfffffffff000ull);
  EXPECT_FALSE(queue.Validate(guest.memory()).ok());
}

TEST(QueueTest, ChainsFromBeforeADisableOrResetAreNeverPushed) {
  FakeGuest guest;
  Queue queue(16);
  FakeVirtqueue vq(guest, queue);
  vq.AddChain({}, {8});
  auto popped = queue.Pop(guest.memory());
  ASSERT_TRUE(popped.ok() && popped->has_value());
  DescriptorChain held = std::move(**popped);
  EXPECT_TRUE(queue.Owns(held));
  // The driver turns the queue off and shrinks it to 0: pushing the held
  // chain must neither divide by the size nor touch the ring.
  queue.set_ready(false);
  queue.set_size(0);
  EXPECT_FALSE(queue.Owns(held));
  EXPECT_FALSE(queue.Push(guest.memory(), std::move(held), 8).ok());
  EXPECT_FALSE(vq.NextUsed().has_value());
  // A reset ends a generation too, whatever the queue's state.
  Queue other(16);
  FakeVirtqueue other_vq(guest, other);
  other_vq.AddChain({}, {8});
  auto again = other.Pop(guest.memory());
  ASSERT_TRUE(again.ok() && again->has_value());
  DescriptorChain chain = std::move(**again);
  other.Reset();
  FakeVirtqueue fresh(guest, other);  // set up and ready again
  EXPECT_FALSE(other.Push(guest.memory(), std::move(chain), 8).ok());
  EXPECT_FALSE(fresh.NextUsed().has_value());
}

TEST(QueueTest, ValidateRefusesSizesThatAreZeroTooLargeOrNotPowersOfTwo) {
  FakeGuest guest;
  Queue queue(16);
  FakeVirtqueue vq(guest, queue);
  EXPECT_TRUE(queue.Validate(guest.memory()).ok());
  for (uint16_t size : {0, 3, 12, 32}) {
    queue.set_size(size);
    EXPECT_FALSE(queue.Validate(guest.memory()).ok()) << size;
  }
}

// Snapshots: a chain given back with Unpop is popped again, in order, and
// the positions carry over into a queue restored over the same memory.
TEST(QueueTest, UnpoppedChainsArePoppedAgainAndPositionsSurviveARestore) {
  FakeGuest guest;
  Queue queue(16);
  FakeVirtqueue vq(guest, queue);
  uint16_t first = vq.AddChain({}, {8});
  auto served = queue.Pop(guest.memory());
  ASSERT_TRUE(served.ok() && served->has_value());
  ASSERT_TRUE(queue.Push(guest.memory(), std::move(**served), 8).ok());
  uint16_t second = vq.AddChain({}, {8});
  uint16_t third = vq.AddChain({}, {8});
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(queue.Pop(guest.memory()).ok());
  queue.Unpop(2);
  StateWriter out;
  queue.SaveState(out);

  Queue restored(16);
  StateReader in(out.bytes());
  ASSERT_TRUE(restored.RestoreState(in, guest.memory()).ok());
  EXPECT_TRUE(in.Finish().ok());
  EXPECT_TRUE(restored.ready());
  EXPECT_EQ(restored.size(), 16);
  for (uint16_t head : {second, third}) {
    auto again = restored.Pop(guest.memory());
    ASSERT_TRUE(again.ok() && again->has_value());
    EXPECT_EQ((**again).head(), head);
    ASSERT_TRUE(restored.Push(guest.memory(), std::move(**again), 4).ok());
  }
  EXPECT_EQ(vq.UsedIdx(), 3);  // after the first element, not over it
  EXPECT_NE(first, second);
}

TEST(QueueTest, RestoreRefusesAnotherMaximumSizeAndInvalidRings) {
  FakeGuest guest;
  Queue queue(16);
  FakeVirtqueue vq(guest, queue);
  StateWriter good;
  queue.SaveState(good);
  Queue larger(32);
  StateReader in(good.bytes());
  EXPECT_FALSE(larger.RestoreState(in, guest.memory()).ok());
  // The same queue over a guest too small for its rings.
  FakeGuest tiny(4096);
  Queue same(16);
  StateReader again(good.bytes());
  auto restored = same.RestoreState(again, tiny.memory());
  ASSERT_FALSE(restored.ok());
  EXPECT_FALSE(same.ready());
}

}  // namespace
}  // namespace vk::virtio
