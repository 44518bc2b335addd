#include "runtime/launch.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <thread>

#include "base/defer.h"
#include "base/exit_codes.h"
#include "base/file_io.h"
#include "base/file_lock.h"
#include "base/log.h"
#include "base/names.h"
#include "base/private_dir.h"
#include "base/process_clock.h"
#include "base/remove_tree.h"
#include "base/setup_memory.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "base/terminal.h"
#include "base/thread_role.h"
#include "base/unique_fd.h"
#include "base/unix_socket.h"
#include "net/firewall_rule.h"
#include "proto/exec_client.h"
#include "proto/terminal_session.h"
#include "runtime/checkpoint.h"
#include "runtime/command_session.h"
#include "runtime/detach.h"
#include "runtime/disk_check.h"
#include "runtime/guest_cmdline.h"
#include "runtime/launch_stats.h"
#include "runtime/launch_steps.h"
#include "runtime/named_vm.h"
#include "runtime/qemu_launch.h"
#include "runtime/template_launch.h"
#include "runtime/vm_state.h"
#include "runtime/vmm_control.h"
#include "runtime/warm_template.h"
#include "virtio/blk/block_device.h"
#include "virtio/console/console_device.h"
#include "virtio/fs/fs_device.h"
#include "virtio/rng/rng_device.h"
#include "virtio/vsock/vsock_device.h"
#include "vmm/guest_assets.h"
#include "vmm/guest_files.h"
#include "vmm/host_kvm.h"
#include "vmm/initramfs.h"
#include "vmm/machine.h"
#include "vmm/sandbox.h"

