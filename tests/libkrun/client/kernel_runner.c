/* A libkrun client that brings its own kernel and disk: an ELF vmlinux
 * (plain, or compressed whole: .gz, .bz2, .zst name the format) with an
 * initramfs and extra command-line words (krun_set_kernel), a raw disk
 * image (krun_add_disk) mounted as the guest's root
 * (krun_set_root_disk_remount), one command. krun_start_enter() only
 * returns on an error; otherwise the process ends with the command's status.
 *
 *   kernel_runner VMLINUX INITRAMFS DISK CMDLINE -- PROGRAM [ARG...]
 */
#include <libkrun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char* text, const char* suffix) {
  size_t length = strlen(text), suffix_length = strlen(suffix);
  return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

/* The KRUN_KERNEL_FORMAT_* the file name says. */
static uint32_t kernel_format(const char* path) {
  if (ends_with(path, ".gz")) return KRUN_KERNEL_FORMAT_IMAGE_GZ;
  if (ends_with(path, ".bz2")) return KRUN_KERNEL_FORMAT_IMAGE_BZ2;
  if (ends_with(path, ".zst")) return KRUN_KERNEL_FORMAT_IMAGE_ZSTD;
  return KRUN_KERNEL_FORMAT_ELF;
}

static int check(int32_t result, const char* what) {
  if (result < 0) {
    fprintf(stderr, "kernel_runner: %s: %s\n", what, strerror(-result));
    exit(1);
  }
  return result;
}

int main(int argc, char** argv) {
  if (argc < 7 || strcmp(argv[5], "--") != 0) {
    fprintf(stderr, "usage: kernel_runner VMLINUX INITRAMFS DISK CMDLINE -- PROGRAM [ARG...]\n");
    return 2;
  }
  const char* const no_env[] = {NULL};
  krun_set_log_level(KRUN_LOG_LEVEL_WARN);
  uint32_t ctx = (uint32_t)check(krun_create_ctx(), "krun_create_ctx");
  check(krun_set_vm_config(ctx, 1, 512), "krun_set_vm_config");
  check(krun_set_kernel(ctx, argv[1], kernel_format(argv[1]), argv[2], argv[4]), "krun_set_kernel");
  check(krun_add_disk(ctx, "root", argv[3], false), "krun_add_disk");
  check(krun_set_root_disk_remount(ctx, "/dev/vda", "ext4", NULL), "krun_set_root_disk_remount");
  check(krun_set_exec(ctx, argv[6], (const char* const*)&argv[7], no_env), "krun_set_exec");
  int32_t failed = krun_start_enter(ctx);
  fprintf(stderr, "kernel_runner: krun_start_enter: %s\n", strerror(-failed));
  return 1;
}
