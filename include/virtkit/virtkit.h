// virtkit: microVMs from OCI images, as a C++ library (docs/library.md).
//
//   #include <virtkit/virtkit.h>
//
//   virtkit::Options options;
//   options.ports.push_back({.host_port = 8080, .guest_port = 80});
//   auto vm = virtkit::Run("nginx:alpine", options);
//   if (!vm) { std::cerr << vm.error().message() << "\n"; return 1; }
//   auto out = vm->Exec({"nginx", "-v"});
//
// Every VM runs in a supervisor process of its own (the `vk` program), so the
// embedding program may exit or crash without taking the VM down; Attach()
// finds it again, and a VM never outlives Remove(). No function here throws:
// failures are values (Result<T>) whose Error has a kind to branch on and a
// message that reads from the outermost operation to the cause.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace virtkit {

// ---------------------------------------------------------------- errors

enum class ErrorKind {
  kInternal,      // not classified below (host failures, bugs)
  kUsage,         // invalid options: change the call
  kNotFound,      // no such VM, image or file
  kConflict,      // name taken, VM (not) running, host port in use
  kNoKvm,         // /dev/kvm missing or not accessible
  kDisk,          // a disk or rootfs missing or unusable
  kImage,         // pulling, unpacking or converting an image failed
  kNetwork,       // LAN, port forwards, firewall, egress policy
  kGuestPanic,    // the guest kernel panicked or the VM died while booting
  kTimeout,       // a deadline passed
  kNoExitStatus,  // the guest stopped without reporting a command's status
  kPreflight,     // a preflight check failed; nothing was started
  kHook,          // a rootfs or post-boot hook failed
};

// "usage", "no-kvm", ...
std::string_view ErrorKindName(ErrorKind kind);

class Error {
 public:
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}
  ErrorKind kind() const { return kind_; }
  // The whole chain, e.g. "run nginx:alpine: pull: fetch manifest: 401
  // unauthorized: run `vk login`".
  const std::string& message() const { return message_; }
  // The same error with `outer` in front of its chain.
  Error Context(std::string_view outer) const;

 private:
  ErrorKind kind_;
  std::string message_;
};

