// QmpClient against a fake QMP server on a real unix socket, and once against
// a real qemu-system-x86_64.
#include "runtime/qmp_client.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "base/fd_io.h"
#include "base/spawn.h"
#include "base/strings.h"
#include "base/testing/temp_dir.h"
#include "base/unix_socket.h"
#include "runtime/qemu_exit.h"

namespace vk {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::chrono::steady_clock::time_point Soon(std::chrono::milliseconds wait = 10s) {
  return std::chrono::steady_clock::now() + wait;
}

constexpr std::string_view kGreeting =
    R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, )"
    R"("capabilities": ["oob"]}})"
    "\r\n";

// --- the fake server's side (runs on its own thread) ---

void Send(int fd, std::string_view text) { EXPECT_TRUE(WriteAll(fd, text).ok()); }

json ReadRequest(int fd) {
  auto line = ReadLineBefore(fd, Soon(), 4096);
  if (!line.ok()) return json();
  return json::parse(*line, nullptr, false);
}

// Answers a request with `body` (a JSON member list such as `"return": {}`)
// and the request's id.
void Reply(int fd, const json& request, std::string_view body) {
  std::string id = request.value("id", json("")).dump();
  Send(fd, "{" + std::string(body) + ", \"id\": " + id + "}\r\n");
}

// Greeting and capabilities negotiation (qmp-spec 4).
void Greet(int fd) {
  Send(fd, kGreeting);
  json request = ReadRequest(fd);
  EXPECT_EQ(request.value("execute", ""), "qmp_capabilities");
  EXPECT_TRUE(request.contains("id"));
  Reply(fd, request, R"("return": {})");
}

// Keeps the connection until the client closes it.
void WaitForClose(int fd) {
  char byte;
  while (::read(fd, &byte, 1) > 0) {
  }
}

std::string Event(std::string_view name, std::string_view data = "") {
  std::string text =
      R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": ")" + std::string(name) + "\"";
  if (!data.empty()) text += ", \"data\": " + std::string(data);
  return text + "}\r\n";
}

// One connection served by `script` on a thread.
class FakeQmp {
 public:
  explicit FakeQmp(std::function<void(int)> script) {
    auto listener = ListenUnix(path());
    EXPECT_TRUE(listener.ok()) << listener.error().message();
    if (listener.ok()) listener_ = std::move(*listener);
    thread_ = std::thread([this, script = std::move(script)] {
      UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (connection) script(connection.get());
    });
  }
  ~FakeQmp() {
    ::shutdown(listener_.get(), SHUT_RDWR);  // wakes an accept nobody answered
    thread_.join();
  }
  std::string path() const { return dir_ / "qmp.sock"; }

 private:
  testing::TempTree dir_;
  UniqueFd listener_;
  std::thread thread_;
};

// --- the client's side ---

// Polls and reads until `count` events came, QEMU closed, or an error.
Result<std::vector<QmpEvent>> Collect(QmpClient& client, size_t count) {
  std::vector<QmpEvent> events;
  auto deadline = Soon();
  // ReadEvents first: what came with the handshake's reply is in the client.
  for (;;) {
    for (QmpEvent& event : VK_TRY(client.ReadEvents())) events.push_back(std::move(event));
    if (events.size() >= count || client.closed()) break;
    VK_TRY(WaitForFd(client.fd(), POLLIN, deadline));
  }
  return events;
}

TEST(QmpClient, NegotiatesCapabilities) {
  FakeQmp server([](int fd) {
    Greet(fd);
    WaitForClose(fd);
  });
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_TRUE(client.ok()) << client.error().message();
  EXPECT_FALSE(client->closed());
  EXPECT_GE(client->fd(), 0);
  QmpClient moved = std::move(*client);  // movable: the fd goes along
  EXPECT_GE(moved.fd(), 0);
  auto none = moved.ReadEvents();
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_TRUE(none->empty());
}

