/* A guest program for the libkrun vsock test (static, copied into the root):
 *   vsock_peer connect PORT MESSAGE   connect to the host (CID 2) on PORT,
 *                                     send MESSAGE and a newline, print the
 *                                     line that comes back
 *   vsock_peer serve PORT REPLY       listen on PORT, touch /tmp/vsock-ready,
 *                                     take one connection, print its line and
 *                                     answer REPLY and a newline
 * Exits 0 when the exchange worked, 1 (with the reason) when not. */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "vsock_peer: %s: %s\n", what, strerror(errno));
  return 1;
}

/* Reads up to a newline (not kept); returns the length or -1. */
static int read_line(int fd, char* line, size_t size) {
  size_t used = 0;
  while (used + 1 < size) {
    ssize_t got = read(fd, line + used, 1);
    if (got <= 0) return -1;
    if (line[used] == '\n') break;
    used++;
  }
  line[used] = '\0';
  return (int)used;
}

static int send_line(int fd, const char* text) {
  size_t length = strlen(text);
  return write(fd, text, length) == (ssize_t)length && write(fd, "\n", 1) == 1 ? 0 : -1;
}

static int exchange_as_client(unsigned port, const char* message) {
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  struct sockaddr_vm address = {
      .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port};
  if (fd < 0) return fail("socket");
  if (connect(fd, (struct sockaddr*)&address, sizeof(address)) < 0) return fail("connect");
  char line[256];
  if (send_line(fd, message) < 0) return fail("write");
  if (read_line(fd, line, sizeof(line)) < 0) return fail("read the host's answer");
  printf("host said: %s\n", line);
  close(fd);
  return 0;
}

static int exchange_as_server(unsigned port, const char* reply) {
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  struct sockaddr_vm address = {
      .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
  if (fd < 0) return fail("socket");
  if (bind(fd, (struct sockaddr*)&address, sizeof(address)) < 0) return fail("bind");
  if (listen(fd, 1) < 0) return fail("listen");
  FILE* ready = fopen("/tmp/vsock-ready", "w");
  if (ready) fclose(ready);
  int client = accept(fd, NULL, NULL);
  if (client < 0) return fail("accept");
  char line[256];
  if (read_line(client, line, sizeof(line)) < 0) return fail("read the host's line");
  printf("host sent: %s\n", line);
  if (send_line(client, reply) < 0) return fail("write");
  close(client);
  close(fd);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: vsock_peer connect|serve PORT TEXT\n");
    return 2;
  }
  unsigned port = (unsigned)strtoul(argv[2], NULL, 10);
  if (strcmp(argv[1], "connect") == 0) return exchange_as_client(port, argv[3]);
  if (strcmp(argv[1], "serve") == 0) return exchange_as_server(port, argv[3]);
  fprintf(stderr, "vsock_peer: %s: expected connect or serve\n", argv[1]);
  return 2;
}
