// The first process of tests/e2e/library_test.cc: starts a detached VM with
// libvirtkit and exits, so the test (a second process) must Attach to it.
//   library_helper NAME ROOTFS HTTP_PORT BLOCKED_PORT
// The VM serves /etc/hooked (written by a rootfs hook) over HTTP on guest
// port 8080, forwarded from 127.0.0.1:HTTP_PORT; its firewall rejects
// egress to the host's BLOCKED_PORT.
#include <virtkit/virtkit.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: library_helper NAME ROOTFS HTTP_PORT BLOCKED_PORT\n";
    return 2;
  }
  virtkit::Options options;
  options.name = argv[1];
  options.rootfs_path = argv[2];
  options.detach = true;
  options.memory_bytes = 256ull << 20;
  // As every e2e VM: a loaded 2-core machine may take minutes to make the
  // shape's warm template and restore it.
  options.boot_timeout = std::chrono::seconds(900);
  options.ports.push_back(
      {.host_port = static_cast<uint16_t>(std::atoi(argv[3])), .guest_port = 8080});
  const auto blocked = static_cast<uint16_t>(std::atoi(argv[4]));
  options.network.firewall.push_back({.action = virtkit::FirewallAction::kReject,
                                      .protocol = virtkit::Protocol::kTcp,
                                      .address = "192.168.127.1",
                                      .port_first = blocked,
                                      .port_last = blocked});
  options.init = {"sh", "-c",
                  "mkdir -p /tmp/www && cp /etc/hooked /tmp/www/index.html && "
                  "httpd -f -p 8080 -h /tmp/www & exec sleep 100000"};
  options.rootfs_hooks.push_back([](virtkit::Rootfs& root) -> virtkit::Result<void> {
    // The base is readable from a hook (here an ext4 image, read in-process).
    auto passwd = root.ReadFile("/etc/passwd");
    if (!passwd) return passwd.error();
    if (passwd->find("root:") == std::string::npos) {
      return virtkit::Error(virtkit::ErrorKind::kHook, "no root in the base's /etc/passwd");
    }
    // Owners apply in the guest also when this program is not root.
    if (auto made = root.MakeDirectory("/srv/owned", 0750, 1234, 5678); !made) return made;
    if (auto written = root.WriteFile("/srv/owned/file", "owned\n", 0640, 1234, 100); !written) {
      return written;
    }
    return root.WriteFile("/etc/hooked", "hooked-by-library\n");
  });
  options.env = {"LIB_GREETING=hello from options"};
  options.post_boot_hooks.push_back([](virtkit::Vm& vm) -> virtkit::Result<void> {
    auto health = vm.Exec({"cat", "/etc/hooked"});
    if (!health) return health.error();
    std::cout << "post-boot health: " << health->stdout_text << std::flush;
    return virtkit::Ok();
  });
  auto vm = virtkit::Run("", options);
  if (!vm) {
    std::cerr << "library_helper: " << vm.error().message() << " ["
              << virtkit::ErrorKindName(vm.error().kind()) << "]\n";
    return 1;
  }
  std::cout << "started " << vm->Name() << " " << vm->DataDir() << "\n";
  return 0;
}
