// virtkit appliance: a VM set up by the program that embeds it.
//   - preflight: the built-in checks plus one of ours (required) and an
//     advisory one, all before anything is pulled or booted;
//   - rootfs hooks: a config file, an authorized key and a start script go
//     into the VM's own layer (the image's shared base is never modified);
//   - a post-boot hook runs a health check in the guest;
//   - the VM is detached: it outlives this program; `appliance stop NAME`
//     (or Attach from anywhere) finds it again.
//
//   appliance [IMAGE|--rootfs PATH] [NAME]     start it
//   appliance stop NAME                        stop and remove it
#include <unistd.h>
#include <virtkit/virtkit.h>

#include <iostream>
#include <string>

namespace {

int Fail(const virtkit::Error& error) {
  std::cerr << "appliance: " << error.message() << " [" << virtkit::ErrorKindName(error.kind())
            << "]\n";
  return 1;
}

int Stop(const std::string& name) {
  auto vm = virtkit::Attach(name);
  if (!vm) return Fail(vm.error());
  if (auto stopped = vm->Stop(std::chrono::seconds(5)); !stopped) return Fail(stopped.error());
  if (auto removed = vm->Remove(); !removed) return Fail(removed.error());
  std::cout << "removed " << name << "\n";
  return 0;
}

virtkit::Options ApplianceOptions(const std::string& name) {
  virtkit::Options options;
  options.name = name;
  options.detach = true;
  options.memory_bytes = 256ull << 20;
  options.env = {"APPLIANCE_MODE=demo"};
  options.on_warning = [](std::string_view text) { std::cerr << "warning: " << text << "\n"; };

  options.preflight.push_back({"config dir", [] {
                                 if (::access("/etc", R_OK) == 0) return virtkit::Ok();
                                 return virtkit::Result<void>(virtkit::Error(
                                     virtkit::ErrorKind::kPreflight, "/etc is not readable"));
                               }});
  options.preflight.push_back({"on battery", [] { return virtkit::Ok(); }, /*required=*/false});

  options.rootfs_hooks.push_back([](virtkit::Rootfs& root) -> virtkit::Result<void> {
    if (auto w = root.WriteFile("/etc/appliance.conf", "greeting=hello from the appliance\n"); !w)
      return w;
    if (auto w =
            root.WriteFile("/usr/local/bin/appliance-health",
                           "#!/bin/sh\ngrep -q greeting= /etc/appliance.conf && echo ok\n", 0755);
        !w)
      return w;
    return root.AddAuthorizedKey("/root", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample demo");
  });

  options.post_boot_hooks.push_back([](virtkit::Vm& vm) -> virtkit::Result<void> {
    virtkit::ExecOptions exec;
    exec.timeout = std::chrono::seconds(20);
    auto health = vm.Exec({"/usr/local/bin/appliance-health"}, exec);
    if (!health) return health.error();
    if (health->ShellCode() != 0 || health->stdout_text != "ok\n") {
      return virtkit::Error(virtkit::ErrorKind::kHook,
                            "health check said: " + health->stdout_text + health->stderr_text);
    }
    return virtkit::Ok();
  });
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "stop") return Stop(argv[2]);
  std::string image = "alpine:3.20";
  std::string name = "appliance";
  int arg = 1;
  virtkit::Options options = ApplianceOptions(name);
  if (arg + 1 < argc && std::string(argv[arg]) == "--rootfs") {
    options.rootfs_path = argv[arg + 1];
    arg += 2;
  } else if (arg < argc) {
    image = argv[arg++];
  }
  if (arg < argc) options.name = argv[arg];

  auto vm = virtkit::Run(image, options);
  if (!vm) return Fail(vm.error());
  auto status = vm->Status();
  std::cout << "appliance " << status.name << " (" << status.id << ") is "
            << (status.active ? "running" : "stopped") << "; state in " << vm->DataDir()
            << "\nstop it with: appliance stop " << status.name << "\n";
  return 0;
}
