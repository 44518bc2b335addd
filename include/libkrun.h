/*
 * libkrun.h: virtkit's libkrun-compatible C interface (libkrun.so.1).
 *
 * Programs written against libkrun's C API (krunvm, crun's krun handler,
 * ctypes users, ...) build against this header and run on virtkit's VMM
 * without source changes. Function names, parameter types and order, return
 * types and every constant's name and value follow libkrun 1.18 (the API
 * state at containers/libkrun commit 6ed74fac). The text is virtkit's own;
 * the comments describe the contract virtkit implements. docs/libkrun.md
 * lists, per function, what is implemented, what is accepted and ignored,
 * what is refused, and where virtkit differs from libkrun in ways a caller
 * can notice.
 *
 * Conventions shared by every function below:
 *  - A context is a numbered bag of settings. krun_create_ctx() hands out
 *    ids 0, 1, 2, ... (0 is a valid id); they are never reused.
 *  - Success is 0 (or a non-negative value where a function says so);
 *    failure is a negative errno value (-EINVAL, -ENOENT, ...). An id that
 *    names no live context gives -ENOENT.
 *  - Strings are NUL-terminated UTF-8. A NULL pointer where one is required
 *    gives -EINVAL (libkrun itself may crash on some of them; virtkit never
 *    does).
 *  - String arrays ("const char *const x[]") end at the first NULL entry and
 *    are read up to 4096 entries.
 *  - Every setter copies what it needs before returning; the caller may free
 *    its buffers afterwards (the one exception, krun_fs_add_overlay_file,
 *    says so).
 *  - Settings are only checked for coherence and host resources are only
 *    opened by krun_start_enter(), unless a function says otherwise.
 *
 * Linux on x86_64 only: the Windows handle variants of the console
 * functions in libkrun's header are not declared here.
 */
#ifndef VIRTKIT_LIBKRUN_H
#define VIRTKIT_LIBKRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defined by virtkit's header only: lets a program tell which implementation
 * it was compiled against. */
#define VIRTKIT_LIBKRUN 1

/* ------------------------------------------------------------------ logging */

#define KRUN_LOG_TARGET_DEFAULT -1

#define KRUN_LOG_LEVEL_OFF 0
#define KRUN_LOG_LEVEL_ERROR 1
#define KRUN_LOG_LEVEL_WARN 2
#define KRUN_LOG_LEVEL_INFO 3
#define KRUN_LOG_LEVEL_DEBUG 4
#define KRUN_LOG_LEVEL_TRACE 5

#define KRUN_LOG_STYLE_AUTO 0
#define KRUN_LOG_STYLE_ALWAYS 1
#define KRUN_LOG_STYLE_NEVER 2

#define KRUN_LOG_OPTION_NO_ENV 1

/*
 * Chooses how much the library reports on stderr: one of KRUN_LOG_LEVEL_*.
 * Values above KRUN_LOG_LEVEL_TRACE mean TRACE. May be called again (and
 * after krun_init_log()) to change the level. Returns 0.
 */
int32_t krun_set_log_level(uint32_t level);

/*
 * Sets up the library's log in one call.
 *   target_fd: KRUN_LOG_TARGET_DEFAULT (stderr), 1 (stdout), 2 (stderr) or
 *              any other open descriptor, which the library then owns and
 *              writes to until the process ends. 0 and values below -1 are
 *              refused with -EINVAL.
 *   level:     KRUN_LOG_LEVEL_*; above TRACE means TRACE.
 *   style:     KRUN_LOG_STYLE_* (colour: decided by whether the target is a
 *              terminal, always, never); anything else is -EINVAL.
 *   options:   0, or KRUN_LOG_OPTION_NO_ENV to ignore the environment
 *              (RUST_LOG, RUST_LOG_STYLE) that would otherwise override the
 *              level and style; other bits are -EINVAL.
 * Returns 0 or a negative errno.
 */
int32_t krun_init_log(int target_fd, uint32_t level, uint32_t style, uint32_t options);

/* ---------------------------------------------------------------- contexts */

/*
 * Makes a new, empty context (1 vCPU, 128 MiB, implicit console and vsock)
 * and returns its id (>= 0), or a negative errno.
 */
int32_t krun_create_ctx(void);

/* Forgets a context that was not started. 0, or -ENOENT. */
int32_t krun_free_ctx(uint32_t ctx_id);

/*
 * Sets the vCPU count and guest RAM in MiB. Zero for either is -EINVAL, as
 * is more vCPUs than krun_get_max_vcpus() reports.
 */
int32_t krun_set_vm_config(uint32_t ctx_id, uint8_t num_vcpus, uint32_t ram_mib);

/* ------------------------------------------------------- root file system */