TEST(QmpClient, WaitsForTheSocketToAppear) {
  testing::TempTree dir;
  std::string path = dir / "qmp.sock";
  std::thread late([&] {
    std::this_thread::sleep_for(200ms);
    auto listener = ListenUnix(path);
    ASSERT_TRUE(listener.ok());
    UniqueFd connection(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
    Greet(connection.get());
    WaitForClose(connection.get());
  });
  {
    auto client = QmpClient::Connect(path, Soon());
    EXPECT_TRUE(client.ok()) << client.error().message();
  }
  late.join();
}

TEST(QmpClient, GivesUpAtTheDeadline) {
  testing::TempTree dir;
  auto start = std::chrono::steady_clock::now();
  auto client = QmpClient::Connect(dir / "qmp.sock", Soon(100ms));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().kind(), ErrorKind::kTimeout);
  EXPECT_THAT(client.error().message(), HasSubstr("did not open its QMP socket"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(QmpClient, RefusesAGreetingThatIsNotQmp) {
  FakeQmp server([](int fd) {
    Send(fd, "{\"return\": {}}\r\n");
    WaitForClose(fd);
  });
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.error().message(), HasSubstr("greeting"));
}

TEST(QmpClient, AssemblesEventsSplitAcrossWritesAndBatched) {
  FakeQmp server([](int fd) {
    Greet(fd);
    std::string stop = Event("STOP");
    Send(fd, stop.substr(0, 10));
    std::this_thread::sleep_for(50ms);
    Send(fd, stop.substr(10));
    Send(fd, Event("RESUME") + Event("SHUTDOWN", R"({"guest": true, "reason": "guest-reset"})"));
    WaitForClose(fd);
  });
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto events = Collect(*client, 3);
  ASSERT_TRUE(events.ok()) << events.error().message();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].name, "STOP");
  EXPECT_TRUE((*events)[0].data.is_object());
  EXPECT_TRUE((*events)[0].data.empty());
  EXPECT_EQ((*events)[1].name, "RESUME");
  EXPECT_EQ((*events)[2].name, "SHUTDOWN");
  EXPECT_EQ((*events)[2].reason, "guest-reset");
  EXPECT_EQ((*events)[2].data.value("guest", false), true);
}

TEST(QmpClient, QueryStatusKeepsEventsThatCameFirst) {
  FakeQmp server([](int fd) {
    Greet(fd);
    json request = ReadRequest(fd);
    EXPECT_EQ(request.value("execute", ""), "query-status");
    Send(fd, Event("STOP"));
    Send(fd, R"({"return": {"status": "stale"}, "id": "not-this-one"})"
             "\r\n");  // a reply to a command that timed out
    Reply(fd, request, R"("return": {"status": "internal-error", "running": false})");
    WaitForClose(fd);
  });
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto status = client->QueryStatus(Soon());
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, "internal-error");
  auto events = client->ReadEvents();
  ASSERT_TRUE(events.ok()) << events.error().message();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].name, "STOP");
}

TEST(QmpClient, ReportsAnErrorReply) {
  FakeQmp server([](int fd) {
    Greet(fd);
    json request = ReadRequest(fd);
    Reply(fd, request, R"("error": {"class": "GenericError", "desc": "no\u0001pe"})");
    WaitForClose(fd);
  });
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto status = client->QueryStatus(Soon());
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message(), HasSubstr("query-status: GenericError: no?pe"));
}

TEST(QmpClient, QueryStatusTimesOut) {
  FakeQmp server([](int fd) {
    Greet(fd);
    WaitForClose(fd);  // never answers
  });
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto status = client->QueryStatus(Soon(100ms));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::kTimeout);
}

// Each line QEMU would never send is an error, and the error sticks.
TEST(QmpClient, RefusesGarbage) {
  const std::vector<std::string> bad = {
      "not json",
      "[1, 2]",
      "\"text\"",
      R"({"event": 5})",
      R"({"event": "BAD NAME"})",
      R"({"event": "STOP", "data": [1]})",
      R"({"event": "SHUTDOWN", "data": {"reason": 7}})",
      R"({"return": {}, "error": {"desc": "x"}})",
      R"({"error": {"class": "GenericError"}})",
      R"({"something": "else"})",
      R"({"return": {}, "id": 5})",
      std::string(100000, '[') + std::string(100000, ']'),  // deep nesting: no crash
      std::string(100000, '['),
      std::string("{\"event\": \"ST\0P\"}", 17),
  };
  for (const std::string& line : bad) {
    SCOPED_TRACE(line.substr(0, 80));
    FakeQmp server([&](int fd) {
      Greet(fd);
      Send(fd, line + "\r\n");
      WaitForClose(fd);
    });
    auto client = QmpClient::Connect(server.path(), Soon());
    ASSERT_TRUE(client.ok()) << client.error().message();
    auto events = Collect(*client, 1);
    ASSERT_FALSE(events.ok()) << "accepted: " << line.substr(0, 80);
    EXPECT_THAT(events.error().message(), HasSubstr("QMP: "));
    EXPECT_FALSE(client->ReadEvents().ok());
    EXPECT_FALSE(client->QueryStatus(Soon()).ok());
  }
}

