/* A chroot-style libkrun client: a host directory as the guest's root, one
 * command with its arguments, environment, working directory, resource
 * limits and port map. Like krunvm/crun's krun handler it calls
 * krun_start_enter(), which only returns on an error: the process otherwise
 * ends with the workload's exit status.
 *
 *   chroot_runner ROOT [-w DIR] [-e NAME=VALUE]... [-p HOST:GUEST]...
 *                 [-r ID=CUR:MAX]... [-m MIB] [-n|-N SWITCH_SOCKET]
 *                 [-g DATAGRAM_SOCKET] [-t TAP]
 *                 [-c PORT:PATH]... [-l PORT:PATH]... [-s SECONDS] [-o FILE]
 *                 [-S SOCKET|-O FILE]... [-P NAME:SOCKET]... [-T NAME]
 *                 [-D DIR]... [-F PATH=TEXT]... [-1 PATH=TEXT]...
 *                 -- PROGRAM [ARG...]
 *
 * -n attaches a NIC to a unix stream socket (krun_add_net_unixstream; a
 * `vk switch`), by its path; -N the same through a socket the runner
 * connects itself and passes as an fd; -g attaches it to a unix datagram
 * socket (krun_add_net_unixgram, with vfkit's "VFKT" greeting), -t to a tap
 * device (krun_add_net_tap); -c lets the guest connect to host vsock PORT, reaching the
 * unix socket PATH; -l makes PATH a socket whose connections reach guest
 * vsock PORT (krun_add_vsock_port2 with listen false / true); -s writes the
 * shutdown eventfd (krun_get_shutdown_eventfd) SECONDS after the start; -o
 * sends the workload's stdout and stderr to FILE, its stdin left out
 * (krun_add_virtio_console_default). -S and -O add serial consoles
 * (krun_add_serial_console_default; ttyS0, ttyS1, ... in option order): -S
 * one whose input and output are a stream socket connected to SOCKET, -O one
 * that only writes into FILE. -P and -T add ports to one multiport virtio
 * console (krun_add_virtio_console_multiport): -P a port NAME whose input
 * and output are a stream socket connected to SOCKET
 * (krun_add_console_port_inout), -T a terminal port NAME on a pseudo
 * terminal the runner opens (krun_add_console_port_tty), 33 rows by 111
 * columns; what the guest writes there is copied to the runner's stderr as
 * "tty NAME: LINE", and the line "resize-please" makes it 44 by 122 and
 * raises SIGWINCH, as a terminal emulator's resize would. -D,
 * -F and -1 add overlay entries to the root (krun_fs_add_overlay_dir/_file
 * on "/dev/root", in option order): a directory, a file holding TEXT, a
 * one-shot file holding TEXT.
 */
#define _GNU_SOURCE /* posix_openpt, ptsname */
#include <errno.h>
#include <fcntl.h>
#include <libkrun.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_LIST 64

struct list {
  const char* items[MAX_LIST + 1]; /* NULL-terminated, as libkrun wants */
  int count;
};

static void add(struct list* list, const char* item) {
  if (list->count == MAX_LIST) {
    fprintf(stderr, "chroot_runner: too many -e/-p/-r options\n");
    exit(2);
  }
  list->items[list->count++] = item;
}

/* "PORT:PATH" -> port, path (the string is split in place). */
static uint32_t split_port(char* spec, char** path) {
  char* colon = strchr(spec, ':');
  if (!colon) {
    fprintf(stderr, "chroot_runner: %s: expected PORT:PATH\n", spec);
    exit(2);
  }
  *colon = '\0';
  *path = colon + 1;
  return (uint32_t)strtoul(spec, NULL, 10);
}

static unsigned shutdown_after;

/* Asks the VM to shut down: the workload gets SIGTERM. */
static void* write_shutdown_eventfd(void* fd) {
  uint64_t one = 1;
  sleep(shutdown_after);
  if (write((int)(intptr_t)fd, &one, sizeof(one)) != sizeof(one)) perror("chroot_runner: eventfd");
  return NULL;
}

/* A stream socket connected to the unix socket at `path` (exits on failure). */
static int connect_unix(const char* path) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  snprintf(address.sun_path, sizeof(address.sun_path), "%s", path);
  if (fd < 0 || connect(fd, (struct sockaddr*)&address, sizeof(address)) < 0) {
    perror(path);
    exit(1);
  }
  return fd;
}

static int open_output(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  return fd;
}

struct tty_port {
  const char* name;
  int master;
};

