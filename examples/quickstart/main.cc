// virtkit quick start: boot an image with a port forward and fetch a page
// from the VM through it.
//
//   quickstart [IMAGE] [HOST_PORT]      (default: nginx:alpine 8080)
//   quickstart --rootfs DIR_OR_EXT4 [HOST_PORT] [-- INIT...]
// QUICKSTART_BOOT_TIMEOUT=SECONDS raises the time limit of the boot and of the
// first answer (default 300 each).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <virtkit/virtkit.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

namespace {

// GET / from 127.0.0.1:port; the whole response, or "" if nothing answers.
std::string HttpGet(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    (void)::write(fd, request.data(), request.size());
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  }
  ::close(fd);
  return response;
}

}  // namespace

int main(int argc, char** argv) {
  std::string image = "nginx:alpine";
  virtkit::Options options;
  int arg = 1;
  if (arg < argc && std::string(argv[arg]) == "--rootfs" && arg + 1 < argc) {
    options.rootfs_path = argv[arg + 1];
    arg += 2;
  } else if (arg < argc) {
    image = argv[arg++];
  }
  uint16_t host_port = 8080;
  if (arg < argc && std::string(argv[arg]) != "--") host_port = std::atoi(argv[arg++]);
  if (arg < argc && std::string(argv[arg]) == "--") {
    for (++arg; arg < argc; ++arg) options.init.push_back(argv[arg]);
  }
  options.ports.push_back({.host_port = host_port, .guest_port = 80});
  // Slow hosts (nested virtualization, a loaded CI machine) may need longer
  // than the default 300 s for the first VM of a shape, which makes its warm
  // template.
  std::chrono::seconds boot_timeout(300);
  if (const char* seconds = std::getenv("QUICKSTART_BOOT_TIMEOUT")) {
    boot_timeout = std::chrono::seconds(std::atoi(seconds));
  }
  options.boot_timeout = boot_timeout;

  auto vm = virtkit::Run(image, options);
  if (!vm) {
    std::cerr << "quickstart: " << vm.error().message() << " ["
              << virtkit::ErrorKindName(vm.error().kind()) << "]\n";
    return 1;
  }
  std::cout << "VM " << vm->Name() << " is up; fetching http://127.0.0.1:" << host_port << "/\n";
  // The server may still be starting once the agent answers: on a slow
  // host that takes as long as a boot, so it gets the boot's time limit.
  const auto deadline = std::chrono::steady_clock::now() + boot_timeout;
  std::string page;
  while (page.empty() && std::chrono::steady_clock::now() < deadline) {
    page = HttpGet(host_port);
    if (page.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (page.empty()) {
    std::cerr << "quickstart: nothing answered on port " << host_port << " within "
              << boot_timeout.count() << " s\n";
    return 1;
  }
  std::cout << page << "\n";
  // Leaving main destroys the handle, which stops and removes the VM.
  return page.find(" 200 ") != std::string::npos ? 0 : 1;
}
