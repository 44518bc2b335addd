#include "vmm/snapshot_file.h"

#include <cpuid.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "base/file_io.h"
#include "base/private_dir.h"
#include "base/remove_tree.h"
#include "base/sha256.h"
#include "base/state_stream.h"
#include "base/strings.h"
#include "vmm/memory_file.h"

namespace vk {
namespace {

constexpr char kMagic[] = "VKSNAP01";
constexpr size_t kMagicSize = 8;
constexpr size_t kDigestSize = 32;
// The state file holds registers and device registers: kilobytes. Anything
// far larger is not ours.
constexpr uint64_t kMaxStateFile = 16u << 20;

static_assert(std::tuple_size_v<Sha256Digest> == kDigestSize);

void WriteIdentity(StateWriter& out, const SnapshotIdentity& id) {
  out.BeginRecord("iden", 1);
  out.String(id.vmm_build);
  out.String(id.guest);
  out.String(id.host_cpu);
  out.U32(id.cpus);
  out.U64(id.memory_bytes);
  out.U32(static_cast<uint32_t>(id.devices.size()));
  for (uint32_t device : id.devices) out.U32(device);
}

Result<SnapshotIdentity> ReadIdentity(StateReader& in) {
  VK_TRY(in.ExpectRecord("iden", 1));
  SnapshotIdentity id;
  id.vmm_build = VK_TRY(in.String());
  id.guest = VK_TRY(in.String());
  id.host_cpu = VK_TRY(in.String());
  id.cpus = VK_TRY(in.U32());
  id.memory_bytes = VK_TRY(in.U64());
  uint32_t devices = VK_TRY(in.U32());
  if (devices > 64) return Error("snapshot lists " + std::to_string(devices) + " devices");
  for (uint32_t i = 0; i < devices; ++i) id.devices.push_back(VK_TRY(in.U32()));
  return id;
}

// The build id of the object holding this code: vk itself, or libkrun.so
// loaded into a client program (whose own id says nothing about the VMM).
struct BuildIdSearch {
  uintptr_t code = 0;  // an address inside the object we look for
  std::string id;
};

bool HoldsAddress(const dl_phdr_info& info, uintptr_t address) {
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info.dlpi_phdr[i];
    const uintptr_t start = info.dlpi_addr + header.p_vaddr;
    if (header.p_type == PT_LOAD && address >= start && address - start < header.p_memsz)
      return true;
  }
  return false;
}

int FindBuildId(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<BuildIdSearch*>(data);
  if (!HoldsAddress(*info, search->code)) return 0;  // another object: go on
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info->dlpi_phdr[i];
    if (header.p_type != PT_NOTE) continue;
    auto* note = reinterpret_cast<const uint8_t*>(info->dlpi_addr + header.p_vaddr);
    auto* end = note + header.p_memsz;
    while (note + sizeof(ElfW(Nhdr)) <= end) {
      const auto* nhdr = reinterpret_cast<const ElfW(Nhdr)*>(note);
      const uint8_t* name = note + sizeof(ElfW(Nhdr));
      const uint8_t* desc = name + ((nhdr->n_namesz + 3) & ~3u);
      if (nhdr->n_type == NT_GNU_BUILD_ID && desc + nhdr->n_descsz <= end) {
        search->id = BytesToHex(desc, nhdr->n_descsz);
        return 1;
      }
      note = desc + ((nhdr->n_descsz + 3) & ~3u);
    }
  }
  return 1;  // the object holding this code has no build id
}

Result<void> WriteState(const std::string& path, std::span<const uint8_t> body) {
  UniqueFd fd = VK_TRY(OpenPrivateFile(path, O_TRUNC));
  Sha256Digest digest = Sha256Of(body);
  VK_TRY_CTX(WriteAllAt(fd.get(), body, 0), path);
  VK_TRY_CTX(WriteAllAt(fd.get(), digest, static_cast<off_t>(body.size())), path);
  if (::fsync(fd.get()) != 0) return Error::FromErrno("sync " + path);
  return Ok();
}

}  // namespace

std::string SnapshotIdentity::Difference(const SnapshotIdentity& other) const {
  if (vmm_build != other.vmm_build) {
    return "it was made by another vk build (" + vmm_build + ", this is " + other.vmm_build + ")";
  }
  if (guest != other.guest) return "it holds another guest kernel or agent";
  if (host_cpu != other.host_cpu) {
    return "it was made on another CPU model (" + host_cpu + ", this host: " + other.host_cpu + ")";
  }
  if (memory_bytes != other.memory_bytes) return "it has another memory size";
  if (cpus != other.cpus) return "it has another vCPU count";
  if (devices != other.devices) return "it has another device layout";
  return "";
}

std::string CurrentVmmBuild() {
  BuildIdSearch search;
  search.code = reinterpret_cast<uintptr_t>(&CurrentVmmBuild);
  dl_iterate_phdr(FindBuildId, &search);
  return search.id.empty() ? "unknown" : search.id;
}

