// `vk login [-u USER] [--password-stdin] [REGISTRY]` / `vk logout [REGISTRY]`:
// credentials in the docker config (or its credential helper), so docker,
// skopeo and vk share one login.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "image/docker_config.h"
#include "image/registry_client.h"

namespace vk::cli {
namespace {

struct LoginArgs {
  std::string registry = "docker.io";
  std::string username;
  std::string password;
  bool password_stdin = false;
  bool insecure = false;
};

std::string Prompt(const char* text, bool echo) {
  std::fprintf(stderr, "%s", text);
  termios saved{};
  bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty && !echo) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty && !echo) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fprintf(stderr, "\n");
  }
  return line;
}

Result<image::Reference> RegistryOnly(const std::string& registry) {
  // Any repository will do: only the registry part is used.
  image::Reference ref = VK_TRY(image::ParseReference(registry + "/virtkit/login"));
  if (registry.find('.') == std::string::npos && registry.find(':') == std::string::npos &&
      registry != "localhost")
    return Error("\"" + registry +
                 "\" is not a registry host (e.g. docker.io, ghcr.io, localhost:5000)");
  return ref;
}

Result<void> Login(LoginArgs a) {
  image::Reference ref = VK_TRY(RegistryOnly(a.registry));
  if (a.username.empty()) a.username = Prompt("Username: ", true);
  if (a.password_stdin) {
    std::getline(std::cin, a.password);
  } else if (a.password.empty()) {
    a.password = Prompt("Password: ", false);
  }
  if (a.username.empty() || a.password.empty()) return Error("username and password are required");
  image::RegistryOptions options;
  options.insecure = a.insecure;
  options.credentials = image::Credentials{a.username, a.password, ""};
  options.attempts = 2;
  image::RegistryClient client(ref, options);
  VK_TRY(client.CheckLogin());
  VK_TRY(image::StoreCredentials(ref.registry, *options.credentials));
  std::printf("Login Succeeded (%s)\n", ref.registry.c_str());
  return Ok();
}

Result<void> Logout(const LoginArgs& a) {
  image::Reference ref = VK_TRY(RegistryOnly(a.registry));
  VK_TRY(image::EraseCredentials(ref.registry));
  std::printf("Removed login credentials for %s\n", ref.registry.c_str());
  return Ok();
}

Runner SetupLogin(CLI::App& app) {
  static LoginArgs a;
  app.add_option("registry", a.registry, "Registry host (default docker.io)");
  app.add_option("-u,--username", a.username, "User name");
  app.add_option("-p,--password", a.password, "Password (prefer --password-stdin)");
  app.add_flag("--password-stdin", a.password_stdin, "Read the password from stdin");
  app.add_flag("--insecure", a.insecure, "Plain HTTP to the registry");
  return [] {
    auto result = Login(a);
    if (result.ok()) return 0;
    std::fprintf(stderr, "vk login: %s\n", result.error().message().c_str());
    return 1;
  };
}

Runner SetupLogout(CLI::App& app) {
  static LoginArgs a;
  app.add_option("registry", a.registry, "Registry host (default docker.io)");
  return [] {
    auto result = Logout(a);
    if (result.ok()) return 0;
    std::fprintf(stderr, "vk logout: %s\n", result.error().message().c_str());
    return 1;
  };
}

Command kLogin("login", "Log in to a registry (stored in the docker config)", &SetupLogin);
Command kLogout("logout", "Remove a registry's stored credentials", &SetupLogout);

}  // namespace
}  // namespace vk::cli