/*
 * The virtio-fs tag that the guest mounts as "/". Adding a file system with
 * this tag through krun_add_virtiofs*() makes it the root.
 */
#define KRUN_FS_ROOT_TAG "/dev/root"

/*
 * Uses the host directory root_path as the guest's "/" (virtio-fs, tag
 * KRUN_FS_ROOT_TAG, writable). virtkit's guest agent boots from the kernel's
 * initramfs, so nothing is injected into the directory. A file
 * root_path/.krun_config.json is read at boot (see krun_set_exec()).
 */
int32_t krun_set_root(uint32_t ctx_id, const char* root_path);

/*
 * Legacy: attaches the raw image disk_path as a writable block device. It
 * does not make it the root file system. Calling again replaces the image.
 * Ignored at start when any krun_add_disk*() call was made. Together with
 * krun_set_data_disk(), the root image comes first (vda), the data image
 * second.
 */
int32_t krun_set_root_disk(uint32_t ctx_id, const char* disk_path);

/* Legacy: like krun_set_root_disk(), for the second ("data") image. */
int32_t krun_set_data_disk(uint32_t ctx_id, const char* disk_path);

/*
 * Attaches the raw image disk_path as the next virtio-blk device (vda, vdb,
 * ... in call order). block_id names the device in the library's messages.
 * read_only makes the device read-only for the guest (and lets an image the
 * caller cannot write be used). Do not mix with the legacy setters above.
 */
int32_t krun_add_disk(uint32_t ctx_id, const char* block_id, const char* disk_path, bool read_only);

/* Image formats for krun_add_disk2() and krun_add_disk3(). */
#define KRUN_DISK_FORMAT_RAW 0
#define KRUN_DISK_FORMAT_QCOW2 1
/* VMDK: flat or zero extents only, no delta links. */
#define KRUN_DISK_FORMAT_VMDK 2

/*
 * krun_add_disk() with an explicit image format. virtkit opens images as
 * RAW only: KRUN_DISK_FORMAT_QCOW2 and KRUN_DISK_FORMAT_VMDK give -ENOTSUP,
 * any other value -EINVAL. The format is never guessed from the file's
 * contents: a guest can write any bytes into a raw image, so a later probe
 * could be fooled into following references to other host files.
 */
int32_t krun_add_disk2(uint32_t ctx_id, const char* block_id, const char* disk_path,
                       uint32_t disk_format, bool read_only);

/* Flush handling for krun_add_disk3(). */
/* Flush requests are completed without syncing: data can be lost on a crash. */
#define KRUN_SYNC_NONE 0
/* Flushes are honoured; on Linux the same as KRUN_SYNC_FULL. */
#define KRUN_SYNC_RELAXED 1
/* Flushes reach stable storage (fdatasync). */
#define KRUN_SYNC_FULL 2

/*
 * krun_add_disk2() plus direct_io (open the image with O_DIRECT, bypassing
 * the host page cache) and sync_mode (one of KRUN_SYNC_*, else -EINVAL).
 */
int32_t krun_add_disk3(uint32_t ctx_id, const char* block_id, const char* disk_path,
                       uint32_t disk_format, bool read_only, bool direct_io, uint32_t sync_mode);

/*
 * Boots with a block device as "/" instead of a virtio-fs directory.
 *   device:  the guest device to mount, e.g. "/dev/vda" or "/dev/vda1"; it
 *            must come from an earlier krun_add_disk*() call.
 *   fstype:  file system type, or NULL / "auto" to try the types the guest
 *            kernel knows.
 *   options: comma-separated mount options, or NULL.
 * -EINVAL when no krun_add_disk*() call was made yet or a root was already
 * set (krun_set_root() or tag KRUN_FS_ROOT_TAG).
 */
int32_t krun_set_root_disk_remount(uint32_t ctx_id, const char* device, const char* fstype,
                                   const char* options);

/* Retired in libkrun: always returns -EINVAL. Use krun_add_virtiofs(). */
int32_t krun_set_mapped_volumes(uint32_t ctx_id, const char* const mapped_volumes[]);

/*
 * Shares the host directory c_path with the guest as a virtio-fs device
 * tagged c_tag (mount it with "mount -t virtiofs TAG DIR"). Writable.
 */
int32_t krun_add_virtiofs(uint32_t ctx_id, const char* c_tag, const char* c_path);

/*
 * krun_add_virtiofs() with a DAX window size in bytes. virtkit has no DAX
 * window: the size is accepted and ignored.
 */
int32_t krun_add_virtiofs2(uint32_t ctx_id, const char* c_tag, const char* c_path,
                           uint64_t shm_size);

/*
 * krun_add_virtiofs2() plus read_only: the guest cannot change anything in
 * the share. c_path NULL makes a share with no host directory behind it,
 * holding only what krun_fs_add_overlay_*() put there.
 */