/* Copies what the guest writes on a terminal port to stderr, a line at a time. */
static void* copy_tty_output(void* arg) {
  struct tty_port* port = arg;
  char line[256];
  size_t used = 0;
  char c;
  while (read(port->master, &c, 1) == 1) {
    if (c == '\r') continue;
    if (c != '\n' && used < sizeof(line) - 1) {
      line[used++] = c;
      continue;
    }
    line[used] = '\0';
    fprintf(stderr, "tty %s: %s\n", port->name, line);
    used = 0;
    if (strcmp(line, "resize-please") == 0) {
      struct winsize size = {.ws_row = 44, .ws_col = 122};
      if (ioctl(port->master, TIOCSWINSZ, &size) < 0) perror("chroot_runner: TIOCSWINSZ");
      kill(getpid(), SIGWINCH); /* the pty has no session: nobody else is told */
    }
  }
  return NULL;
}

/* A pseudo terminal: returns the terminal end, starts the copier on the other. */
static int open_tty_port(const char* name) {
  static struct tty_port ports[MAX_LIST];
  static int count;
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || count == MAX_LIST) {
    perror("chroot_runner: posix_openpt");
    exit(1);
  }
  int terminal = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (terminal < 0) {
    perror("chroot_runner: open pty");
    exit(1);
  }
  struct winsize size = {.ws_row = 33, .ws_col = 111};
  if (ioctl(master, TIOCSWINSZ, &size) < 0) perror("chroot_runner: TIOCSWINSZ");
  ports[count] = (struct tty_port){name, master};
  pthread_t copier;
  pthread_create(&copier, NULL, copy_tty_output, &ports[count++]);
  return terminal;
}

static int check(int32_t result, const char* what) {
  if (result < 0) {
    fprintf(stderr, "chroot_runner: %s: %s\n", what, strerror(-result));
    exit(1);
  }
  return result;
}

