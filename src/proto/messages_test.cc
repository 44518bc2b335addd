#include "proto/messages.h"

#include <gtest/gtest.h>

#include "proto/frame.h"
#include "proto/wire.h"

namespace vk::proto {
namespace {

// Strips the 5-byte frame header an Encode* function adds.
std::vector<uint8_t> PayloadOf(const std::vector<uint8_t>& frame) {
  return {frame.begin() + kFrameHeaderSize, frame.end()};
}

ExecRequest SampleRequest() {
  ExecRequest request;
  request.argv = {"sh", "-c", "echo hi"};
  request.env = {"FOO=bar", "EMPTY="};
  request.clear_env = true;
  request.cwd = "/srv";
  request.user = "nobody:nogroup";
  request.tty = TtyConfig{"xterm-256color", 50, 132};
  return request;
}

ExecRequest Command(std::string name) {
  ExecRequest request;
  request.argv = {std::move(name)};
  return request;
}

TEST(MessagesTest, ExecRequestRoundTrips) {
  for (bool tty : {true, false}) {
    ExecRequest request = SampleRequest();
    if (!tty) request.tty.reset();
    auto encoded = EncodeExecRequest(request);
    ASSERT_TRUE(encoded.ok()) << encoded.error().message();
    const auto& frame = *encoded;
    EXPECT_EQ(frame[4], static_cast<uint8_t>(FrameType::kExecRequest));
    auto decoded = DecodeExecRequest(PayloadOf(frame));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    EXPECT_EQ(decoded->argv, request.argv);
    EXPECT_EQ(decoded->env, request.env);
    EXPECT_EQ(decoded->clear_env, request.clear_env);
    EXPECT_EQ(decoded->cwd, request.cwd);
    EXPECT_EQ(decoded->user, request.user);
    ASSERT_EQ(decoded->tty.has_value(), tty);
    if (tty) {
      EXPECT_EQ(decoded->tty->term, "xterm-256color");
      EXPECT_EQ(decoded->tty->rows, 50);
      EXPECT_EQ(decoded->tty->cols, 132);
    }
  }
}

TEST(MessagesTest, TruncatedExecRequestIsAnErrorAtEveryLength) {
  auto payload = EncodeExecRequestPayload(SampleRequest());
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_FALSE(DecodeExecRequest({payload.data(), cut}).ok()) << cut;
  }
}

TEST(MessagesTest, TrailingBytesAreIgnoredForMinorVersionExtensions) {
  auto payload = EncodeExecRequestPayload(SampleRequest());
  payload.push_back(0xaa);
  EXPECT_TRUE(DecodeExecRequest(payload).ok());
}

TEST(MessagesTest, RejectsHostileRequests) {
  auto decode = [](const ExecRequest& request) {
    EXPECT_FALSE(EncodeExecRequest(request).ok()) << "the host refuses to send it";
    return DecodeExecRequest(EncodeExecRequestPayload(request));
  };
  ExecRequest empty_argv;
  EXPECT_FALSE(decode(empty_argv).ok());
  ExecRequest nul_arg;
  nul_arg.argv = {std::string("a\0b", 3)};
  EXPECT_FALSE(decode(nul_arg).ok());
  ExecRequest bad_env;
  bad_env.argv = {"true"};
  bad_env.env = {"NOEQUALS"};
  EXPECT_FALSE(decode(bad_env).ok());
  bad_env.env = {"=value"};
  EXPECT_FALSE(decode(bad_env).ok());

  ByteWriter huge_count;  // claims 2^32-1 arguments in a few bytes
  huge_count.U8(0);
  huge_count.U32(0xffffffff);
  EXPECT_FALSE(DecodeExecRequest(huge_count.bytes()).ok());
  ByteWriter huge_string;  // claims a 4 GiB argument
  huge_string.U8(0);
  huge_string.U32(1);
  huge_string.U32(0xffffffff);
  EXPECT_FALSE(DecodeExecRequest(huge_string.bytes()).ok());
  ByteWriter unknown_flags;
  unknown_flags.U8(0x80);
  EXPECT_FALSE(DecodeExecRequest(unknown_flags.bytes()).ok());
}

ExecRequest RlimitRequest() {
  ExecRequest request = SampleRequest();
  request.rlimits = {{7, 64, 64}, {4, 0, UINT64_MAX}, {15, UINT64_MAX, UINT64_MAX}};
  return request;
}

TEST(MessagesTest, ResourceLimitsRoundTripWithAndWithoutTty) {
  for (bool tty : {true, false}) {
    ExecRequest request = RlimitRequest();
    if (!tty) request.tty.reset();
    auto encoded = EncodeExecRequest(request);
    ASSERT_TRUE(encoded.ok()) << encoded.error().message();
    auto decoded = DecodeExecRequest(PayloadOf(*encoded));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    EXPECT_EQ(decoded->rlimits, request.rlimits);
    EXPECT_EQ(decoded->argv, request.argv);
    EXPECT_EQ(decoded->tty.has_value(), tty);
  }
}

// Bytes laid out by hand as a host from before resource limits wrote them.
TEST(MessagesTest, RequestWithoutLimitsIsTheOldEncoding) {
  ByteWriter old;
  old.U8(0x02);  // tty
  old.U32(1);
  old.String("true");
  old.U32(0);
  old.String("/");
  old.String("");
  old.String("vt100");
  old.U16(24);
  old.U16(80);
  auto decoded = DecodeExecRequest(old.bytes());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_TRUE(decoded->rlimits.empty());
  EXPECT_EQ(decoded->tty->term, "vt100");

  ExecRequest request = Command("true");
  request.cwd = "/";
  request.tty = TtyConfig{"vt100", 24, 80};
  EXPECT_EQ(EncodeExecRequestPayload(request), old.bytes()) << "no limits: not a byte changes";
}

TEST(MessagesTest, TruncatedResourceLimitsAreAnErrorAtEveryLength) {
  const auto with_limits = EncodeExecRequestPayload(RlimitRequest());
  ExecRequest without = RlimitRequest();
  without.rlimits.clear();
  const size_t start = EncodeExecRequestPayload(without).size();
  for (size_t cut = start; cut < with_limits.size(); ++cut) {
    EXPECT_FALSE(DecodeExecRequest({with_limits.data(), cut}).ok()) << cut;
  }
  EXPECT_TRUE(DecodeExecRequest(with_limits).ok());
}

TEST(MessagesTest, RejectsInvalidResourceLimits) {
  auto refused = [](std::vector<ResourceLimit> rlimits) {
    ExecRequest request = Command("true");
    request.rlimits = std::move(rlimits);
    EXPECT_FALSE(EncodeExecRequest(request).ok()) << "the host refuses to send it";
    return !DecodeExecRequest(EncodeExecRequestPayload(request)).ok();
  };
  EXPECT_TRUE(refused({{16, 1, 1}})) << "no RLIMIT_* number 16";
  EXPECT_TRUE(refused({{UINT32_MAX, 1, 1}}));
  EXPECT_TRUE(refused({{7, 65, 64}})) << "soft above hard";
  EXPECT_TRUE(refused({{7, UINT64_MAX, 64}}));
  EXPECT_TRUE(refused(std::vector<ResourceLimit>(kMaxRlimits + 1, {7, 64, 64})));
  // A count that wraps the u16 to a small number must not slip through.
  ExecRequest wrapped = Command("true");
  wrapped.rlimits.assign(65536 + 1, {7, 64, 64});
  EXPECT_FALSE(EncodeExecRequest(wrapped).ok());

  ExecRequest sixteen = Command("true");
  sixteen.rlimits.assign(kMaxRlimits, {7, 64, 64});
  EXPECT_TRUE(EncodeExecRequest(sixteen).ok()) << "the limit itself is allowed";
}

TEST(MessagesTest, RlimitFlagWithHostileCount) {
  ExecRequest request = Command("true");
  request.rlimits = {{7, 64, 64}};
  auto payload = EncodeExecRequestPayload(request);
  const size_t count_at = payload.size() - 20 - 2;  // u16 count, one 20-byte entry
  ASSERT_EQ(payload[count_at + 1], 1);
  payload[count_at] = 0xff;  // claims 65281 entries in 20 bytes
  EXPECT_FALSE(DecodeExecRequest(payload).ok());
  payload[count_at] = 0;
  payload[count_at + 1] = 2;  // claims two, holds one
  EXPECT_FALSE(DecodeExecRequest(payload).ok());
  payload[count_at + 1] = 0;  // an empty list is harmless
  auto empty = DecodeExecRequest(payload);
  ASSERT_TRUE(empty.ok()) << empty.error().message();
  EXPECT_TRUE(empty->rlimits.empty());
}

TEST(MessagesTest, OversizedRequestIsRefusedBeforeSending) {
  ExecRequest request;
  request.argv = {"echo"};
  request.env.assign(100, "BIG=" + std::string(4000, 'x'));  // ~400 KB
  auto encoded = EncodeExecRequest(request);
  ASSERT_FALSE(encoded.ok());
  EXPECT_NE(encoded.error().message().find("over the"), std::string::npos);
}

TEST(MessagesTest, HelloRoundTripsAndChecksVersion) {
  Hello hello{kProtocolMajor, 7, Role::kAgent, "vk-agent test"};
  auto decoded = DecodeHello(PayloadOf(EncodeHello(hello)));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->minor, 7);
  EXPECT_EQ(decoded->software, "vk-agent test");
  EXPECT_TRUE(CheckPeerHello(*decoded, Role::kAgent).ok());
  EXPECT_FALSE(CheckPeerHello(*decoded, Role::kHost).ok());

