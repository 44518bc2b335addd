#include "runtime/qemu_command.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing/scoped_env.h"
#include "base/testing/temp_dir.h"

namespace vk {
namespace {

using Argv = std::vector<std::string>;

QemuPlan MinimalPlan() {
  QemuPlan plan;
  plan.name = "web";
  plan.cpu_model = "host";
  plan.kernel = "/k/vmlinux";
  plan.initrd = "/k/initrd";
  plan.cmdline = "console=ttyS0 reboot=t";
  plan.vsock_socket = "/run/vm/vsock.sock";
  plan.qmp_socket = "/run/vm/qmp.sock";
  return plan;
}

bool Contains(const Argv& argv, const std::string& word) {
  return std::find(argv.begin(), argv.end(), word) != argv.end();
}

// The value after the first `option` in argv ("" if none).
std::string ValueOf(const Argv& argv, const std::string& option) {
  auto it = std::find(argv.begin(), argv.end(), option);
  return it == argv.end() || it + 1 == argv.end() ? "" : *(it + 1);
}

void ExpectUsage(const Result<Argv>& result, const std::string& mention) {
  ASSERT_FALSE(result.ok()) << "expected an error mentioning " << mention;
  EXPECT_EQ(result.error().kind(), ErrorKind::kUsage) << result.error().message();
  EXPECT_NE(result.error().message().find(mention), std::string::npos) << result.error().message();
}

TEST(QemuArgvTest, GoldenTwoDisksAShareAndANic) {
  QemuPlan plan = MinimalPlan();
  plan.cpus = 2;
  plan.memory_bytes = 512ull << 20;
  plan.disks = {{"/img/base.ext4", true}, {"/run/vm/scratch.ext4", false}};
  plan.shares = {{"/run/vm/fs0.sock", "vkroot"}};
  plan.network_socket = "/run/vm/lan.sock";
  plan.mac = {0x52, 0x54, 0x00, 0xAB, 0xcd, 0x0e};
  auto argv = QemuArgv(plan);
  ASSERT_TRUE(argv.ok()) << argv.error().message();
  // clang-format off
  const Argv expected = {
      "qemu-system-x86_64",
      "-name", "guest=web",
      "-M", "microvm,acpi=off,memory-backend=mem",
      "-enable-kvm",
      "-cpu", "host",
      "-smp", "2",
      "-m", "512M",
      "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
      "-nodefaults", "-no-user-config",
      "-display", "none",
      "-no-reboot", "-S",
      "-chardev", "stdio,id=con,signal=off",
      "-serial", "chardev:con",
      "-qmp", "unix:/run/vm/qmp.sock,server=on,wait=off",
      "-kernel", "/k/vmlinux",
      "-initrd", "/k/initrd",
      "-append", "console=ttyS0 reboot=t",
      "-drive", "id=vda,file=/img/base.ext4,format=raw,if=none,readonly=on",
      "-device", "virtio-blk-device,drive=vda",
      "-drive", "id=vdb,file=/run/vm/scratch.ext4,format=raw,if=none",
      "-device", "virtio-blk-device,drive=vdb",
      "-chardev", "socket,id=fs0,path=/run/vm/fs0.sock",
      "-device", "vhost-user-fs-device,chardev=fs0,tag=vkroot",
      "-chardev", "socket,id=vsock,path=/run/vm/vsock.sock",
      "-device", "vhost-user-vsock-device,chardev=vsock",
      "-netdev", "stream,id=lan,server=off,addr.type=unix,addr.path=/run/vm/lan.sock",
      "-device", "virtio-net-device,netdev=lan,mac=52:54:00:ab:cd:0e",
      "-device", "virtio-rng-device",
      "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
  };
  // clang-format on
  ASSERT_EQ(argv->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ((*argv)[i], expected[i]) << "argv[" << i << "]";
}

// docs/backends.md shows "the exact QEMU command line we run": the indented
// block after its "### The QEMU command line" heading, as a shell would read
// it (backslash-newline joins lines, double quotes group words).
Argv DocumentedQemuCommand() {
  std::ifstream doc(std::string(VK_SOURCE_DIR) + "/docs/backends.md");
  std::string line, command;
  bool in_section = false;
  while (std::getline(doc, line)) {
    if (line.starts_with("### The QEMU command line")) in_section = true;
    if (!in_section) continue;
    if (line.starts_with("    ")) command += line.substr(4) + "\n";
    if (!command.empty() && line.empty()) break;  // the end of the block
  }
  Argv words;
  std::string word;
  bool quoted = false, in_word = false;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (c == '\\' && i + 1 < command.size() && command[i + 1] == '\n') {
      ++i;  // a line continuation, inside quotes too
    } else if (c == '"') {
      quoted = !quoted;
      in_word = true;
    } else if (!quoted && (c == ' ' || c == '\n')) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

TEST(QemuArgvTest, TheCommandLineInTheDocsIsTheOneWeBuild) {
  const Argv documented = DocumentedQemuCommand();
  ASSERT_GT(documented.size(), 10u) << "docs/backends.md: no QEMU command line found";
  QemuPlan plan;  // the example's plan, its paths named as the doc names them
  plan.name = "NAME";
  plan.cpu_model = "EPYC-Rome,check=off";
  plan.cpus = 1;
  plan.memory_bytes = 1024ull << 20;
  plan.kernel = "GUEST/vmlinux";
  plan.initrd = "GUEST/initramfs.cpio";
  plan.cmdline = ValueOf(documented, "-append");  // the guest's words are GuestCmdline's
  plan.disks = {{"BASE", true}, {"RUN/scratch.ext4", false}};
  plan.shares = {{"RUN/vhost-fs-0.sock", "vkfs0"}, {"RUN/vhost-fs-1.sock", "vkfs1"}};
  plan.vsock_socket = "RUN/vhost-vsock.sock";
  plan.network_socket = "RUN/lan.sock";
  plan.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  plan.qmp_socket = "RUN/qmp.sock";
  auto argv = QemuArgv(plan);
  ASSERT_TRUE(argv.ok()) << argv.error().message();
  EXPECT_EQ(*argv, documented) << "update docs/backends.md with what QemuArgv builds";
}

TEST(QemuArgvTest, NoNetworkMeansNoNic) {
  auto argv = QemuArgv(MinimalPlan());
  ASSERT_TRUE(argv.ok()) << argv.error().message();
  EXPECT_FALSE(Contains(*argv, "-netdev"));
  for (const std::string& word : *argv) EXPECT_EQ(word.find("virtio-net"), std::string::npos);
  EXPECT_EQ(argv->back(), "isa-debug-exit,iobase=0xf4,iosize=0x04");
  EXPECT_EQ(ValueOf(*argv, "-m"), "256M");  // the default size
  EXPECT_EQ(ValueOf(*argv, "-smp"), "1");
}

TEST(QemuArgvTest, CommasAreDoubledInOptionStringsOnly) {
  QemuPlan plan = MinimalPlan();
  plan.name = "a,b=c";
  plan.qmp_socket = "/run/q,m/qmp.sock";
  plan.disks = {{"/img/x,y.ext4", false}};
  plan.shares = {{"/run/f,s.sock", "t,ag"}};
  plan.vsock_socket = "/run/v,s.sock";
  plan.network_socket = "/run/l,an.sock";
  plan.kernel = "/k/vm,linux";
  plan.initrd = "/k/init,rd";
  plan.cmdline = "a=1,2 b";
  auto argv = QemuArgv(plan);
  ASSERT_TRUE(argv.ok()) << argv.error().message();
  EXPECT_EQ(ValueOf(*argv, "-name"), "guest=a,,b=c");
  EXPECT_EQ(ValueOf(*argv, "-qmp"), "unix:/run/q,,m/qmp.sock,server=on,wait=off");
  EXPECT_EQ(ValueOf(*argv, "-drive"), "id=vda,file=/img/x,,y.ext4,format=raw,if=none");
  EXPECT_TRUE(Contains(*argv, "socket,id=fs0,path=/run/f,,s.sock"));
  EXPECT_TRUE(Contains(*argv, "vhost-user-fs-device,chardev=fs0,tag=t,,ag"));
  EXPECT_TRUE(Contains(*argv, "socket,id=vsock,path=/run/v,,s.sock"));
  EXPECT_EQ(ValueOf(*argv, "-netdev"),
            "stream,id=lan,server=off,addr.type=unix,addr.path=/run/l,,an.sock");
  // Plain strings to QEMU: passed as they are.
  EXPECT_EQ(ValueOf(*argv, "-kernel"), "/k/vm,linux");
  EXPECT_EQ(ValueOf(*argv, "-initrd"), "/k/init,rd");
  EXPECT_EQ(ValueOf(*argv, "-append"), "a=1,2 b");
}

TEST(QemuArgvTest, RelativeDrivePathsThatLookLikeAProtocolGetDotSlash) {
  QemuPlan plan = MinimalPlan();
  plan.disks = {{"a:b.img", false}, {"/x/a:b.img", false}, {"dir/a:b.img", false}};
  auto argv = QemuArgv(plan);
  ASSERT_TRUE(argv.ok()) << argv.error().message();
  EXPECT_TRUE(Contains(*argv, "id=vda,file=./a:b.img,format=raw,if=none"));
  EXPECT_TRUE(Contains(*argv, "id=vdb,file=/x/a:b.img,format=raw,if=none"));
  EXPECT_TRUE(Contains(*argv, "id=vdc,file=dir/a:b.img,format=raw,if=none"));
}

TEST(QemuArgvTest, NoNameMeansNoNameOption) {
  QemuPlan plan = MinimalPlan();
  plan.name.clear();
  auto argv = QemuArgv(plan);
  ASSERT_TRUE(argv.ok()) << argv.error().message();
  EXPECT_FALSE(Contains(*argv, "-name"));
  EXPECT_EQ((*argv)[1], "-M");
}

TEST(QemuArgvTest, RefusesWhatQemuCannotTake) {
  QemuPlan plan = MinimalPlan();
  plan.memory_bytes = (256ull << 20) + 4096;
  ExpectUsage(QemuArgv(plan), "whole number of MiB");
  plan.memory_bytes = 0;
  ExpectUsage(QemuArgv(plan), "MiB");

  plan = MinimalPlan();
  plan.cpus = 0;
  ExpectUsage(QemuArgv(plan), "CPU");
  plan = MinimalPlan();
  plan.cpu_model.clear();
  ExpectUsage(QemuArgv(plan), "CPU model");
  plan = MinimalPlan();
  plan.kernel.clear();
  ExpectUsage(QemuArgv(plan), "kernel");
  plan = MinimalPlan();
  plan.initrd.clear();
  ExpectUsage(QemuArgv(plan), "initrd");
  plan = MinimalPlan();
  plan.vsock_socket.clear();
  ExpectUsage(QemuArgv(plan), "vsock");
  plan = MinimalPlan();
  plan.qmp_socket.clear();
  ExpectUsage(QemuArgv(plan), "QMP");

  plan = MinimalPlan();
  plan.cmdline = std::string("quiet\0x", 7);
  ExpectUsage(QemuArgv(plan), "kernel command line contains a NUL");
  plan = MinimalPlan();
  plan.kernel = std::string("/k/vm\0linux", 11);
  ExpectUsage(QemuArgv(plan), "-kernel contains a NUL");

  plan = MinimalPlan();
  plan.disks = {{"", false}};
  ExpectUsage(QemuArgv(plan), "disk has no path");
  plan = MinimalPlan();
  plan.shares = {{"", "tag"}};
  ExpectUsage(QemuArgv(plan), "share 'tag' has no vhost-user socket");
}

TEST(QemuArgvTest, VirtioFsTagsAreAtMost36Bytes) {
  QemuPlan plan = MinimalPlan();
  plan.shares = {{"/run/fs.sock", std::string(36, 't')}};
  EXPECT_TRUE(QemuArgv(plan).ok());
  plan.shares[0].tag = std::string(37, 't');
  ExpectUsage(QemuArgv(plan), "is 37 bytes; the limit is 36");
  plan.shares[0].tag.clear();
  ExpectUsage(QemuArgv(plan), "empty tag");
}

// vsock and rng always take two of microvm's 8 slots, the NIC a third.
TEST(QemuArgvTest, NoMoreVirtioDevicesThanMicrovmHasSlots) {
  QemuPlan plan = MinimalPlan();
  plan.disks.assign(4, {"/img/d.ext4", false});
  plan.shares.assign(2, {"/run/fs.sock", "tag"});
  auto six = QemuArgv(plan);
  ASSERT_TRUE(six.ok()) << six.error().message();
  EXPECT_TRUE(Contains(*six, "id=vdd,file=/img/d.ext4,format=raw,if=none"));
  EXPECT_TRUE(Contains(*six, "vhost-user-fs-device,chardev=fs1,tag=tag"));

  plan.network_socket = "/run/lan.sock";
  ExpectUsage(QemuArgv(plan), "4 disks and 2 shares need 9 virtio devices");
  ExpectUsage(QemuArgv(plan), "8 virtio-mmio slots");
  plan.network_socket.clear();
  plan.disks.emplace_back(QemuDisk{"/img/e.ext4", false});
  ExpectUsage(QemuArgv(plan), "5 disks and 2 shares need 9 virtio devices");
}

TEST(QemuCpuModelTest, HostUnlessPvmAndTheEnvironmentWins) {
  EXPECT_EQ(QemuCpuModel(false, nullptr), "host");
  EXPECT_EQ(QemuCpuModel(true, nullptr), "EPYC-Rome,check=off");
  EXPECT_EQ(QemuCpuModel(false, ""), "host");
  EXPECT_EQ(QemuCpuModel(true, ""), "EPYC-Rome,check=off");
  EXPECT_EQ(QemuCpuModel(false, "max"), "max");
  EXPECT_EQ(QemuCpuModel(true, "host,-pdpe1gb"), "host,-pdpe1gb");
}

TEST(QemuVersionTest, ParsesTheFirstLine) {
  auto debian = ParseQemuVersion(
      "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n"
      "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n");
  ASSERT_TRUE(debian.ok()) << debian.error().message();
  EXPECT_EQ(debian->major, 7);
  EXPECT_EQ(debian->minor, 2);
  EXPECT_EQ(debian->micro, 22);

  auto plain = ParseQemuVersion("QEMU emulator version 8.1.0\n");
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(plain->major, 8);
  EXPECT_EQ(plain->minor, 1);
  EXPECT_EQ(plain->micro, 0);
}

TEST(QemuVersionTest, RefusesAnythingElse) {
  for (const char* text :
       {"", "garbage\n", "QEMU emulator version 7\n", "QEMU emulator version 7.2\n",
        "QEMU emulator version 7.2.x\n", "QEMU emulator version 7.2.0-rc1\n",
        "QEMU emulator version -7.2.0\n", "Copyright\nQEMU emulator version 7.2.0\n",
        "qemu emulator version 7.2.0\n"}) {
    auto version = ParseQemuVersion(text);
    EXPECT_FALSE(version.ok()) << "'" << text << "' parsed";
  }
}

// A stand-in QEMU: a script printing `first_line` for --version.
std::string FakeQemu(const testing::TempTree& tree, const std::string& name,
                     const std::string& first_line) {
  EXPECT_TRUE(tree.Write(name, "#!/bin/sh\necho '" + first_line +
                                   "'\necho 'Copyright (c) 2003-2022 Fabrice Bellard'\n"));
  std::string path = tree / name;
  EXPECT_EQ(::chmod(path.c_str(), 0755), 0);
  return path;
}

TEST(QemuFindTest, TooOldIsRefusedWithWhatToDo) {
  testing::TempTree tree;
  std::string old = FakeQemu(tree, "qemu-old", "QEMU emulator version 6.2.0 (Ubuntu)");
  testing::ScopedEnv env("VIRTKIT_QEMU", old);
  auto found = FindQemu();
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().kind(), ErrorKind::kUsage);
  const std::string& message = found.error().message();
  EXPECT_NE(message.find("found 6.2.0 at " + old), std::string::npos) << message;
  EXPECT_NE(message.find("7.2 or later"), std::string::npos) << message;
  EXPECT_NE(message.find("VIRTKIT_QEMU"), std::string::npos) << message;

  // 7.1 has no -netdev stream either.
  std::string seven_one = FakeQemu(tree, "qemu-7.1", "QEMU emulator version 7.1.0");
  testing::ScopedEnv env71("VIRTKIT_QEMU", seven_one);
  auto too_old = FindQemu();
  ASSERT_FALSE(too_old.ok());
  EXPECT_NE(too_old.error().message().find("found 7.1.0 at " + seven_one), std::string::npos)
      << too_old.error().message();
}

TEST(QemuFindTest, NewEnoughIsItsPath) {
  testing::TempTree tree;
  std::string qemu = FakeQemu(tree, "qemu-new", "QEMU emulator version 7.2.0");
  {
    testing::ScopedEnv env("VIRTKIT_QEMU", qemu);
    auto found = FindQemu();
    ASSERT_TRUE(found.ok()) << found.error().message();
    EXPECT_EQ(*found, qemu);
  }
  // A bare name is looked up in PATH and comes back absolute.
  testing::ScopedEnv path("PATH", "/nonexistent:" + tree.path());
  testing::ScopedEnv env("VIRTKIT_QEMU", std::string("qemu-new"));
  auto found = FindQemu();
  ASSERT_TRUE(found.ok()) << found.error().message();
  EXPECT_EQ(*found, qemu);
}

TEST(QemuFindTest, WithoutVirtkitQemuItIsQemuSystemFromPath) {
  testing::TempTree tree;
  std::string qemu = FakeQemu(tree, "qemu-system-x86_64", "QEMU emulator version 9.0.1");
  testing::ScopedEnv env("VIRTKIT_QEMU", std::nullopt);
  {
    testing::ScopedEnv path("PATH", tree.path());
    auto found = FindQemu();
    ASSERT_TRUE(found.ok()) << found.error().message();
    EXPECT_EQ(*found, qemu);
  }
  testing::ScopedEnv path("PATH", "/nonexistent");
  auto missing = FindQemu();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kUsage);
  EXPECT_NE(missing.error().message().find("apt-get install qemu-system-x86"), std::string::npos)
      << missing.error().message();
  EXPECT_NE(missing.error().message().find("VIRTKIT_QEMU"), std::string::npos);
}

TEST(QemuFindTest, MissingOrBrokenVirtkitQemuIsNamed) {
  testing::TempTree tree;
  {
    testing::ScopedEnv env("VIRTKIT_QEMU", tree / "no-such-qemu");
    auto found = FindQemu();
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.error().kind(), ErrorKind::kUsage);
    EXPECT_NE(found.error().message().find("VIRTKIT_QEMU=" + (tree / "no-such-qemu")),
              std::string::npos)
        << found.error().message();
  }
  {
    testing::ScopedEnv env("VIRTKIT_QEMU", std::string("no-such-qemu-anywhere"));
    auto found = FindQemu();
    ASSERT_FALSE(found.ok());
    EXPECT_NE(found.error().message().find("VIRTKIT_QEMU=no-such-qemu-anywhere"), std::string::npos)
        << found.error().message();
  }
  std::string odd = FakeQemu(tree, "not-qemu", "Python 3.11.2");
  testing::ScopedEnv env("VIRTKIT_QEMU", odd);
  auto found = FindQemu();
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().kind(), ErrorKind::kUsage);
  EXPECT_NE(found.error().message().find(odd + " --version"), std::string::npos)
      << found.error().message();
}

}  // namespace
}  // namespace vk