namespace vk {
namespace {

namespace fs = std::filesystem;

Result<void> AddShares(Machine& machine, const LaunchOptions& options) {
  for (size_t i = 0; i < options.shares.size(); ++i) {
    virtio::FsOptions fs;
    fs.shared_dir = options.shares[i].host_path;
    fs.tag = ShareTagOf(options, i);
    fs.read_only = options.shares[i].read_only;  // enforced here, not only by the guest
    fs.virtual_entries = options.shares[i].virtual_entries;
    auto device = VK_TRY_CTX(virtio::CreateFsDevice(fs),
                             "share " + (fs.shared_dir.empty() ? fs.tag : fs.shared_dir));
    VK_TRY(machine.AddVirtioDevice(std::move(device)));
  }
  return Ok();
}

// The guest's "/": the disk (vda), or root_dir over virtio-fs in its place
// (or nothing: a root_device is on one of the extra disks).
Result<void> AddRoot(Machine& machine, const LaunchOptions& options, const std::string& scratch) {
  if (options.root_device) return Ok();
  if (!options.root_dir.empty()) {
    virtio::FsOptions fs;
    fs.shared_dir = options.root_dir;
    fs.tag = kRootShareTag;
    fs.read_only = options.read_only;
    fs.virtual_entries = options.root_virtual_entries;
    auto device = VK_TRY_CTX(virtio::CreateFsDevice(fs), "root directory " + fs.shared_dir);
    return machine.AddVirtioDevice(std::move(device));
  }
  virtio::BlockConfig disk;
  disk.path = options.disk;
  disk.read_only = options.read_only || !scratch.empty();
  return machine.AddVirtioDevice(
      VK_TRY(virtio::CreateBlockDevice(disk).WithKind(ErrorKind::kDisk)));
}

Result<void> AddDevices(Machine& machine, const LaunchOptions& options, const VmDir& run_dir,
                        int console_fd, const std::string& scratch) {
  VK_TRY(AddRoot(machine, options, scratch));
  if (!scratch.empty()) {  // vdb: the writable layer
    virtio::BlockConfig layer;
    layer.path = scratch;
    VK_TRY(machine.AddVirtioDevice(
        VK_TRY(virtio::CreateBlockDevice(layer).WithKind(ErrorKind::kDisk))));
  }
  for (const ExtraDisk& extra : options.extra_disks) {
    virtio::BlockConfig disk;
    disk.path = extra.path;
    disk.read_only = extra.read_only;
    VK_TRY(machine.AddVirtioDevice(
        VK_TRY(virtio::CreateBlockDevice(disk).WithKind(ErrorKind::kDisk))));
  }
  VK_TRY(AddShares(machine, options));
  VK_TRY(machine.AddVirtioDevice(
      VK_TRY(virtio::CreateVsockDevice(AgentVsockConfig(options, run_dir)))));
  VK_TRY(machine.AddVirtioDevice(virtio::CreateRngDevice()));
  // hvc0: a second console whose output joins the kernel console.
  VK_TRY(machine.AddVirtioDevice(virtio::CreateConsoleDevice({console_fd, -1})));
  for (const virtio::MultiportConsoleConfig& console : options.consoles)
    VK_TRY(machine.AddVirtioDevice(VK_TRY(virtio::CreateMultiportConsoleDevice(console))));
  return Ok();
}

// The user's vsock ports as symlinks, made before the sandbox goes on: a
// guest connect to host port P makes the VMM connect to its run directory's
// vsock.sock_P, which then leads to the user's socket; a listen=true port's
// path leads to the socket the VMM listens on.
Result<void> LinkVsockPorts(const LaunchOptions& options, const VmDir& run_dir) {
  for (const VsockPortLink& link : options.vsock_ports) {
    const std::string target = link.listen ? ListenLinkTarget(run_dir, link.port) : link.path;
    const std::string at = link.listen ? link.path : run_dir.GuestConnectSocket(link.port);
    if (::symlink(target.c_str(), at.c_str()) < 0)
      return Error::FromErrno("vsock port " + std::to_string(link.port) + ": link " + at);
  }
  return Ok();
}

// What only the paused moment knows: how far the VM's command (if any) has
// got, which the restored VMM re-attaches with. Its agent keeps it across
// the checkpoint only while it runs and once it has started.
Result<void> RecordCommand(const CommandSession* session, CheckpointSpec& spec) {
  if (session == nullptr) return Ok();
  if (session->ended()) return Error("its command has ended: the VM is powering off");
  proto::AttachRequest progress = session->Progress();
  if (progress.pid == 0) return Error("its command is still starting: try again in a moment");
  spec.command = progress;
  return Ok();
}

// A named VM's VMM serves vmm.sock (vmm/vmm_control.h) for `vk checkpoint`.
// Requests run on the server's thread while the main thread waits for the
// machine; `checkpointed` tells it the VM ended by a checkpoint. `session`
// (not owned, may be null) is the VM's command.
Result<std::unique_ptr<VmmControlServer>> ServeVmmControl(
    Machine& machine, const LaunchOptions& options, const VmDir& run_dir, uint32_t cpus,
    const std::string& scratch, const std::string& guest, const CommandSession* session,
    std::atomic<bool>* checkpointed) {
  auto handler = [&machine, &options, &run_dir, cpus, scratch, guest, session,
                  checkpointed](const VmmRequest& request) -> Result<std::string> {
    CheckpointSpec spec = VK_TRY(SpecForLaunch(options, cpus, scratch, guest));
    if (machine.ended()) return Error("the VM is already stopping");
    auto written = WriteCheckpoint(machine, spec, run_dir, [session](CheckpointSpec& paused) {
      return RecordCommand(session, paused).Context("cannot checkpoint " + paused.name);
    });
    if (!written.ok() || request.leave_running) {
      machine.Resume();
    } else {
      *checkpointed = true;
      machine.Stop({ExitKind::kPowerOff, 0, "checkpointed"});
    }
    return written;
  };
  return VmmControlServer::Start(run_dir.VmmSocket(), std::move(handler));
}

// The VM ended by `vk checkpoint`: recorded so (vk ps, vk wait), its state
// directory (the checkpoint's home) kept even with --rm.
int EndCheckpointed(const LaunchOptions& options, VmDir* run_dir, VmRecord record) {
  record.checkpointed = true;
  record.exit_code.reset();
  auto written = WriteVmRecord(*run_dir, record);
  (void)written;
  run_dir->Keep();
  std::fprintf(stderr, "vk: %s was checkpointed to %s; `vk restore %s` resumes it\n",
               options.name.c_str(), run_dir->Checkpoint().c_str(), options.name.c_str());
  return 0;
}

Result<int> LaunchPrepared(const LaunchOptions& options, VmDir* run_dir, GuestFiles& files) {
  SetupTimeline timeline;
  FixMallocThresholds();  // the VMM's life starts: what it frees goes back
  KvmFlavor flavor = DetectKvmFlavor();
  const bool scratch_wanted = static_cast<bool>(options.make_scratch_disk);
  const uint32_t cpus = ChooseVcpus(options.cpus, flavor);
  const bool from_checkpoint = !options.restore_checkpoint.empty();
  const bool from_template = !from_checkpoint && UseTemplate(options);
  const TemplateShape shape = ShapeFor(options, flavor, cpus, scratch_wanted);
  auto identity = files.Identity();
  if (!identity.ok()) return Error(ErrorKind::kUsage, identity.error().message());
  const TemplateGuest guest{*identity, [&files] { return files.Load(); }};
  // A template is made (a VM of its own) before the sandbox is on.
  std::string template_dir;
  if (from_template) {
    auto made = PrepareTemplate(shape, guest, options);
    if (!made.ok()) {
      return Error(ErrorKind::kUsage,
                   made.error().message() + " (--cold boots without a template)");
    }
    template_dir = *made;
  }
  if (auto linked = LinkVsockPorts(options, *run_dir); !linked.ok())
    return Error(ErrorKind::kUsage, linked.error().message());
  // Sandboxed threads cannot open files: nettle (snapshot checksums, bound
  // on first use) is loaded while this thread still can.
  if (auto loaded = LoadSha256(); !loaded.ok()) return std::move(loaded).error();
  // Before any VMM thread starts (the network's start in AttachNetwork).
  if (auto sandboxed = sandbox::EnableFromEnvironment(SandboxPaths(options, run_dir->path()));
      !sandboxed.ok())
    return Error(ErrorKind::kUsage, sandboxed.error().message());
  auto console = OpenConsole(options, *run_dir);
  if (!console.ok()) return Error(ErrorKind::kUsage, console.error().message());
  // The scratch disk is written while the VM is set up (both take ~10 ms).
  std::future<Result<std::string>> scratch_disk;
  if (scratch_wanted) {
    scratch_disk = std::async(std::launch::async, options.make_scratch_disk, std::cref(*run_dir));
  }
  MachineConfig config;
  if (!from_template && !from_checkpoint) {
    auto bytes = files.Load();
    if (!bytes.ok()) return Error(ErrorKind::kUsage, bytes.error().message());
    config.kernel = bytes->kernel;
    config.initrd = bytes->initrd;
  }
  config.cmdline = GuestCmdline(options, flavor, scratch_wanted);
  config.cpus = cpus;
  config.memory_bytes = options.memory_bytes;
  config.console_fd = console->get();
  config.serial_ports = options.serial_ports;
  config.guest_identity = guest.identity;  // a checkpoint of it is tied to this guest
  if (from_checkpoint) config.restore_from = options.restore_checkpoint;
  auto machine =
      from_template ? CreateFromTemplate(config, template_dir, files) : Machine::Create(config);
  if (!machine.ok()) {
    int err = machine.error().errno_value();
    bool no_kvm = err == ENOENT || err == EACCES || err == EPERM;
    return Error(no_kvm ? ErrorKind::kNoKvm : ErrorKind::kInternal, machine.error().message());
  }
  timeline.vmm_created = SetupTimeline::Clock::now();
  std::string scratch;
  if (scratch_disk.valid()) {
    auto made = scratch_disk.get();
    if (!made.ok()) return Error(ErrorKind::kDisk, made.error().message());
    scratch = *made;
  }
  timeline.scratch_ready = SetupTimeline::Clock::now();
  std::string hostname = options.hostname.empty() ? options.name : options.hostname;
  std::array<uint8_t, 6> mac = DefaultGuestMac();
  if (auto attached = AttachNetwork(**machine, options.network, hostname, &mac); !attached.ok()) {
    return Error(ErrorKind::kUsage, "network: " + attached.error().message());
  }
  VK_TRY(AddDevices(**machine, options, *run_dir, console->get(), scratch));
  timeline.devices_added = SetupTimeline::Clock::now();
  std::unique_ptr<CommandSession> session;
  if (HasCommand(options)) {
    const std::string command_socket = run_dir->GuestConnectSocket(kLaunchPort);
    ::unlink(command_socket.c_str());  // left by the checkpointed VMM of a restored VM
    auto listener = ListenUnix(command_socket);
    if (!listener.ok()) return Error(ErrorKind::kUsage, listener.error().message());
    proto::StdioFds stdio = options.stdio;
    if (!options.stdin_open) stdio.in = -1;
    session = std::make_unique<CommandSession>(std::move(*listener), CommandRequest(options), stdio,
                                               options.attach_command);
    if (auto started = session->Start(); !started.ok()) {
      return Error(ErrorKind::kUsage, started.error().message());
    }
  }
  if (auto started = (*machine)->Start(); !started.ok()) {
    return Error(ErrorKind::kUsage, "start the VM: " + started.error().message());
  }
  files.Release();  // copied into guest memory (a restored VM never loaded them)
  if ((*machine)->restored() && !from_checkpoint) {  // a template's clone: make it this VM
    std::vector<uint8_t> assigned_mac;
    if (mac != DefaultGuestMac()) assigned_mac.assign(mac.begin(), mac.end());
    auto assignment = NewAssignment(GuestParams(options, scratch_wanted), assigned_mac);
    auto assigned = assignment.ok()
                        ? AssignTemplateVm(run_dir->VsockSocket(), *assignment, kAssignmentTimeout)
                        : Result<void>(std::move(assignment).error());
    if (!assigned.ok()) {
      return Error(ErrorKind::kUsage,
                   "the VM restored from its warm template: " + assigned.error().message() +
                       " (--cold boots without a template)");
    }
  }
  std::atomic<bool> checkpointed{false};
  std::unique_ptr<VmmControlServer> control;
  if (!options.name.empty()) {
    auto served = ServeVmmControl(**machine, options, *run_dir, cpus, scratch, guest.identity,
                                  session.get(), &checkpointed);
    if (!served.ok()) return Error(ErrorKind::kUsage, served.error().message());
    control = std::move(*served);
  }
  VmRecord record = RecordFor(options, config.cpus, config.memory_bytes);
  if (!options.name.empty()) {
    if (auto written = WriteVmRecord(*run_dir, record); !written.ok()) {
      return Error(ErrorKind::kUsage, written.error().message());
    }
    if (!options.remove_state_on_exit) run_dir->Keep();  // vk ps/logs/wait see it ended
  }
  // Set-up is over: the code that only it ran and the heap it freed leave
  // the VMM's resident memory (base/setup_memory.h).
  DropSetupMemory();
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.timeout) deadline = std::chrono::steady_clock::now() + *options.timeout;
  MachineExit exit = (*machine)->Wait(deadline);
  if (std::getenv("VIRTKIT_STATS") != nullptr) {
    timeline.Print((*machine)->stats());
    PrintStats(**machine);
  }
  control.reset();  // waits for a checkpoint being written: it reads the machine
  if (checkpointed) {
    if (session) {
      // The session hands on what left the guest before the pause, and ends
      // when the machine's vsock device closes its connection.
      machine->reset();
      session->Join();
      if (auto recorded = RecordFinalCommandProgress(*run_dir, session->Progress());
          !recorded.ok()) {
        std::fprintf(stderr, "vk: warning: %s\n", recorded.error().message().c_str());
      }
    }
    return EndCheckpointed(options, run_dir, record);
  }
  Result<int> result = ExplainStop(exit, (*machine)->ConsoleTail(2048), session != nullptr);
  // A session still running (the VM was stopped under a running command,
  // e.g. --timeout) waits on the vsock device's socket: destroying the
  // machine closes it, so the session ends instead of waiting forever.
  machine->reset();
  if (session) session->Join();
  if (session && session->status()) result = session->status()->ShellCode();
  if (!session && exit.kind == ExitKind::kPowerOff) result = exit.status;
  if (!options.name.empty()) {
    record.exit_code = result.ok() ? *result : ExitCodeFor(result.error().kind());
    auto written = WriteVmRecord(*run_dir, record);
    (void)written;
  }
  return result;
}

}  // namespace