int main(int argc, char** argv) {
  struct list env = {0}, ports = {0}, rlimits = {0}, vsock_out = {0}, vsock_in = {0};
  struct list serials = {0};         /* sockets and files, in option order */
  char serial_kinds[MAX_LIST] = {0}; /* 'S' or 'O' for each */
  struct list console_ports = {0};   /* NAME:SOCKET (-P) or NAME (-T), in option order */
  char port_kinds[MAX_LIST] = {0};   /* 'P' or 'T' for each */
  struct list overlays = {0};        /* DIR (-D) or PATH=TEXT (-F, -1), in option order */
  char overlay_kinds[MAX_LIST] = {0};
  const char *workdir = NULL, *switch_socket = NULL, *output_file = NULL;
  const char *datagram_socket = NULL, *tap = NULL;
  unsigned ram_mib = 512;
  int switch_by_fd = 0;
  int opt;
  while ((opt = getopt(argc, argv, "w:e:p:r:m:n:N:g:t:c:l:s:o:S:O:P:T:D:F:1:")) != -1) {
    switch (opt) {
      case 'w': workdir = optarg; break;
      case 'e': add(&env, optarg); break;
      case 'p': add(&ports, optarg); break;
      case 'r': add(&rlimits, optarg); break;
      case 'm': ram_mib = (unsigned)strtoul(optarg, NULL, 10); break;
      case 'n': switch_socket = optarg; break;
      case 'N':
        switch_socket = optarg;
        switch_by_fd = 1;
        break;
      case 'g': datagram_socket = optarg; break;
      case 't': tap = optarg; break;
      case 'c': add(&vsock_out, optarg); break;
      case 'l': add(&vsock_in, optarg); break;
      case 'o': output_file = optarg; break;
      case 's': shutdown_after = (unsigned)strtoul(optarg, NULL, 10); break;
      case 'S':
      case 'O':
        serial_kinds[serials.count] = (char)opt;
        add(&serials, optarg);
        break;
      case 'P':
      case 'T':
        port_kinds[console_ports.count] = (char)opt;
        add(&console_ports, optarg);
        break;
      case 'D':
      case 'F':
      case '1':
        overlay_kinds[overlays.count] = (char)opt;
        add(&overlays, optarg);
        break;
      default: return 2;
    }
  }
  if (argc - optind < 2) {
    fprintf(stderr,
            "usage: chroot_runner ROOT [-w DIR] [-e K=V] [-p H:G] [-r ID=CUR:MAX] "
            "[-m MIB] -- PROGRAM [ARG...]\n");
    return 2;
  }
  const char* root = argv[optind];
  const char* program = argv[optind + 1];
  const char* const* args = (const char* const*)&argv[optind + 2];

  krun_set_log_level(KRUN_LOG_LEVEL_WARN);
  uint32_t ctx = (uint32_t)check(krun_create_ctx(), "krun_create_ctx");
  check(krun_set_vm_config(ctx, 1, ram_mib), "krun_set_vm_config");
  check(krun_set_root(ctx, root), "krun_set_root");
  if (workdir) check(krun_set_workdir(ctx, workdir), "krun_set_workdir");
  if (ports.count) check(krun_set_port_map(ctx, ports.items), "krun_set_port_map");
  if (switch_socket) {
    uint8_t mac[6] = {0x5a, 0x94, 0xef, 0x00, 0x00, 0x01};
    int fd = switch_by_fd ? connect_unix(switch_socket) : -1;
    check(krun_add_net_unixstream(ctx, switch_by_fd ? NULL : switch_socket, fd, mac,
                                  COMPAT_NET_FEATURES, 0),
          "krun_add_net_unixstream");
  }
  if (datagram_socket || tap) {
    uint8_t mac[6] = {0x5a, 0x94, 0xef, 0x00, 0x00, 0x02};
    if (datagram_socket)
      check(
          krun_add_net_unixgram(ctx, datagram_socket, -1, mac, COMPAT_NET_FEATURES, NET_FLAG_VFKIT),
          "krun_add_net_unixgram");
    else
      check(krun_add_net_tap(ctx, (char*)tap, mac, COMPAT_NET_FEATURES, 0), "krun_add_net_tap");
  }
  for (int i = 0; i < vsock_out.count; i++) {
    char* path;
    uint32_t port = split_port((char*)vsock_out.items[i], &path);
    check(krun_add_vsock_port2(ctx, port, path, false), "krun_add_vsock_port2");
  }
  for (int i = 0; i < vsock_in.count; i++) {
    char* path;
    uint32_t port = split_port((char*)vsock_in.items[i], &path);
    check(krun_add_vsock_port2(ctx, port, path, true), "krun_add_vsock_port2");
  }
  if (rlimits.count) check(krun_set_rlimits(ctx, rlimits.items), "krun_set_rlimits");
  check(krun_set_exec(ctx, program, args, env.items), "krun_set_exec");
  for (int i = 0; i < serials.count; i++) {
    if (serial_kinds[i] == 'S') {
      int fd = connect_unix(serials.items[i]);
      check(krun_add_serial_console_default(ctx, fd, fd), "krun_add_serial_console_default");
    } else {
      check(krun_add_serial_console_default(ctx, -1, open_output(serials.items[i])),
            "krun_add_serial_console_default");
    }
  }
  for (int i = 0; i < overlays.count; i++) {
    char* spec = (char*)overlays.items[i];
    if (overlay_kinds[i] == 'D') {
      check(krun_fs_add_overlay_dir(ctx, "/dev/root", spec, 040755), "krun_fs_add_overlay_dir");
      continue;
    }
    char* equals = strchr(spec, '=');
    if (!equals) {
      fprintf(stderr, "chroot_runner: -%c %s: expected PATH=TEXT\n", overlay_kinds[i], spec);
      return 2;
    }
    *equals = '\0';
    const char* text = equals + 1; /* argv outlives the VM, as libkrun requires */
    check(krun_fs_add_overlay_file(ctx, "/dev/root", spec, (const uint8_t*)text, strlen(text),
                                   0100644, overlay_kinds[i] == '1'),
          "krun_fs_add_overlay_file");
  }
  if (console_ports.count) {
    uint32_t console = (uint32_t)check(krun_add_virtio_console_multiport(ctx),
                                       "krun_add_virtio_console_multiport");
    for (int i = 0; i < console_ports.count; i++) {
      char* spec = (char*)console_ports.items[i];
      if (port_kinds[i] == 'T') {
        check(krun_add_console_port_tty(ctx, console, spec, open_tty_port(spec)),
              "krun_add_console_port_tty");
        continue;
      }
      char* colon = strchr(spec, ':');
      if (!colon) {
        fprintf(stderr, "chroot_runner: -P %s: expected NAME:SOCKET\n", spec);
        return 2;
      }
      *colon = '\0';
      int fd = connect_unix(colon + 1);
      check(krun_add_console_port_inout(ctx, console, spec, fd, fd), "krun_add_console_port_inout");
    }
  }
  if (output_file) {
    int fd = open_output(output_file);
    check(krun_disable_implicit_console(ctx), "krun_disable_implicit_console");
    check(krun_add_virtio_console_default(ctx, -1, fd, fd), "krun_add_virtio_console_default");
  }
  if (shutdown_after) {
    pthread_t writer;
    int fd = check(krun_get_shutdown_eventfd(ctx), "krun_get_shutdown_eventfd");
    pthread_create(&writer, NULL, write_shutdown_eventfd, (void*)(intptr_t)fd);
  }
  int32_t failed = krun_start_enter(ctx);
  fprintf(stderr, "chroot_runner: krun_start_enter: %s\n", strerror(-failed));
  return 1;
}