TEST(QmpClient, RefusesAnOverlongLine) {
  FakeQmp server([](int fd) {
    Greet(fd);
    (void)WriteAll(fd, std::string(QmpClient::kMaxLineBytes + 10, 'x'));
    WaitForClose(fd);
  });
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto events = Collect(*client, 1);
  ASSERT_FALSE(events.ok());
  EXPECT_THAT(events.error().message(), HasSubstr("longer than 1048576 bytes"));
}

TEST(QmpClient, NoticesQemuClosing) {
  FakeQmp server([](int fd) {
    Greet(fd);
    Send(fd, Event("SHUTDOWN", R"({"guest": true, "reason": "guest-shutdown"})") + "{\"trunc");
  });  // closes: QEMU exited
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto events = Collect(*client, 2);  // stops at EOF
  ASSERT_TRUE(events.ok()) << events.error().message();
  EXPECT_TRUE(client->closed());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].reason, "guest-shutdown");
  auto after = client->ReadEvents();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  auto status = client->QueryStatus(Soon());
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message(), HasSubstr("closed"));
}

TEST(QmpClient, QuitIsDoneWhenQemuClosesFirst) {
  FakeQmp server([](int fd) {
    Greet(fd);
    json request = ReadRequest(fd);
    EXPECT_EQ(request.value("execute", ""), "quit");
    Send(fd, Event("SHUTDOWN", R"({"guest": false, "reason": "host-qmp-quit"})"));
  });  // closes without a reply
  auto client = QmpClient::Connect(server.path(), Soon());
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto quit = client->Quit(Soon());
  EXPECT_TRUE(quit.ok()) << quit.error().message();
  EXPECT_TRUE(client->closed());
  auto events = client->ReadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].reason, "host-qmp-quit");
}

std::optional<std::string> FindInPath(const std::string& program) {
  const char* path = ::getenv("PATH");
  for (const std::string& dir : Split(path ? path : "", ':')) {
    std::string candidate = dir + "/" + program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// A real QEMU, paused (-S), under TCG: no KVM and no kernel needed.
TEST(QmpQemu, QueriesContinuesAndQuitsARealQemu) {
  auto qemu = FindInPath("qemu-system-x86_64");
  if (!qemu) GTEST_SKIP() << "qemu-system-x86_64 is not in PATH";
  testing::TempTree dir;
  std::string socket = dir / "qmp.sock";
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  SpawnOptions options;
  options.stdio[0] = options.stdio[1] = null.get();
  auto pid = SpawnProcess(
      {*qemu, "-M", "microvm", "-accel", "tcg", "-nodefaults", "-display", "none", "-m", "64",
       "-no-reboot", "-qmp", "unix:" + socket + ",server=on,wait=off", "-S"},
      options);
  ASSERT_TRUE(pid.ok()) << pid.error().message();
  ChildProcess child(*pid);
  auto client = QmpClient::Connect(socket, Soon(30s));
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto status = client->QueryStatus(Soon(30s));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_THAT(*status, ::testing::AnyOf("prelaunch", "paused"));
  ASSERT_TRUE(client->Cont(Soon(30s)).ok());
  status = client->QueryStatus(Soon(30s));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, "running");
  auto quit = client->Quit(Soon(30s));
  ASSERT_TRUE(quit.ok()) << quit.error().message();
  auto events = Collect(*client, 100);  // until EOF
  ASSERT_TRUE(events.ok()) << events.error().message();
  std::optional<std::string> reason;
  for (const QmpEvent& event : *events) {
    if (event.name == "SHUTDOWN") reason = event.reason;
  }
  EXPECT_EQ(reason, "host-qmp-quit");
  auto wait_status = child.WaitUntil(Soon(30s));
  ASSERT_TRUE(wait_status.has_value()) << "QEMU did not exit after quit";
  EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0) << *wait_status;
  MachineExit exit = QemuExit({wait_status, false, false, reason, true});
  EXPECT_EQ(exit.kind, ExitKind::kInternalError);
  EXPECT_EQ(exit.detail, "QEMU was stopped by host-qmp-quit");
}

}  // namespace
}  // namespace vk