// A value or an Error (std::expected's shape, available in C++20).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT
  bool has_value() const { return !error_; }
  explicit operator bool() const { return has_value(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

inline Result<void> Ok() { return {}; }

// ---------------------------------------------------------------- options

enum class Protocol { kTcp, kUdp };

// host_address:host_port on the host reaches guest_port in the VM.
struct PortForward {
  uint16_t host_port = 0;
  uint16_t guest_port = 0;
  Protocol protocol = Protocol::kTcp;
  std::string host_address = "127.0.0.1";
};

// A host directory in the guest over virtio-fs.
struct Mount {
  std::string host_path;
  std::string guest_path;
  bool read_only = false;
  std::string tag;  // empty: chosen by virtkit (tags must be unique)
};

enum class FirewallAction { kAllow, kDeny, kReject };
enum class FirewallDirection { kEgress, kIngress };  // egress: guest -> outside

// One rule of the LAN's firewall, checked in order, first match wins
// (the syntax of `vk run --firewall`, docs/networking.md).
struct FirewallRule {
  FirewallAction action = FirewallAction::kDeny;
  FirewallDirection direction = FirewallDirection::kEgress;
  std::optional<Protocol> protocol;  // empty: any
  std::string address = "any";       // CIDR of the remote side, or "any"
  uint16_t port_first = 0;           // destination ports (tcp/udp only)
  uint16_t port_last = 65535;
};

enum class NetworkMode {
  kLan,     // the VM's own in-process LAN: DHCP, DNS, egress via host sockets
  kSwitch,  // join a running `vk switch` (Network::switch_socket)
  kNone,    // no network device
};

struct Network {
  NetworkMode mode = NetworkMode::kLan;
  std::string switch_socket;  // kSwitch
  std::vector<FirewallRule> firewall;
  FirewallAction egress_default = FirewallAction::kAllow;
  FirewallAction ingress_default = FirewallAction::kDeny;
  // DNS-based egress allowlist: "example.com", "*.example.com", CIDRs.
  // Empty: no allowlist (the firewall alone decides).
  std::vector<std::string> egress_allow;
};

// A preflight check runs before anything is pulled or started. A required
// check's failure stops Run() (ErrorKind::kPreflight); an advisory one's is
// reported through Options::on_warning.
struct PreflightCheck {
  std::string name;
  std::function<Result<void>()> check;
  bool required = true;
};

// The VM's root before it boots, as rootfs hooks see it. What a hook writes
// goes into the VM's own writable layer (the image's shared base is never
// modified): a file written here replaces the base's file of that path.
class Rootfs {
 public:
  // Writes (or replaces) a regular file; parent directories are created.
  Result<void> WriteFile(std::string_view guest_path, std::string_view contents,
                         uint32_t mode = 0644, uint32_t uid = 0, uint32_t gid = 0);
  // Copies a host file in (binaries, configs), keeping its mode.
  Result<void> CopyFile(const std::string& host_path, std::string_view guest_path);
  Result<void> MakeDirectory(std::string_view guest_path, uint32_t mode = 0755, uint32_t uid = 0,
                             uint32_t gid = 0);
  Result<void> Symlink(std::string_view target, std::string_view guest_path);
  // Appends a key to ~/.ssh/authorized_keys of `home` (e.g. "/root"),
  // creating .ssh 0700 and the file 0600 owned by uid/gid.
  Result<void> AddAuthorizedKey(std::string_view home, std::string_view key, uint32_t uid = 0,
                                uint32_t gid = 0);
  // Reads a file as the guest will see it: this layer's version, else the
  // base image's. ErrorKind::kNotFound when neither has it.
  Result<std::string> ReadFile(std::string_view guest_path) const;

  // The host directory the layer is staged in (for tools that want a path).
  // What the calling user owns there is root's in the guest.
  const std::string& staging_directory() const { return staging_; }

  // The guest owners the calls above gave (path in the layer -> uid, gid),
  // for entries not owned by root: a non-root program cannot chown its
  // staged files, so the VM's layer takes them from here.
  struct Owner {
    uint32_t uid = 0;
    uint32_t gid = 0;
  };
  const std::map<std::string, Owner>& owners() const { return owners_; }

  explicit Rootfs(std::string staging, std::function<Result<std::string>(std::string_view)> base);

 private:
  void RecordOwner(int fd, uint32_t uid, uint32_t gid);

  std::string staging_;
  std::function<Result<std::string>(std::string_view)> read_base_;
  std::map<std::string, Owner> owners_;
};

class Vm;

using RootfsHook = std::function<Result<void>(Rootfs& root)>;
using PostBootHook = std::function<Result<void>(Vm& vm)>;

enum class LogLevel { kError, kWarning, kInfo, kDebug };

struct Options {
  std::string name;                      // empty: generated ("vm-3f9a2c")
  unsigned cpus = 1;                     // 0: every host CPU
  uint64_t memory_bytes = 512ull << 20;  // allocated lazily by the guest's use
  std::vector<PortForward> ports;        // needs a network (NetworkMode::kLan)
  // Replaces the image's Entrypoint and Cmd (empty: the image's). A VM whose
  // init ends powers off; one without any (a rootfs without a config) serves
  // Exec() until stopped.
  std::vector<std::string> init;
  // compose's pair, used when `init` is empty: `command` replaces only the
  // image's Cmd (docker's `run IMAGE ARGS...`); `entrypoint` replaces its
  // Entrypoint and, as docker's --entrypoint, resets its Cmd (an empty list
  // runs `command` alone). nullopt/empty: the image's.
  std::vector<std::string> command;
  std::optional<std::vector<std::string>> entrypoint;
  std::vector<std::string> env;  // K=V, for init and every Exec()
  std::string user;              // name, uid, name:group or uid:gid
  std::string workdir;           // in the guest
  std::string hostname;          // default: the VM's name
  // A root filesystem instead of an image: a directory (made into an ext4
  // base, cached by its content) or an ext4 image. Skips the pull.
  std::string rootfs_path;
  std::vector<RootfsHook> rootfs_hooks;       // in order, before boot
  std::vector<PostBootHook> post_boot_hooks;  // in order, once the agent answers
  std::vector<Mount> mounts;
  Network network;
  // Built-in checks (KVM access, free disk, memory, CPUs, host ports free)
  // run unless disabled; then `preflight`, in order.
  bool builtin_preflight = true;
  std::vector<PreflightCheck> preflight;
  std::string data_dir;         // virtkit's data (images, bases); default ~/.local/share/virtkit
  bool clean_data_dir = false;  // empty data_dir first (tests, throwaway runs)
  std::string image_cache_dir;  // default: inside data_dir
  LogLevel log_level = LogLevel::kWarning;
  // false: the VM is stopped and removed when the last Vm handle of this
  // Run() is destroyed. true: it runs on until Stop()/Remove(), also after
  // the program exits (Attach() finds it).
  bool detach = false;
  bool cold_boot = false;  // boot the kernel instead of a warm template
  std::chrono::seconds boot_timeout{300};
  // The supervisor program. Default: $VIRTKIT_VK, else the vk installed
  // with this library, else `vk` on PATH.
  std::string vk_program;
  // Advisory preflight failures and other non-fatal notes.
  std::function<void(std::string_view)> on_warning;
};

// ---------------------------------------------------------------- VMs

struct ExecOptions {
  std::vector<std::string> env;  // added to the VM's
  std::string user;
  std::string workdir;
  bool tty = false;
  // Standard streams: callbacks, or file descriptors (-1: none). Without
  // either, stdin is empty and stdout/stderr are collected in ExecResult.
  std::function<void(std::string_view)> on_stdout;
  std::function<void(std::string_view)> on_stderr;
  std::string stdin_data;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::optional<std::chrono::milliseconds> timeout;  // then the command is killed
};

struct ExecResult {
  std::optional<int> exit_code;  // set when the command exited
  std::optional<int> signal;     // set when a signal ended it
  std::string stdout_text;       // collected when no callback or fd was given
  std::string stderr_text;
  // The shell's convention: exit code, or 128 + signal.
  int ShellCode() const { return exit_code ? *exit_code : 128 + signal.value_or(0); }
};

struct VmStatus {
  std::string name;
  std::string id;  // the supervisor's pid and start time: unique on this host
  bool active = false;
  std::vector<PortForward> ports;
  std::chrono::seconds uptime{0};
  std::optional<int> exit_code;  // once ended
  std::string image;
};

class Vm {
 public:
  Vm(Vm&&) noexcept;
  Vm& operator=(Vm&&) noexcept;
  ~Vm();  // a non-detached VM's last handle stops and removes it

  const std::string& Name() const;
  const std::string& Id() const;
  // The VM's state directory (logs, sockets); removed by Remove().
  const std::string& DataDir() const;
  const std::vector<PortForward>& Ports() const;
  VmStatus Status() const;

  Result<ExecResult> Exec(const std::vector<std::string>& argv, const ExecOptions& options = {});
  // Asks the guest to power off; kills the supervisor after `timeout`. Its
  // pid's start time is checked before any signal.
  Result<void> Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Until the VM ends; its init's exit code when it had one.
  Result<std::optional<int>> Wait();
  // Stops (kills) the VM if needed and removes every file and socket of it.
  Result<void> Remove();

  struct State;  // implementation

 private:
  friend Result<Vm> Run(std::string_view, Options);
  friend Result<Vm> Attach(std::string_view, std::string_view);
  explicit Vm(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Preflight, pull (or rootfs_path), rootfs hooks, network, boot (from a warm
// template unless cold_boot), post-boot hooks. `image` is a docker-style
// reference ("alpine:3.20", "ghcr.io/o/r@sha256:..."), "oci:DIR[:TAG]",
// "oci-archive:FILE" or an image in virtkit's store; ignored with
// rootfs_path.
Result<Vm> Run(std::string_view image, Options options = {});
// A VM started earlier by this library or by `vk run -d` / `vk launch -d`.
// The handle is detached: destroying it leaves the VM running. `data_dir`:
// the Options::data_dir it was started with (empty: the default, as `vk`).
Result<Vm> Attach(std::string_view name, std::string_view data_dir = {});
// Every VM on this host (of this user) started with `data_dir`, by name.
Result<std::vector<VmStatus>> List(std::string_view data_dir = {});

// The built-in preflight checks, for callers composing their own list.
namespace preflight {
PreflightCheck KvmAccess();
PreflightCheck FreeDisk(std::string path, uint64_t min_bytes);
PreflightCheck FreeMemory(uint64_t min_bytes);
PreflightCheck Cpus(unsigned min_cpus);
PreflightCheck PortsFree(std::vector<PortForward> ports);
}  // namespace preflight

// The library's version ("0.1.0").
std::string_view Version();

}  // namespace virtkit