int32_t krun_add_virtiofs3(uint32_t ctx_id, const char* c_tag, const char* c_path,
                           uint64_t shm_size, bool read_only);

/*
 * Adds a read-only file at path (relative to the share's top; "a/b" needs
 * directory "a" made by krun_fs_add_overlay_dir()) to the virtio-fs share
 * tagged fs_tag, which must already exist. The content is data[0..data_len)
 * and is NOT copied: it must stay valid while the VM runs. mode carries the
 * file type and permission bits (e.g. 0100644). one_shot: the name can be
 * looked up once, then it disappears.
 * -ENOENT for an unknown tag or missing parent, -ENOTDIR for a parent that
 * is a file, -EINVAL for empty components or NULL arguments.
 */
int32_t krun_fs_add_overlay_file(uint32_t ctx_id, const char* fs_tag, const char* path,
                                 const uint8_t* data, size_t data_len, uint32_t mode,
                                 bool one_shot);

/*
 * Adds an empty, read-only directory at path to the share fs_tag (a mount
 * point, or a parent for overlay files). Errors as for the file variant.
 */
int32_t krun_fs_add_overlay_dir(uint32_t ctx_id, const char* fs_tag, const char* path,
                                uint32_t mode);

/* ----------------------------------------------------------------- network */

/* Flags for krun_add_net_*(). */
/* unixgram path only: send the 4-byte "VFKT" greeting gvproxy expects in
 * vfkit mode right after connecting. */
#define NET_FLAG_VFKIT (1 << 0)
/* Have the guest configure eth0 by DHCP at boot. */
#define NET_FLAG_DHCP_CLIENT (1 << 1)

/* Feature bits for krun_add_vsock(). */
#define KRUN_TSI_HIJACK_INET (1 << 0)
#define KRUN_TSI_HIJACK_UNIX (1 << 1)

/* virtio-net feature bits (same numbers as Linux's uapi/linux/virtio_net.h)
 * that a caller may offer the guest through the "features" arguments. */
#define NET_FEATURE_CSUM (1 << 0)
#define NET_FEATURE_GUEST_CSUM (1 << 1)
#define NET_FEATURE_GUEST_TSO4 (1 << 7)
#define NET_FEATURE_GUEST_TSO6 (1 << 8)
#define NET_FEATURE_GUEST_UFO (1 << 10)
#define NET_FEATURE_HOST_TSO4 (1 << 11)
#define NET_FEATURE_HOST_TSO6 (1 << 12)
#define NET_FEATURE_HOST_UFO (1 << 14)

/* The feature set that krun_set_passt_fd() and krun_set_gvproxy_path() use. */
#define COMPAT_NET_FEATURES                                                                     \
  (NET_FEATURE_CSUM | NET_FEATURE_GUEST_CSUM | NET_FEATURE_GUEST_TSO4 | NET_FEATURE_GUEST_UFO | \
   NET_FEATURE_HOST_TSO4 | NET_FEATURE_HOST_UFO)

/*
 * Network model shared by the functions below. Each krun_add_net_*() call
 * adds one virtio-net interface; the guest names them eth0, eth1, ... in
 * call order. When a context has none, virtkit plugs the guest into a
 * private in-process LAN instead (DHCP, DNS, outbound TCP/UDP through host
 * sockets, and the ports of krun_set_port_map()); this stands in for
 * libkrun's TSI socket forwarding. Adding an interface turns that off.
 */

/*
 * Adds an interface whose Ethernet frames travel over a unix stream socket,
 * each frame preceded by its length as a 4-byte big-endian number (QEMU's
 * "stream" netdev framing, spoken by passt, gvproxy's qemu mode and
 * `vk switch`).
 *   c_path / fd: exactly one of them: a socket path to connect to (fd is
 *            then -1), or an already connected socket (c_path is then NULL),
 *            which the library owns from now on. Both or neither: -EINVAL.
 *   c_mac:   6 bytes, the guest's MAC address.
 *   features: NET_FEATURE_* bits offered to the guest; unknown bits -EINVAL.
 *   flags:   0 or NET_FLAG_DHCP_CLIENT; anything else (NET_FLAG_VFKIT
 *            included) is -EINVAL.
 * The path is connected by krun_start_enter().
 */
int32_t krun_add_net_unixstream(uint32_t ctx_id, const char* c_path, int fd, uint8_t* const c_mac,
                                uint32_t features, uint32_t flags);

/*
 * Adds an interface whose frames are datagrams on a unix datagram socket,
 * one frame per datagram (gvproxy's vfkit mode, vmnet-helper).
 *   c_path / fd: as for krun_add_net_unixstream(); with a path the library
 *            binds its own end to a fresh name in the temporary directory
 *            and connects it to c_path.
 *   flags:   NET_FLAG_VFKIT and/or NET_FLAG_DHCP_CLIENT; other bits
 *            -EINVAL. NET_FLAG_VFKIT only has an effect with a path.
 * Other arguments as for krun_add_net_unixstream().
 */
