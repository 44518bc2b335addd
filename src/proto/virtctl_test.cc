// The virtctl codec: round trips of every op and reply shape, log chunks of
// any bytes, and the refusals (each naming what was wrong).
#include "proto/virtctl.h"

#include <gtest/gtest.h>

#include <string>

namespace vk::proto {
namespace {

using namespace std::string_literals;

VirtctlRequest Request(VirtctlOp op, std::string unit = "", bool follow = false) {
  return VirtctlRequest{op, std::move(unit), follow};
}

UnitInfo Redis() {
  return UnitInfo{.name = "redis",
                  .state = "running",
                  .health = "healthy",
                  .address = "192.168.127.3",
                  .vm = "shop-redis",
                  .ports = {"127.0.0.1:6380->6379/tcp", "127.0.0.1:9121->9121/tcp"},
                  .restarts = 2,
                  .exit_code = 137,
                  .uptime_seconds = 3723,
                  .dev = false};
}

// The error message of a request line that must be refused.
std::string RequestError(std::string_view line) {
  auto decoded = DecodeVirtctlRequest(line);
  EXPECT_FALSE(decoded.ok()) << line;
  return decoded.ok() ? "" : decoded.error().message();
}

std::string ServerLineError(std::string_view line) {
  auto decoded = DecodeVirtctlServerLine(line);
  EXPECT_FALSE(decoded.ok()) << line;
  return decoded.ok() ? "" : decoded.error().message();
}

VirtctlReply DecodeReply(std::string_view line) {
  auto decoded = DecodeVirtctlServerLine(line);
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  if (!decoded.ok() || !std::holds_alternative<VirtctlReply>(*decoded)) return {};
  return std::get<VirtctlReply>(*decoded);
}

TEST(VirtctlCodec, OpNames) {
  EXPECT_EQ(VirtctlOpName(VirtctlOp::kList), "list");
  EXPECT_EQ(VirtctlOpName(VirtctlOp::kStatus), "status");
  EXPECT_EQ(VirtctlOpName(VirtctlOp::kStart), "start");
  EXPECT_EQ(VirtctlOpName(VirtctlOp::kStop), "stop");
  EXPECT_EQ(VirtctlOpName(VirtctlOp::kRestart), "restart");
  EXPECT_EQ(VirtctlOpName(VirtctlOp::kLogs), "logs");
  EXPECT_EQ(VirtctlOpName(VirtctlOp::kDown), "down");
  for (std::string_view name : {"list", "status", "start", "stop", "restart", "logs", "down"}) {
    ASSERT_TRUE(VirtctlOpFromName(name)) << name;
    EXPECT_EQ(VirtctlOpName(*VirtctlOpFromName(name)), name);
  }
  EXPECT_FALSE(VirtctlOpFromName("LIST"));
  EXPECT_FALSE(VirtctlOpFromName(""));
  EXPECT_TRUE(VirtctlOpTakesUnit(VirtctlOp::kLogs));
  EXPECT_FALSE(VirtctlOpTakesUnit(VirtctlOp::kList));
  EXPECT_FALSE(VirtctlOpTakesUnit(VirtctlOp::kDown));
}

TEST(VirtctlCodec, RequestsRoundTripForEveryOp) {
  for (const VirtctlRequest& request :
       {Request(VirtctlOp::kList), Request(VirtctlOp::kDown), Request(VirtctlOp::kStatus, "redis"),
        Request(VirtctlOp::kStart, "redis"), Request(VirtctlOp::kStop, "web-1"),
        Request(VirtctlOp::kRestart, "db_2.x"), Request(VirtctlOp::kLogs, "redis"),
        Request(VirtctlOp::kLogs, "redis", true)}) {
    std::string line = EncodeVirtctlRequest(request);
    ASSERT_TRUE(line.ends_with('\n'));
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    auto decoded = DecodeVirtctlRequest(line);
    ASSERT_TRUE(decoded.ok()) << line << decoded.error().message();
    EXPECT_EQ(*decoded, request) << line;
  }
}

TEST(VirtctlCodec, RequestWireShape) {
  EXPECT_EQ(EncodeVirtctlRequest(Request(VirtctlOp::kStop, "redis")),
            "{\"op\":\"stop\",\"unit\":\"redis\"}\n");
  EXPECT_EQ(EncodeVirtctlRequest(Request(VirtctlOp::kLogs, "redis", true)),
            "{\"op\":\"logs\",\"unit\":\"redis\",\"follow\":true}\n");
  EXPECT_EQ(EncodeVirtctlRequest(Request(VirtctlOp::kList)), "{\"op\":\"list\"}\n");
}

TEST(VirtctlCodec, RequestWithoutNewlineAndInAnyFieldOrder) {
  auto decoded = DecodeVirtctlRequest(R"( {"follow":false, "unit":"redis", "op":"logs"} )");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, Request(VirtctlOp::kLogs, "redis"));
}

TEST(VirtctlCodec, BadRequestsNameTheProblem) {
  EXPECT_NE(RequestError("stop redis\n").find("not valid JSON"), std::string::npos);
  EXPECT_NE(RequestError("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(RequestError(R"(["stop","redis"])").find("not a JSON object"), std::string::npos);
  EXPECT_NE(RequestError(R"({"op":"reboot"})").find("unknown op \"reboot\""), std::string::npos);
  EXPECT_NE(RequestError(R"({"op":"list","all":true})").find("unknown field \"all\""),
            std::string::npos);
  EXPECT_NE(RequestError(R"({"unit":"redis"})").find("missing \"op\""), std::string::npos);
  EXPECT_NE(RequestError(R"({"op":"stop"})").find("stop needs a \"unit\""), std::string::npos);
  EXPECT_NE(RequestError(R"({"op":"logs","unit":""})").find("needs a \"unit\""), std::string::npos);
  EXPECT_NE(RequestError(R"({"op":"list","unit":"redis"})").find("list takes no \"unit\""),
            std::string::npos);
  EXPECT_NE(RequestError(R"({"op":"stop","unit":"redis","follow":true})").find("only for logs"),
            std::string::npos);
}

TEST(VirtctlCodec, BadUnitNamesAreRefused) {
  for (const char* name : {"../x", "..", ".hidden", "a/b", "a b", "-x"}) {
    std::string line = R"({"op":"stop","unit":")" + std::string(name) + "\"}";
    std::string error = RequestError(line);
    EXPECT_NE(error.find("virtctl request: \"unit\": invalid VM name"), std::string::npos) << error;
  }
  EXPECT_FALSE(
      DecodeVirtctlRequest(R"({"op":"stop","unit":")" + std::string(64, 'a') + "\"}").ok());
}

TEST(VirtctlCodec, WrongTypesAreRefused) {
  EXPECT_NE(RequestError(R"({"op":3})").find("\"op\" must be a string"), std::string::npos);
  EXPECT_NE(RequestError(R"({"op":"stop","unit":["redis"]})").find("\"unit\" must be a string"),
            std::string::npos);
  EXPECT_NE(RequestError(R"({"op":"logs","unit":"r","follow":"yes"})").find("\"follow\" must be"),
            std::string::npos);
  EXPECT_NE(ServerLineError(R"({"ok":"true"})").find("\"ok\" must be true or false"),
            std::string::npos);
  EXPECT_NE(ServerLineError(R"({"ok":true,"units":{}})").find("\"units\" must be an array"),
            std::string::npos);
  EXPECT_NE(ServerLineError(R"({"ok":true,"units":[1]})").find("\"units[0]\" must be an object"),
            std::string::npos);
  EXPECT_NE(
      ServerLineError(R"({"ok":true,"units":[{"restarts":-1}]})").find("units[0]: \"restarts\""),
      std::string::npos);
  EXPECT_NE(ServerLineError(R"({"ok":true,"units":[{"restarts":1.5}]})").find("\"restarts\""),
            std::string::npos);
  EXPECT_NE(ServerLineError(R"({"ok":true,"units":[{"uptime_seconds":-1}]})").find("uptime"),
            std::string::npos);
  EXPECT_NE(ServerLineError(R"({"ok":true,"units":[{"exit_code":4294967296}]})").find("exit_code"),
            std::string::npos);
  EXPECT_NE(ServerLineError(R"({"ok":true,"units":[{"ports":["a",1]}]})").find("\"ports\""),
            std::string::npos);
  EXPECT_NE(ServerLineError(R"({"log":5})").find("\"log\" must be a string"), std::string::npos);
}

TEST(VirtctlCodec, OverlongLinesAreRefused) {
  std::string unit(kMaxVirtctlLine, 'a');
  std::string line = R"({"op":"stop","unit":")" + unit + "\"}\n";
  EXPECT_NE(RequestError(line).find("over the limit"), std::string::npos);
  std::string log = EncodeLogChunk(std::string(kMaxVirtctlLine, 'x'));
  EXPECT_NE(ServerLineError(log).find("over the limit"), std::string::npos);
  // Exactly at the bound (newline included) is still a line.
  std::string padded = "{\"ok\":true}" + std::string(kMaxVirtctlLine - 12, ' ') + "\n";
  ASSERT_EQ(padded.size(), kMaxVirtctlLine);
  EXPECT_TRUE(DecodeVirtctlServerLine(padded).ok());
}

