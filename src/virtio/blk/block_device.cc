#include "virtio/blk/block_device.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/log.h"
#include "base/unique_fd.h"
#include "virtio/queue_drain.h"

namespace vk::virtio {
namespace {

// Request types, status values and feature bits, virtio 1.2 §5.2.
enum RequestType : uint32_t {
  kIn = 0,
  kOut = 1,
  kFlush = 4,
  kGetId = 8,
  kDiscard = 11,
  kWriteZeroes = 13,
};
enum Status : uint8_t { kOk = 0, kIoError = 1, kUnsupported = 2 };
constexpr uint64_t kFeatureSegMax = 1ull << 2;
constexpr uint64_t kFeatureReadOnly = 1ull << 5;
constexpr uint64_t kFeatureBlkSize = 1ull << 6;
constexpr uint64_t kFeatureFlush = 1ull << 9;
constexpr uint64_t kFeatureDiscard = 1ull << 13;
constexpr uint64_t kFeatureWriteZeroes = 1ull << 14;
constexpr uint64_t kSectorSize = 512;
constexpr uint16_t kQueueSize = 256;
constexpr uint32_t kSegMax = kQueueSize - 2;  // minus header and status descriptors
// Abuse bound: segments in one discard / write-zeroes request.
constexpr uint32_t kMaxDiscardSegments = 32;
constexpr uint32_t kMaxDiscardSectors = 1u << 22;  // 2 GiB per segment
constexpr size_t kIdBytes = 20;

struct RequestHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};

struct DiscardSegment {
  uint64_t sector;
  uint32_t sectors;
  uint32_t flags;
};

// Config space layout, §5.2.4 (offsets of the fields we fill in).
struct Config {
  uint64_t capacity;
  uint32_t size_max;
  uint32_t seg_max;
  uint32_t geometry;
  uint32_t blk_size;
  uint8_t topology[8];
  uint8_t writeback;
  uint8_t unused0;
  uint16_t num_queues;
  uint32_t max_discard_sectors;
  uint32_t max_discard_seg;
  uint32_t discard_sector_alignment;
  uint32_t max_write_zeroes_sectors;
  uint32_t max_write_zeroes_seg;
  uint8_t write_zeroes_may_unmap;
  uint8_t unused1[3];
} __attribute__((packed));
static_assert(sizeof(Config) == 60);

class BlockDevice : public VirtioDevice {
 public:
  BlockDevice(BlockConfig config, UniqueFd file, uint64_t size)
      : config_(std::move(config)), file_(std::move(file)), size_(size) {}