int32_t krun_add_net_unixgram(uint32_t ctx_id, const char* c_path, int fd, uint8_t* const c_mac,
                              uint32_t features, uint32_t flags);

/*
 * Adds an interface backed by the host tap device c_tap_name (opened
 * through /dev/net/tun by krun_start_enter(), which fails with the host's
 * error, typically -EPERM, when the caller may not use it).
 *   features: NET_FEATURE_* bits; asking for any GUEST_TSO4/GUEST_TSO6/
 *            GUEST_UFO without NET_FEATURE_GUEST_CSUM is -EINVAL.
 *   flags:   0 or NET_FLAG_DHCP_CLIENT, else -EINVAL.
 */
int32_t krun_add_net_tap(uint32_t ctx_id, char* c_tap_name, uint8_t* const c_mac, uint32_t features,
                         uint32_t flags);

/*
 * Legacy single-interface setup: one unixstream interface on the connected
 * socket fd (e.g. from passt --fd), with COMPAT_NET_FEATURES and the MAC of
 * krun_set_net_mac() (default 5a:94:ef:e4:0c:ee). It is added after any
 * krun_add_net_*() interfaces when the VM starts. fd < 0 is -EINVAL, so is
 * calling this after krun_add_net_*().
 */
int32_t krun_set_passt_fd(uint32_t ctx_id, int fd);

/*
 * Legacy single-interface setup: one unixgram interface to gvproxy's
 * vfkit-mode socket at c_path (the "VFKT" greeting is sent), with
 * COMPAT_NET_FEATURES and the MAC of krun_set_net_mac(). -EINVAL after
 * krun_add_net_*().
 */
int32_t krun_set_gvproxy_path(uint32_t ctx_id, char* c_path);

/* MAC address (6 bytes) for the legacy passt/gvproxy interface. */
int32_t krun_set_net_mac(uint32_t ctx_id, uint8_t* const c_mac);

/*
 * Publishes guest TCP ports on the host. Each entry is "HOST_PORT:GUEST_PORT"
 * (decimal, 0-65535); a guest port or a host port listed twice, or any other
 * shape, is -EINVAL. In virtkit the host side listens on 127.0.0.1:HOST_PORT
 * from the moment the VM starts and forwards each connection to the guest's
 * GUEST_PORT over the in-process LAN; only listed ports are published.
 * Applies only when the guest uses that LAN (no krun_add_net_*() interface):
 * after krun_add_net_*() this is -EINVAL; set before one, it is ignored.
 * -ENODEV after krun_disable_implicit_vsock(). NULL clears the list.
 */
int32_t krun_set_port_map(uint32_t ctx_id, const char* const port_map[]);

/* -------------------------------------------------------- graphics, input */

/* virglrenderer flags (values as in virglrenderer's own header). */
#define VIRGLRENDERER_USE_EGL (1 << 0)
#define VIRGLRENDERER_THREAD_SYNC (1 << 1)
#define VIRGLRENDERER_USE_GLX (1 << 2)
#define VIRGLRENDERER_USE_SURFACELESS (1 << 3)
#define VIRGLRENDERER_USE_GLES (1 << 4)
#define VIRGLRENDERER_USE_EXTERNAL_BLOB (1 << 5)
#define VIRGLRENDERER_VENUS (1 << 6)
#define VIRGLRENDERER_NO_VIRGL (1 << 7)
#define VIRGLRENDERER_USE_ASYNC_FENCE_CB (1 << 8)
#define VIRGLRENDERER_RENDER_SERVER (1 << 9)
#define VIRGLRENDERER_DRM (1 << 10)

/*
 * Would add a virtio-gpu device. virtkit has no GPU: the call is checked
 * (-ENOENT for an unknown context), then ignored, and returns 0, as libkrun
 * built without GPU support does.
 */
int32_t krun_set_gpu_options(uint32_t ctx_id, uint32_t virgl_flags);

/* As krun_set_gpu_options(), with a host window size; also ignored. */
int32_t krun_set_gpu_options2(uint32_t ctx_id, uint32_t virgl_flags, uint64_t shm_size);

/* Most displays a context could have (virtio-gpu's scanout limit). */
#define KRUN_MAX_DISPLAYS 16

/* Would add a display and return its id. virtkit: -ENOTSUP. */
int32_t krun_add_display(uint32_t ctx_id, uint32_t width, uint32_t height);