TEST(VirtctlCodec, TwoLinesAreNotOne) {
  EXPECT_NE(RequestError("{\"op\":\"list\"}\n{\"op\":\"down\"}\n").find("more than one line"),
            std::string::npos);
}

TEST(VirtctlCodec, RepliesRoundTrip) {
  UnitInfo dev{.name = "shell", .state = "running", .vm = "shop-shell", .dev = true};
  UnitInfo stopped{.name = "batch", .state = "exited", .exit_code = -1};
  for (const VirtctlReply& reply :
       {VirtctlReply{}, VirtctlReply{.message = "redis stopped"},
        VirtctlReply{.units = {Redis(), dev, stopped}}, VirtctlReply{.units = {Redis()}},
        VirtctlReply{.ok = false, .error = "refused: only the dev VM may control units"},
        VirtctlReply{.ok = false}, VirtctlReply{.ok = false, .error = "e", .message = "m"},
        VirtctlReply{.ok = false, .error = "e", .units = {dev}}}) {
    std::string line = EncodeVirtctlReply(reply);
    ASSERT_EQ(line.find('\n'), line.size() - 1) << line;
    EXPECT_EQ(DecodeReply(line), reply) << line;
  }
}

TEST(VirtctlCodec, ReplyWireShape) {
  EXPECT_EQ(EncodeVirtctlReply({.message = "redis stopped"}),
            "{\"ok\":true,\"message\":\"redis stopped\",\"units\":[]}\n");
  EXPECT_EQ(EncodeVirtctlReply({.ok = false, .error = "no unit \"x\""}),
            "{\"ok\":false,\"error\":\"no unit \\\"x\\\"\"}\n");
  UnitInfo unit{.name = "a", .state = "stopped"};
  EXPECT_EQ(EncodeVirtctlReply({.units = {unit}}),
            "{\"ok\":true,\"message\":\"\",\"units\":[{\"name\":\"a\",\"state\":\"stopped\","
            "\"health\":\"\",\"address\":\"\",\"vm\":\"\",\"ports\":[],\"restarts\":0,"
            "\"uptime_seconds\":0,\"dev\":false}]}\n");
}