  Hello future{kProtocolMajor + 1, 0, Role::kAgent, "vk-agent 2.0"};
  auto checked = CheckPeerHello(future, Role::kAgent);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message().find("incompatible exec protocol"), std::string::npos);
  EXPECT_NE(checked.error().message().find("same release"), std::string::npos);
}

TEST(MessagesTest, HelloRejectsUnknownRoleAndSanitizesSoftware) {
  ByteWriter writer;
  writer.U16(1);
  writer.U16(0);
  writer.U8(9);
  writer.String("x");
  EXPECT_FALSE(DecodeHello(writer.bytes()).ok());
  auto decoded = DecodeHello(PayloadOf(EncodeHello({1, 0, Role::kHost, "evil\x1b[2J"})));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->software, "evil?[2J");
}

TEST(MessagesTest, SmallMessagesRoundTrip) {
  auto resize = DecodeResize(PayloadOf(EncodeResize({40, 120})));
  ASSERT_TRUE(resize.ok());
  EXPECT_EQ(resize->rows, 40);
  EXPECT_EQ(resize->cols, 120);
  auto signo = DecodeSignal(PayloadOf(EncodeSignal(15)));
  ASSERT_TRUE(signo.ok());
  EXPECT_EQ(*signo, 15);
  for (auto status : {ExitStatus::Exited(0), ExitStatus::Exited(255), ExitStatus::Signaled(9)}) {
    auto decoded = DecodeExit(PayloadOf(EncodeExit(status)));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, status);
  }
  auto window = DecodeWindow(PayloadOf(EncodeWindow({Stream::kStderr, 4096})));
  ASSERT_TRUE(window.ok());
  EXPECT_EQ(window->stream, Stream::kStderr);
  EXPECT_EQ(window->bytes, 4096u);
  EXPECT_EQ(DecodeError(PayloadOf(EncodeError("no\nway"))), "no?way");
}