/* Would give a display a caller-made EDID blob. virtkit: -ENOTSUP. */
int32_t krun_display_set_edid(uint32_t ctx_id, uint32_t display_id, const uint8_t* edid_blob,
                              size_t blob_size);

/* Would set the DPI reported for a display. virtkit: -ENOTSUP. */
int32_t krun_display_set_dpi(uint32_t ctx_id, uint32_t display_id, uint32_t dpi);

/* Would set a display's physical size in mm. virtkit: -ENOTSUP. */
int32_t krun_display_set_physical_size(uint32_t ctx_id, uint32_t display_id, uint16_t width_mm,
                                       uint16_t height_mm);

/* Would set a display's refresh rate in Hz. virtkit: -ENOTSUP. */
int32_t krun_display_set_refresh_rate(uint32_t ctx_id, uint32_t display_id, uint32_t refresh_rate);

/*
 * Would install a display backend (a struct krun_display_backend from
 * libkrun's libkrun_display.h, which virtkit does not ship) of
 * backend_size bytes. virtkit: -ENOTSUP.
 */
int32_t krun_set_display_backend(uint32_t ctx_id, const void* display_backend, size_t backend_size);

/*
 * Would add a virtio-input device driven by caller callbacks (structs from
 * libkrun's libkrun_input.h). virtkit: -ENOTSUP.
 */
int krun_add_input_device(uint32_t ctx_id, const void* config_backend, size_t config_backend_size,
                          const void* events_backend, size_t events_backend_size);

/* Would pass a host /dev/input/eventN descriptor through. virtkit: -ENOTSUP. */
int krun_add_input_device_fd(uint32_t ctx_id, int input_fd);

/* ------------------------------------------------------ vhost-user devices */

/* Device types for krun_add_vhost_user_device() (virtio device ids). */
#define KRUN_VIRTIO_DEVICE_CONSOLE 3
#define KRUN_VIRTIO_DEVICE_RNG 4
#define KRUN_VIRTIO_DEVICE_RTC 17
#define KRUN_VIRTIO_DEVICE_INPUT 18
#define KRUN_VIRTIO_DEVICE_VSOCK 19
#define KRUN_VIRTIO_DEVICE_SND 25
#define KRUN_VIRTIO_DEVICE_CAN 36

/* Default queue counts and sizes per device type. The *_QUEUE_SIZES macros
 * expand to a uint16_t array (a compound literal in C, a static array in
 * C++, where compound-literal arrays cannot be passed to a function). */
#define KRUN_VHOST_USER_CONSOLE_NUM_QUEUES 4
#define KRUN_VHOST_USER_RNG_NUM_QUEUES 1
#define KRUN_VHOST_USER_RTC_NUM_QUEUES 2
#define KRUN_VHOST_USER_INPUT_NUM_QUEUES 2
#define KRUN_VHOST_USER_SND_NUM_QUEUES 4
#define KRUN_VHOST_USER_VSOCK_NUM_QUEUES 3
#define KRUN_VHOST_USER_CAN_NUM_QUEUES 3

#ifdef __cplusplus
static const uint16_t virtkit_krun_console_queue_sizes_[] = {128, 128, 64, 64};
static const uint16_t virtkit_krun_rng_queue_sizes_[] = {256};
static const uint16_t virtkit_krun_rtc_queue_sizes_[] = {1024, 1024};
static const uint16_t virtkit_krun_input_queue_sizes_[] = {1024, 1024};
static const uint16_t virtkit_krun_snd_queue_sizes_[] = {64, 64, 64, 64};
static const uint16_t virtkit_krun_vsock_queue_sizes_[] = {128, 128, 128};
static const uint16_t virtkit_krun_can_queue_sizes_[] = {64, 64, 64};
#define KRUN_VHOST_USER_CONSOLE_QUEUE_SIZES (virtkit_krun_console_queue_sizes_)
#define KRUN_VHOST_USER_RNG_QUEUE_SIZES (virtkit_krun_rng_queue_sizes_)
#define KRUN_VHOST_USER_RTC_QUEUE_SIZES (virtkit_krun_rtc_queue_sizes_)
#define KRUN_VHOST_USER_INPUT_QUEUE_SIZES (virtkit_krun_input_queue_sizes_)
#define KRUN_VHOST_USER_SND_QUEUE_SIZES (virtkit_krun_snd_queue_sizes_)
#define KRUN_VHOST_USER_VSOCK_QUEUE_SIZES (virtkit_krun_vsock_queue_sizes_)
#define KRUN_VHOST_USER_CAN_QUEUE_SIZES (virtkit_krun_can_queue_sizes_)
#else
#define KRUN_VHOST_USER_CONSOLE_QUEUE_SIZES ((uint16_t[]){128, 128, 64, 64})
#define KRUN_VHOST_USER_RNG_QUEUE_SIZES ((uint16_t[]){256})
#define KRUN_VHOST_USER_RTC_QUEUE_SIZES ((uint16_t[]){1024, 1024})
#define KRUN_VHOST_USER_INPUT_QUEUE_SIZES ((uint16_t[]){1024, 1024})
#define KRUN_VHOST_USER_SND_QUEUE_SIZES ((uint16_t[]){64, 64, 64, 64})
#define KRUN_VHOST_USER_VSOCK_QUEUE_SIZES ((uint16_t[]){128, 128, 128})
#define KRUN_VHOST_USER_CAN_QUEUE_SIZES ((uint16_t[]){64, 64, 64})
#endif