TEST(VirtctlCodec, ReplyRefusesUnknownFieldsButUnitsIgnoreThem) {
  EXPECT_NE(ServerLineError(R"({"ok":true,"version":2})").find("unknown field \"version\""),
            std::string::npos);
  EXPECT_NE(ServerLineError(R"({"message":"x"})").find("missing \"ok\""), std::string::npos);
  VirtctlReply reply = DecodeReply(
      R"({"ok":true,"units":[{"name":"redis","cpu":"3%","mem":{"rss":1},"exit_code":null}]})");
  ASSERT_EQ(reply.units.size(), 1u);
  EXPECT_EQ(reply.units[0], UnitInfo{.name = "redis"});
}

TEST(VirtctlCodec, LogChunksCarryAnyBytes) {
  std::string text = "line 1\nline\t2\r\n\x1b[1mbold\x1b[0m "s + '\0' + " nul";
  std::string line = EncodeLogChunk(text);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto decoded = DecodeVirtctlServerLine(line);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(std::get<LogChunk>(*decoded), LogChunk{text});
}

TEST(VirtctlCodec, InvalidUtf8InLogsIsReplaced) {
  std::string line = EncodeLogChunk("ok \xff\xfe and \xc3");
  auto decoded = DecodeVirtctlServerLine(line);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(std::get<LogChunk>(*decoded).text, "ok \xEF\xBF\xBD\xEF\xBF\xBD and \xEF\xBF\xBD");
  // Nor do the other encoders throw on it.
  EXPECT_TRUE(DecodeVirtctlServerLine(EncodeVirtctlReply({.message = "bad \xff"})).ok());
  EXPECT_FALSE(DecodeVirtctlRequest(EncodeVirtctlRequest(Request(VirtctlOp::kStop, "\xff"))).ok());
}

TEST(VirtctlCodec, AFullChunkFitsALine) {
  // The worst case: every byte a control character ("\u0001", 6 bytes).
  std::string line = EncodeLogChunk(std::string(kMaxLogChunk, '\x01'));
  EXPECT_LE(line.size(), kMaxVirtctlLine);
  EXPECT_TRUE(DecodeVirtctlServerLine(line).ok());
}

TEST(VirtctlCodec, LogLinesRefuseOtherFields) {
  EXPECT_NE(ServerLineError(R"({"log":"x","ok":true})").find("unknown field \"ok\""),
            std::string::npos);
}

TEST(VirtctlCodec, LongFieldNamesAreShortenedInErrors) {
  std::string error = RequestError(R"({"op":"list",")" + std::string(5000, 'k') + R"(":1})");
  EXPECT_LT(error.size(), 200u);
}

}  // namespace
}  // namespace vk::proto