  DeviceType type() const override { return DeviceType::kBlock; }
  std::string_view name() const override { return "virtio-blk"; }
  uint64_t features() const override {
    uint64_t features = kFeatureSegMax | kFeatureBlkSize | kFeatureFlush;
    if (config_.read_only) return features | kFeatureReadOnly;
    return features | kFeatureDiscard | kFeatureWriteZeroes;
  }
  std::vector<uint16_t> queue_max_sizes() const override { return {kQueueSize}; }

  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    Config config{};
    config.capacity = size_ / kSectorSize;
    config.seg_max = kSegMax;
    config.blk_size = kSectorSize;
    config.num_queues = 1;
    config.max_discard_sectors = config.max_write_zeroes_sectors = kMaxDiscardSectors;
    config.max_discard_seg = config.max_write_zeroes_seg = kMaxDiscardSegments;
    config.discard_sector_alignment = 1;
    config.write_zeroes_may_unmap = 1;
    const auto* bytes = reinterpret_cast<const uint8_t*>(&config);
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = offset + i < sizeof(config) ? bytes[offset + i] : 0;
    }
  }

  Result<void> Activate(const DeviceContext& context) override {
    context_ = context;
    return Ok();
  }
  void Reset() override {}

  void ProcessQueue(size_t) override {
    DrainQueue(context_, 0, name(), [this](const DescriptorChain& chain) { return Handle(chain); });
  }

  // Requests are served synchronously: between two, nothing is in flight.
  // The disk is saved by its identity only, so a restore onto another
  // disk (a different size or writability) is refused instead of handing
  // the guest's cached filesystem state a disk it does not describe.
  Result<void> SaveState(StateWriter& out) override {
    out.BeginRecord("blk", 1);
    out.U64(size_);
    out.Bool(config_.read_only);
    return Ok();
  }
  Result<void> RestoreState(StateReader& in) override {
    VK_TRY(in.ExpectRecord("blk", 1));
    uint64_t size = VK_TRY(in.U64());
    bool read_only = VK_TRY(in.Bool());
    if (size == 0 && read_only == config_.read_only && size_ != 0) {
      // A template's empty slot now holds this VM's disk: the guest driver
      // re-reads the capacity on a config change (virtio 1.2 §5.2.4).
      if (context_.interrupt) context_.interrupt->Trigger(Interrupt::Reason::kConfigChange);
      return Ok();
    }
    if (size != size_ || read_only != config_.read_only) {
      return Error("virtio-blk: the snapshot's disk was " + std::to_string(size) + " bytes" +
                   (read_only ? " read-only" : "") + ", " + config_.path + " is " +
                   std::to_string(size_) + " bytes" + (config_.read_only ? " read-only" : ""));
    }
    return Ok();
  }

 private:
  const GuestMemory& memory() const { return *context_.memory; }

  // Handles one request; returns the bytes written into the chain.
  uint32_t Handle(const DescriptorChain& chain) {
    // guest-controlled: the whole request. The status byte is the last
    // writable byte (§5.2.6); without one the request cannot be answered.
    if (chain.writable_bytes() == 0) return 0;
    ChainReader reader(memory(), chain);
    auto header = reader.Read<RequestHeader>();
    uint32_t data_written = 0;
    Status status = header.ok() ? Execute(*header, chain, reader, &data_written) : kIoError;
    std::vector<Buffer> writable(chain.writable().begin(), chain.writable().end());
    const Buffer& last = writable.back();
    auto stored = memory().Write<uint8_t>(last.address + last.length - 1, status);
    return stored.ok() ? data_written + 1 : 0;
  }

  Status Execute(const RequestHeader& header, const DescriptorChain& chain, ChainReader& reader,
                 uint32_t* data_written) {
    switch (header.type) {
      case kIn: return ReadSectors(header.sector, chain, data_written);
      case kOut: return config_.read_only ? kIoError : WriteSectors(header.sector, chain);
      case kFlush: return ::fdatasync(file_.get()) == 0 ? kOk : kIoError;
      case kGetId: return WriteId(chain, data_written);
      case kDiscard:
      case kWriteZeroes: return config_.read_only ? kIoError : Deallocate(header.type, reader);
      default: return kUnsupported;
    }
  }

  // The data buffers of a chain: `bytes` from `buffers`, skipping `skip`
  // leading bytes (the header) and stopping before the status byte.
  Result<std::vector<iovec>> DataVectors(std::span<const Buffer> buffers, uint64_t skip,
                                         uint64_t bytes) {
    std::vector<iovec> vectors;
    for (const Buffer& buffer : buffers) {
      uint64_t start = std::min<uint64_t>(skip, buffer.length);
      skip -= start;
      uint64_t take = std::min<uint64_t>(buffer.length - start, bytes);
      if (take == 0) continue;
      auto host = VK_TRY(memory().Slice(buffer.address + start, take));
      vectors.push_back({host.data(), take});
      bytes -= take;
    }
    return vectors;
  }

  bool InRange(uint64_t sector, uint64_t bytes) const {
    if (bytes % kSectorSize != 0 || sector > size_ / kSectorSize) return false;
    return bytes <= size_ - sector * kSectorSize;
  }

  Status Transfer(bool write, uint64_t sector, std::vector<iovec>& vectors, uint64_t bytes) {
    off_t offset = static_cast<off_t>(sector * kSectorSize);
    size_t index = 0;
    while (bytes > 0 && index < vectors.size()) {
      int count = static_cast<int>(std::min<size_t>(vectors.size() - index, IOV_MAX));
      ssize_t n = write ? ::pwritev(file_.get(), &vectors[index], count, offset)
                        : ::preadv(file_.get(), &vectors[index], count, offset);
      if (n <= 0) return kIoError;
      offset += n;
      bytes -= static_cast<uint64_t>(n);
      // Advance past what was transferred (short reads/writes are rare).
      for (uint64_t done = static_cast<uint64_t>(n); done > 0 && index < vectors.size();) {
        uint64_t step = std::min<uint64_t>(done, vectors[index].iov_len);
        vectors[index].iov_base = static_cast<uint8_t*>(vectors[index].iov_base) + step;
        vectors[index].iov_len -= step;
        done -= step;
        if (vectors[index].iov_len == 0) ++index;
      }
    }
    return bytes == 0 ? kOk : kIoError;
  }

  Status ReadSectors(uint64_t sector, const DescriptorChain& chain, uint32_t* data_written) {
    uint64_t bytes = chain.writable_bytes() - 1;
    if (!InRange(sector, bytes)) return kIoError;
    auto vectors = DataVectors(chain.writable(), 0, bytes);
    if (!vectors.ok()) return kIoError;
    Status status = Transfer(false, sector, *vectors, bytes);
    if (status == kOk) *data_written = static_cast<uint32_t>(bytes);
    return status;
  }

  Status WriteSectors(uint64_t sector, const DescriptorChain& chain) {
    uint64_t bytes = chain.readable_bytes() - sizeof(RequestHeader);
    if (!InRange(sector, bytes)) return kIoError;
    auto vectors = DataVectors(chain.readable(), sizeof(RequestHeader), bytes);
    if (!vectors.ok()) return kIoError;
    return Transfer(true, sector, *vectors, bytes);
  }

  Status WriteId(const DescriptorChain& chain, uint32_t* data_written) {
    std::string id = config_.id.empty() ? "virtkit" : config_.id;
    id.resize(kIdBytes, '\0');
    if (chain.writable_bytes() - 1 < kIdBytes) return kIoError;
    ChainWriter writer(memory(), chain);
    if (!writer.Write(std::span(reinterpret_cast<const uint8_t*>(id.data()), kIdBytes)).ok()) {
      return kIoError;
    }
    *data_written = kIdBytes;
    return kOk;
  }

  Status Deallocate(uint32_t type, ChainReader& reader) {
    uint64_t count = reader.remaining() / sizeof(DiscardSegment);
    if (count == 0 || count > kMaxDiscardSegments) return kIoError;
    for (uint64_t i = 0; i < count; ++i) {
      auto segment = reader.Read<DiscardSegment>();
      if (!segment.ok() || segment->sectors > kMaxDiscardSectors ||
          !InRange(segment->sector, uint64_t{segment->sectors} * kSectorSize)) {
        return kIoError;
      }
      bool unmap = type == kDiscard || (segment->flags & 1);
      int mode = unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;
      if (::fallocate(file_.get(), mode, static_cast<off_t>(segment->sector * kSectorSize),
                      static_cast<off_t>(uint64_t{segment->sectors} * kSectorSize)) != 0) {
        return kIoError;
      }
    }
    return kOk;
  }

  BlockConfig config_;
  UniqueFd file_;
  uint64_t size_;
  DeviceContext context_;
};

}  // namespace

Result<std::unique_ptr<VirtioDevice>> CreateBlockDevice(const BlockConfig& config) {
  int flags = (config.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  UniqueFd file(::open(config.path.c_str(), flags));
  if (!file) return Error::FromErrno("cannot open disk " + config.path);
  if (::flock(file.get(), (config.read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    return Error("disk " + config.path +
                 " is in use by another VM (attach it read-only to share it)");
  }
  struct stat info;
  if (::fstat(file.get(), &info) != 0) return Error::FromErrno("stat disk " + config.path);
  if (!S_ISREG(info.st_mode) && !S_ISBLK(info.st_mode)) {
    return Error("disk " + config.path + " is not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(info.st_size) & ~(kSectorSize - 1);
  return std::unique_ptr<VirtioDevice>(
      std::make_unique<BlockDevice>(config, std::move(file), size));
}

std::unique_ptr<VirtioDevice> CreateEmptyBlockSlot(bool read_only) {
  BlockConfig config;
  config.path = "(empty slot)";
  config.read_only = read_only;
  return std::make_unique<BlockDevice>(config, UniqueFd(), 0);
}

}  // namespace vk::virtio