/*
 * Would attach a device served by an external vhost-user backend at
 * socket_path. virtkit: -ENOTSUP (as libkrun built without vhost-user).
 */
int32_t krun_add_vhost_user_device(uint32_t ctx_id, uint32_t device_type, const char* socket_path,
                                   const char* name, uint16_t num_queues,
                                   const uint16_t* queue_sizes);

/* ---------------------------------------------------------------- workload */

/*
 * Resource limits set in the guest before the workload starts (and
 * inherited by it). Each entry is "ID=CUR:MAX": ID is the numeric Linux
 * RLIMIT_* number (e.g. "7=1024:4096" for RLIMIT_NOFILE), CUR and MAX
 * decimal; 18446744073709551615 means unlimited. ("ID:CUR:MAX" is accepted
 * too.) Malformed entries are skipped in the guest with a message on the
 * console, as libkrun does. NULL is -EINVAL. Replaces an earlier list.
 */
int32_t krun_set_rlimits(uint32_t ctx_id, const char* const rlimits[]);

/*
 * Would set SMBIOS OEM strings (type 11) for the guest firmware tables.
 * virtkit checks the array (NULL is -EINVAL) and ignores it.
 */
int32_t krun_set_smbios_oem_strings(uint32_t ctx_id, const char* const oem_strings[]);

/*
 * The workload's working directory, a guest path. If it cannot be entered
 * the process exits with status 125.
 */
int32_t krun_set_workdir(uint32_t ctx_id, const char* workdir_path);

/*
 * What the guest runs.
 *   exec_path: the program, a guest path; without a '/' it is looked up in
 *              the workload's PATH.
 *   argv:      the ARGUMENTS only, NULL-terminated: the program gets
 *              exec_path as argv[0] followed by these. NULL means none.
 *   envp:      the workload's environment, "NAME=value" strings; NULL
 *              copies the calling process's whole environment.
 * Replaces any earlier krun_set_exec()/krun_set_env() environment.
 * Without krun_set_exec() the command comes from /.krun_config.json in the
 * root (Entrypoint + Cmd), else /bin/sh runs. The workload's environment
 * also gets that file's Env entries for names not already set (HOME and TERM
 * from the file always win), HOME=/ and TERM=linux when still unset, and
 * the guest hostname comes from HOSTNAME (default "localhost").
 */
int32_t krun_set_exec(uint32_t ctx_id, const char* exec_path, const char* const argv[],
                      const char* const envp[]);

/*
 * Replaces the workload's environment only (same rules as krun_set_exec()'s
 * envp, NULL copies the caller's environment).
 */
int32_t krun_set_env(uint32_t ctx_id, const char* const envp[]);

/* Firmware (e.g. EFI) instead of a kernel. virtkit: -ENOTSUP. */
int32_t krun_set_firmware(uint32_t ctx_id, const char* firmware_path);

/* Kernel image formats for krun_set_kernel(). */
#define KRUN_KERNEL_FORMAT_RAW 0
#define KRUN_KERNEL_FORMAT_ELF 1
#define KRUN_KERNEL_FORMAT_PE_GZ 2
#define KRUN_KERNEL_FORMAT_IMAGE_BZ2 3
#define KRUN_KERNEL_FORMAT_IMAGE_GZ 4
#define KRUN_KERNEL_FORMAT_IMAGE_ZSTD 5

/*
 * Boots the host kernel file kernel_path instead of virtkit's built-in one.
 *   kernel_format: KRUN_KERNEL_FORMAT_ELF (an uncompressed vmlinux, entered
 *              through its PVH note when it has one), IMAGE_GZ / IMAGE_BZ2 /
 *              IMAGE_ZSTD (such a vmlinux compressed with gzip, bzip2 or
 *              zstd). RAW is accepted for a bzImage. PE_GZ (an arm64 format)
 *              and unknown values are -EINVAL; the file is checked when the
 *              VM starts.
 *   initramfs: a host file loaded as the initial ramdisk, or NULL. It must
 *              exist now (-EINVAL otherwise). virtkit adds its guest agent
 *              to it, so the agent still runs the workload.
 *   cmdline:   kernel command line, or NULL for virtkit's default; the
 *              library appends its own words (devices, agent settings).
 */