TEST(MessagesTest, SmallMessagesRejectBadValues) {
  EXPECT_FALSE(DecodeSignal(PayloadOf(EncodeSignal(0))).ok());
  EXPECT_FALSE(DecodeSignal(PayloadOf(EncodeSignal(65))).ok());
  EXPECT_FALSE(DecodeExit(PayloadOf(EncodeExit(ExitStatus::Exited(256)))).ok());
  EXPECT_FALSE(DecodeExit(PayloadOf(EncodeExit(ExitStatus::Signaled(0)))).ok());
  EXPECT_FALSE(DecodeExit(std::vector<uint8_t>{2, 0, 0, 0, 1}).ok());
  EXPECT_FALSE(DecodeWindow(std::vector<uint8_t>{3, 0, 0, 0, 1}).ok());
  EXPECT_FALSE(DecodeResize(std::vector<uint8_t>{0, 1, 0}).ok());
  EXPECT_EQ(ExitStatus::Signaled(2).ShellCode(), 130);
  EXPECT_EQ(ExitStatus::Exited(3).ShellCode(), 3);
}

TEST(MessagesTest, StartedAndAttachRoundTrip) {
  auto pid = DecodeStarted(PayloadOf(EncodeStarted(4242)));
  ASSERT_TRUE(pid.ok()) << pid.error().message();
  EXPECT_EQ(*pid, 4242u);
  // Offsets are 64-bit: a long-running command writes more than 4 GiB.
  AttachRequest attach{77, (uint64_t{5} << 32) + 3, 0xffffffffffffffff};
  auto frame = EncodeAttach(attach);
  EXPECT_EQ(frame[4], static_cast<uint8_t>(FrameType::kAttach));
  auto decoded = DecodeAttach(PayloadOf(frame));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, attach);
}

TEST(MessagesTest, StartedAndAttachRejectBadValues) {
  EXPECT_FALSE(DecodeStarted(PayloadOf(EncodeStarted(0))).ok());
  EXPECT_FALSE(DecodeStarted(PayloadOf(EncodeStarted(1u << 23))).ok());
  EXPECT_FALSE(DecodeAttach(PayloadOf(EncodeAttach({0, 1, 2}))).ok());
  EXPECT_FALSE(DecodeAttach(PayloadOf(EncodeAttach({0xffffffff, 1, 2}))).ok());
  auto payload = PayloadOf(EncodeAttach({5, 1, 2}));
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_FALSE(DecodeAttach({payload.data(), cut}).ok()) << cut;
  }
  for (size_t cut = 0; cut < 4; ++cut) {
    EXPECT_FALSE(DecodeStarted(std::vector<uint8_t>(cut, 1)).ok()) << cut;
  }
}

}  // namespace
}  // namespace vk::proto