std::string CurrentHostCpu() {
  unsigned regs[4] = {};
  __get_cpuid(0, &regs[0], &regs[1], &regs[2], &regs[3]);
  char vendor[13] = {};
  std::memcpy(vendor, &regs[1], 4);
  std::memcpy(vendor + 4, &regs[3], 4);
  std::memcpy(vendor + 8, &regs[2], 4);
  unsigned a, b, c, d;
  __get_cpuid(1, &a, &b, &c, &d);
  // Leaf 1 EBX holds the APIC ID of the CPU we happen to run on: left out.
  std::string id = std::string(vendor) + " " + ToHex(a) + " " + ToHex(c) + ":" + ToHex(d);
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
    id += " " + ToHex(b) + ":" + ToHex(c) + ":" + ToHex(d);
  return id;
}

Result<void> WriteSnapshot(const std::string& dir, const SnapshotIdentity& identity,
                           const std::vector<uint8_t>& machine_state, const GuestMemory& memory) {
  std::filesystem::path target(dir);
  std::string parent = target.parent_path();
  uint32_t random = 0;
  (void)!getrandom(&random, sizeof(random), 0);
  std::string temp = parent + "/.tmp-" + target.filename().string() + "-" + ToHex(random);
  VK_TRY(CreatePrivateDirectory(temp));
  auto written = [&]() -> Result<void> {
    UniqueFd memory_file = VK_TRY(OpenPrivateFile(temp + "/memory", O_TRUNC));
    VK_TRY_CTX(WriteMemoryFile(memory, memory_file.get()), "snapshot memory");
    if (::fsync(memory_file.get()) != 0) return Error::FromErrno("sync snapshot memory");
    StateWriter out;
    for (size_t i = 0; i < kMagicSize; ++i) out.U8(static_cast<uint8_t>(kMagic[i]));
    out.U32(kSnapshotFormatVersion);
    WriteIdentity(out, identity);
    out.Bytes(machine_state);
    VK_TRY(WriteState(temp + "/state", out.bytes()));
    if (::rename(temp.c_str(), dir.c_str()) != 0) return Error::FromErrno("rename into " + dir);
    return Ok();
  }();
  if (!written.ok()) (void)RemoveTreeWithin(parent, temp);
  return written;
}

SnapshotIdentity ExpectedSnapshotIdentity(std::string guest, uint32_t cpus, uint64_t memory_bytes) {
  SnapshotIdentity identity;
  identity.vmm_build = CurrentVmmBuild();
  identity.guest = std::move(guest);
  identity.host_cpu = CurrentHostCpu();
  identity.cpus = cpus;
  identity.memory_bytes = memory_bytes;
  return identity;
}

Result<LoadedSnapshot> ReadSnapshot(const std::string& dir, const SnapshotIdentity& expected) {
  std::vector<uint8_t> file = VK_TRY(ReadFileBytes(dir + "/state", kMaxStateFile));
  if (file.size() < kMagicSize + kDigestSize || std::memcmp(file.data(), kMagic, kMagicSize) != 0) {
    return Error(dir + " is not a virtkit snapshot");
  }
  std::span<const uint8_t> body(file.data(), file.size() - kDigestSize);
  if (!std::ranges::equal(Sha256Of(body), std::span(file).last(kDigestSize))) {
    return Error("snapshot " + dir + " is corrupt (checksum mismatch)");
  }
  StateReader in(body.subspan(kMagicSize));
  uint32_t version = VK_TRY(in.U32());
  if (version != kSnapshotFormatVersion) {
    return Error("snapshot " + dir + " has format " + std::to_string(version) +
                 "; this vk reads format " + std::to_string(kSnapshotFormatVersion));
  }
  LoadedSnapshot loaded;
  loaded.identity = VK_TRY_CTX(ReadIdentity(in), "snapshot " + dir);
  // The devices are added after the machine is created: Machine::Start
  // compares them as it restores each.
  SnapshotIdentity wanted = expected;
  wanted.devices = loaded.identity.devices;
  if (std::string why = loaded.identity.Difference(wanted); !why.empty()) {
    return Error("snapshot " + dir + " cannot be used here: " + why);
  }
  loaded.machine_state = VK_TRY(in.Bytes());
  VK_TRY_CTX(in.Finish(), "snapshot " + dir);
  loaded.memory = UniqueFd(::open((dir + "/memory").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!loaded.memory) return Error::FromErrno("open " + dir + "/memory");
  struct stat st {};
  if (::fstat(loaded.memory.get(), &st) != 0 ||
      static_cast<uint64_t>(st.st_size) != loaded.identity.memory_bytes) {
    return Error("snapshot " + dir + " has a memory file of the wrong size (corrupt)");
  }
  return loaded;
}

}  // namespace vk