int32_t krun_set_kernel(uint32_t ctx_id, const char* kernel_path, uint32_t kernel_format,
                        const char* initramfs, const char* cmdline);

/* Confidential-computing (SEV/TDX) settings file. virtkit: -ENOTSUP. */
int32_t krun_set_tee_config_file(uint32_t ctx_id, const char* filepath);

/* ------------------------------------------------------------------- vsock */

/*
 * Connects guest vsock port "port" to the host unix socket c_filepath:
 * when a guest program connects to the host (CID 2) on that port, the
 * library connects to c_filepath (a host program listens there) and relays
 * bytes both ways. Same as krun_add_vsock_port2(..., false).
 */
int32_t krun_add_vsock_port(uint32_t ctx_id, uint32_t port, const char* c_filepath);

/*
 * As krun_add_vsock_port() when listen is false. When listen is true the
 * direction reverses: the library creates a listening unix socket at
 * c_filepath once the guest's vsock driver is up, and each host connection
 * there is relayed to a guest program listening on vsock "port" (guest
 * CID 3). With listen true, an existing c_filepath is -EEXIST. A later call
 * for the same port replaces the earlier one. -ENODEV after
 * krun_disable_implicit_vsock() unless krun_add_vsock() re-added a device.
 */
int32_t krun_add_vsock_port2(uint32_t ctx_id, uint32_t port, const char* c_filepath, bool listen);

/*
 * Adds the vsock device explicitly, after krun_disable_implicit_vsock()
 * (otherwise -EEXIST; a second call is -EEXIST too). tsi_features:
 * 0 (plain vsock), or KRUN_TSI_HIJACK_INET, which virtkit honours by
 * giving the guest its in-process LAN when no krun_add_net_*() interface is
 * configured. KRUN_TSI_HIJACK_UNIX is -ENOTSUP; unknown bits -EINVAL.
 */
int32_t krun_add_vsock(uint32_t ctx_id, uint32_t tsi_features);

/*
 * No vsock device for this VM unless krun_add_vsock() adds one. Port maps
 * and vsock ports are then refused (-ENODEV). virtkit's own host-guest
 * channel does not depend on this device and keeps working.
 */
int32_t krun_disable_implicit_vsock(uint32_t ctx_id);

/*
 * Returns an eventfd (owned by the context; one per context, the same
 * number on every call) that asks the guest to shut down when anything
 * writes a non-zero count to it while the VM runs: the workload gets
 * SIGTERM, then SIGKILL after 10 seconds, and the process exits with the
 * workload's status as usual. Call before krun_start_enter(). (libkrun on
 * Linux returns -EINVAL here; see docs/libkrun.md.)
 */
int32_t krun_get_shutdown_eventfd(uint32_t ctx_id);

/* --------------------------------------------------------------- consoles */

/*
 * The implicit console (hvc0) ignores stdin and writes everything the guest
 * prints on it (kernel messages and the workload's output) to the host file
 * c_filepath, created or truncated at start. No effect once the implicit
 * console is disabled, and none on consoles added by the functions below.
 * A second call is -EINVAL.
 */
int32_t krun_set_console_output(uint32_t ctx_id, const char* c_filepath);

/*
 * Puts the process under group id gid (setgid) just before the VM is built,
 * after disk images are opened, so a privileged caller can hand the VM
 * devices it could not open afterwards. A failing setgid makes
 * krun_start_enter() return its negative errno.
 */
int32_t krun_setgid(uint32_t ctx_id, gid_t gid);

/* As krun_setgid() for the user id (applied after the group id). */
int32_t krun_setuid(uint32_t ctx_id, uid_t uid);

/*
 * Would expose hardware virtualization to the guest. Recorded and ignored
 * (libkrun on Linux ignores it too). Returns 0.
 */
int32_t krun_set_nested_virt(uint32_t ctx_id, bool enabled);

/*
 * 1 when the host's KVM module allows nested guests
 * (/sys/module/kvm_intel/parameters/nested or the kvm_amd one reads "1" or
 * "Y"), 0 otherwise.
 */
int32_t krun_check_nested_virt(void);

/* Feature numbers for krun_has_feature(). */
#define KRUN_FEATURE_NET 0
#define KRUN_FEATURE_BLK 1
#define KRUN_FEATURE_GPU 2
#define KRUN_FEATURE_INPUT 4
#define KRUN_FEATURE_TEE 6
#define KRUN_FEATURE_AMD_SEV 7
#define KRUN_FEATURE_INTEL_TDX 8
#define KRUN_FEATURE_AWS_NITRO 9
#define KRUN_FEATURE_VIRGL_RESOURCE_MAP2 10
#define KRUN_FEATURE_INIT_BLOB 11