// A named VM must not take over another's state: refused before anything is
// created, so a refused run leaves the other VM (and everything else) alone.
Result<void> CheckNewVm(const LaunchOptions& options) {
  if (!options.hostname.empty()) VK_TRY_CTX(CheckHostname(options.hostname), "--hostname");
  if (options.name.empty()) return Ok();
  VK_TRY(CheckName(options.name, NameKind::kVm));
  VmDir dir = VK_TRY(VmDir::Named(options.name));
  if (auto existing = ReadVmRecord(dir); existing.ok()) {
    bool running = StateOf(*existing) == VmState::kRunning;
    return Error(ErrorKind::kConflict,
                 "a VM named " + options.name + (running ? " is running" : " exists") +
                     ": pick another --name or remove it with `vk rm " + options.name + "`");
  }
  return Ok();
}

namespace {

// The guest's "/": an ext4 disk, or a host directory (root_dir) that is
// served as it is, so it takes no writable layer of its own.
Result<void> CheckRoot(const LaunchOptions& options) {
  const int roots =
      !options.disk.empty() + !options.root_dir.empty() + options.root_device.has_value();
  if (roots != 1)
    return Error(ErrorKind::kUsage, "a VM boots one root: a disk, a directory or a device");
  if (options.root_device) {
    if (options.extra_disks.empty())
      return Error(ErrorKind::kUsage, "the root device " + options.root_device->device +
                                          " must be on one of the VM's disks: it has none");
    return Ok();
  }
  if (options.root_dir.empty()) return CheckExtDisk(options.disk).WithKind(ErrorKind::kDisk);
  if (options.make_scratch_disk)
    return Error(ErrorKind::kUsage,
                 "a root directory is written directly: it takes no scratch disk");
  struct stat st {};
  if (::stat(options.root_dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    return Error(ErrorKind::kDisk, "root directory " + options.root_dir +
                                       " is not a directory: give an existing directory tree");
  return Ok();
}

// The user's vsock ports: none of the agent's, each port once, paths that
// fit a unix socket address.
Result<void> CheckVsockPorts(const LaunchOptions& options) {
  std::set<uint32_t> seen;
  for (const VsockPortLink& link : options.vsock_ports) {
    const std::string port = std::to_string(link.port);
    if (IsAgentVsockPort(link.port))
      return Error(ErrorKind::kUsage, "vsock port " + port + " is virtkit's agent's: use another");
    if (!seen.insert(link.port).second)
      return Error(ErrorKind::kUsage, "vsock port " + port + " is given twice");
    if (link.path.empty() || link.path.size() >= sizeof(sockaddr_un::sun_path))
      return Error(ErrorKind::kUsage,
                   "vsock port " + port + ": the socket path is empty or too long");
  }
  return Ok();
}

}  // namespace

// Rules given as text: checked here, written to the VM's directory once it
// exists (a checkpoint records the file's path, so it lives with the VM).
Result<void> CheckFirewallRules(const LaunchOptions& options) {
  if (options.firewall_rules.empty()) return Ok();
  if (!options.network.firewall_file.empty())
    return Error(ErrorKind::kUsage, "firewall rules come as a file or as text, not both");
  if (options.network.mode != NetworkOptions::Mode::kInProcess)
    return Error(ErrorKind::kUsage, "firewall rules need the VM's own network (--net)");
  VK_TRY(net::ParseRules(options.firewall_rules).WithKind(ErrorKind::kNetwork));
  return Ok();
}

Result<void> WriteFirewallRules(const VmDir& run_dir, LaunchOptions& options) {
  if (options.firewall_rules.empty()) return Ok();
  VK_TRY(WritePrivateFile(run_dir.FirewallRules(), options.firewall_rules));
  options.network.firewall_file = run_dir.FirewallRules();
  return Ok();
}

Result<VmDir> CreateRunDir(const LaunchOptions& options) {
  if (options.name.empty()) return VmDir::CreateTemporary();
  return VmDir::CreateNamed(options.name);
}

Result<std::string> WarmTemplate(const LaunchOptions& options) {
  if (options.vmm == VmmKind::kQemu)
    return Error(ErrorKind::kUsage,
                 "warm templates need virtkit's VMM; --vmm qemu always boots cold");
  GuestFiles files(options.kernel_path, options.initrd_path);
  VK_TRY_CTX(files.CheckAvailable(), "nothing to warm");
  KvmFlavor flavor = DetectKvmFlavor();
  uint32_t cpus = ChooseVcpus(options.cpus, flavor);
  TemplateShape shape =
      ShapeFor(options, flavor, cpus, static_cast<bool>(options.make_scratch_disk));
  TemplateGuest guest{VK_TRY(files.Identity()), [&files] { return files.Load(); }};
  return PrepareTemplate(shape, guest, options);
}

namespace {

// A checkpointed VM, checked whole before `vk restore` touches anything.
struct RestorePlan {
  NamedVm vm;
  CheckpointSpec spec;
  LaunchOptions options;
};

Result<RestorePlan> PlanRestore(const std::string& name, std::chrono::seconds boot_timeout) {
  NamedVm vm = VK_TRY(NamedVm::Find(name));
  if (vm.Running()) {
    return Error(ErrorKind::kConflict, name + " is running: `vk checkpoint " + name +
                                           "` saves and stops it, `vk stop " + name +
                                           "` powers it off");
  }
  auto spec = ReadCheckpointSpec(vm.dir());
  if (!spec.ok()) {
    return Error(ErrorKind::kNotFound, spec.error().message() + " (`vk checkpoint " + name +
                                           "` makes one of a running VM)");
  }
  if (spec->name != name)
    return Error("the checkpoint in " + vm.dir().path() + " is of " + spec->name);
  const std::string guest = VK_TRY(GuestFiles("", "").Identity());
  if (spec->guest != guest) {
    return Error("the checkpoint was made by another vk build; restore it with that vk");
  }
  // Another build, host CPU or a damaged snapshot is refused here, before
  // the VM's disks are replaced by the checkpoint's.
  VK_TRY(ReadSnapshot(CheckpointSnapshotDirectory(vm.dir()),
                      ExpectedSnapshotIdentity(guest, spec->cpus, spec->memory_bytes)));
  LaunchOptions options = LaunchOptionsFor(*spec);
  VK_TRY(CheckNetworkOptions(options.network).WithKind(ErrorKind::kNetwork));
  options.detach = true;
  options.boot_timeout = boot_timeout;
  options.restore_checkpoint = CheckpointSnapshotDirectory(vm.dir());
  return RestorePlan{std::move(vm), std::move(*spec), std::move(options)};
}

}  // namespace

Result<int> Restore(const std::string& name, std::chrono::seconds boot_timeout) {
  RestorePlan plan = VK_TRY_CTX(PlanRestore(name, boot_timeout), "cannot restore " + name);
  const VmDir& dir = plan.vm.dir();
  // Held by the VMM for its life (the child inherits it): a second restore
  // of the same VM is refused instead of starting a twin on the same disks.
  FileLock lock = VK_TRY(FileLock::TryAcquire(dir.RestoreLock()));
  if (!lock.valid()) return Error(ErrorKind::kConflict, name + " is being restored already");
  VK_TRY_CTX(RestoreCheckpointDisks(plan.spec, dir).WithKind(ErrorKind::kDisk),
             "cannot restore " + name);
  VmDir run_dir = VmDir::At(dir.path());
  if (VK_TRY(Detach(plan.options, run_dir)) == DetachRole::kParent) {
    // Its clock stood still while it was saved, and its random state is
    // the checkpoint's: the agent sets the one and reseeds the other.
    if (auto refreshed = RefreshRestoredGuest(dir.ControlSocket()); !refreshed.ok()) {
      std::fprintf(stderr, "vk restore: warning: %s\n", refreshed.error().message().c_str());
    }
    std::printf("%s\n", name.c_str());
    return 0;
  }
  proto::InstallTerminalSignalHandlers();
  GuestFiles files("", "");  // the checkpoint holds the guest: nothing is loaded
  return LaunchPrepared(plan.options, &run_dir, files);
}

Result<int> Launch(const LaunchOptions& in) {
  LaunchOptions options = in;
  if (options.detach && options.name.empty()) options.name = GeneratedVmName();
  VK_TRY(CheckNewVm(options));
  VK_TRY(CheckFirewallRules(options));
  VK_TRY(CheckNetworkOptions(options.network).WithKind(ErrorKind::kNetwork));
  VK_TRY(CheckRoot(options));
  VK_TRY(CheckVsockPorts(options));
  const bool qemu = options.vmm == VmmKind::kQemu;
  if (qemu) VK_TRY(CheckQemuLaunch(options));
  VmDir run_dir = VK_TRY(CreateRunDir(options));
  VK_TRY(WriteFirewallRules(run_dir, options));
  if (DetectKvmFlavor() == KvmFlavor::kPvm)
    std::fprintf(stderr, "%s\n", PvmVectorWarning().c_str());
  if (options.detach) {
    // The first VM of a shape makes its template, minutes on a loaded PVM
    // host: made here, before the fork, so its progress reaches the user
    // and --boot-timeout counts only this VM's own start (the child finds
    // the template ready).
    if (!qemu && options.restore_checkpoint.empty() && UseTemplate(options)) {
      auto made = WarmTemplate(options);
      if (!made.ok())
        return Error(ErrorKind::kUsage,
                     made.error().message() + " (--cold boots without a template)");
    }
    if (VK_TRY(Detach(options, run_dir)) == DetachRole::kParent) {
      run_dir.Keep();  // the background VMM owns it now
      std::printf("%s\n", options.name.c_str());
      return 0;
    }
  }
  proto::InstallTerminalSignalHandlers();
  if (qemu) return LaunchWithQemu(options, &run_dir);
  GuestFiles files(options.kernel_path, options.initrd_path, options.initrd_add_agent);
  VK_TRY(files.CheckAvailable());
  return LaunchPrepared(options, &run_dir, files);
}

}  // namespace vk