/*
 * 1 if this library provides the feature, 0 if not, -EINVAL for a number
 * it does not know. virtkit: NET and BLK are 1, the rest 0.
 */
int32_t krun_has_feature(uint64_t feature);

/*
 * The largest vCPU count krun_set_vm_config() accepts on this host (KVM's
 * limit, capped by virtkit's own), or -EINVAL when /dev/kvm cannot be used.
 */
int32_t krun_get_max_vcpus(void);

/*
 * Split irqchip (the IOAPIC in user space). virtkit always uses the
 * in-kernel irqchip: recorded and ignored. Returns 0.
 */
int32_t krun_split_irqchip(uint32_t ctx_id, bool enable);

/*
 * No implicit console: the guest gets only the consoles added with the
 * functions below, and the workload's stdio goes where they say.
 */
int32_t krun_disable_implicit_console(uint32_t ctx_id);

/*
 * libkrun would stop injecting its init program into the root. virtkit
 * injects nothing (its agent lives in the initramfs): returns 0 and changes
 * nothing, as libkrun built without its init blob does.
 */
int32_t krun_disable_implicit_init(uint32_t ctx_id);

/*
 * Would hand out libkrun's built-in init program. virtkit has none and
 * always returns -ENOTSUP (as libkrun built without its init blob does).
 */
int32_t krun_get_default_init(const uint8_t** data_out, size_t* len_out);

/*
 * Replaces the "console=" word of the guest kernel command line with
 * console=console_id (e.g. "ttyS0" or "hvc1").
 */
int32_t krun_set_kernel_console(uint32_t ctx_id, const char* console_id);

/*
 * Adds a virtio-console device wired to three host descriptors (the next
 * hvcN: hvc1 when the implicit console exists). A descriptor that is a
 * terminal becomes the console port (put in raw mode while the VM runs);
 * each one that is not becomes its own port named "krun-stdin",
 * "krun-stdout" or "krun-stderr", and the workload's matching stdio is
 * connected to it. -1 leaves that stream out. The library duplicates the
 * descriptors at start; the caller keeps its own.
 */
int32_t krun_add_virtio_console_default(uint32_t ctx_id, int input_fd, int output_fd, int err_fd);

/*
 * Adds a legacy 8250 serial port (ttyS0, ttyS1, ... in call order) reading
 * input_fd and writing output_fd; a terminal is put in raw mode.
 */
int32_t krun_add_serial_console_default(uint32_t ctx_id, int input_fd, int output_fd);

/*
 * Adds an empty multi-port virtio-console device and returns its console
 * id (>= 0) for krun_add_console_port_*(). Its port 0 is /dev/hvcN in the
 * guest; further ports are /dev/vportNpM.
 */
int32_t krun_add_virtio_console_multiport(uint32_t ctx_id);

/*
 * Adds a console port backed by the terminal tty_fd (input and output, and
 * the window size). name (may be NULL or "") lets guest programs find the
 * port under /sys/class/virtio-ports. -ENOTTY when tty_fd is not a
 * terminal, -EINVAL for fd < 0 or a console_id not made by
 * krun_add_virtio_console_multiport().
 */
int32_t krun_add_console_port_tty(uint32_t ctx_id, uint32_t console_id, const char* name,
                                  int tty_fd);

/*
 * Adds a plain data port: the guest reads what arrives on input_fd and
 * what it writes goes to output_fd. No terminal features. -EINVAL for a
 * console_id not made by krun_add_virtio_console_multiport().
 */
int32_t krun_add_console_port_inout(uint32_t ctx_id, uint32_t console_id, const char* name,
                                    int input_fd, int output_fd);

/* ------------------------------------------------------------------- start */

/*
 * Builds the VM from the context and runs it in the calling process. The
 * context is used up by the call, whether it succeeds or not.
 *
 * On success it never returns: when the guest workload ends, the process
 * leaves through _exit() (no atexit handlers, no stdio flush) with the
 * workload's status: its exit code, or 128 + the signal number that killed
 * it. The guest reports 125 when it cannot prepare the workload (e.g. the
 * working directory is missing), 126 when the program exists but cannot be
 * executed, 127 when it does not exist. A terminal on stdin/stdout is put
 * back in its original mode first.
 *
 * On a configuration or host error nothing is started and a negative errno
 * comes back: -ENOENT for an unknown context, -EINVAL for an incoherent or
 * unusable configuration, or the host's error for a resource that cannot
 * be opened (a disk image, a socket, a tap device, setuid/setgid).
 */
int32_t krun_start_enter(uint32_t ctx_id);

#ifdef __cplusplus
}
#endif

#endif /* VIRTKIT_LIBKRUN_H */
