#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzzers whose inputs are binary
structures (python3 fuzz/make_seeds.py; rerun after changing an input
format). Each seed is a valid or deliberately hostile instance of what the
target's comment describes, so fuzzing starts past the parsers' first
checks. Seeds libFuzzer found itself (hex names) are kept beside these."""

import gzip
import io
import lzma
import os
import struct
import tarfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def checksum(data):  # RFC 1071
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(proto, payload, src="10.0.2.15", dst="93.184.216.34", frag=0x4000, options=b""):
    ihl = 5 + len(options) // 4
    addr = lambda s: bytes(int(x) for x in s.split("."))
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(payload), 0x1234,
                         frag, 64, proto, 0, addr(src), addr(dst)) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def tcp(flags, payload=b"", sport=40000, dport=443):
    # The checksum is left zero: BuildRejection answers on the headers alone.
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags, 64240, 0, 0) + payload


def udp(payload, sport=5353, dport=53):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(kind, code, rest):
    body = struct.pack("!BBH", kind, code, 0) + rest
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def reject():
    t = "reject_fuzzer"
    write(t, "tcp_syn", ipv4(6, tcp(0x02)))
    write(t, "tcp_ack_data", ipv4(6, tcp(0x18, b"GET / HTTP/1.1\r\n\r\n")))
    write(t, "tcp_fin", ipv4(6, tcp(0x11)))
    write(t, "tcp_rst", ipv4(6, tcp(0x04)))  # never answered
    write(t, "udp_dns", ipv4(17, udp(dns_query(b"example.com"))))
    write(t, "icmp_echo", ipv4(1, icmp(8, 0, b"\x00\x01\x00\x01" + b"ping" * 8)))
    inner = ipv4(6, tcp(0x02))[:28]
    write(t, "icmp_error", ipv4(1, icmp(3, 3, b"\0\0\0\0" + inner)))  # never answered
    write(t, "fragment_later", ipv4(17, udp(b"x" * 16), frag=0x00B9))  # never answered
    write(t, "fragment_first", ipv4(17, udp(b"x" * 16), frag=0x2000))
    write(t, "ip_options", ipv4(17, udp(b"hi"), options=b"\x94\x04\x00\x00"))
    write(t, "gre", ipv4(47, b"\x00\x00\x08\x00" + b"\0" * 20))


def dns_name(name):
    return b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\0"


def dns_query(name, qtype=1, ident=0x1234):
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack(
        "!HH", qtype, 1)


def dns_tcp_stream():
    t = "dns_tcp_stream_fuzzer"
    framed = lambda m: struct.pack("!H", len(m)) + m
    one = framed(dns_query(b"example.com"))
    two = framed(dns_query(b"web.lan", ident=1)) + framed(dns_query(b"example.org", 28, 2))
    write(t, "one_query", b"\xff" + one)
    write(t, "one_byte_segments", b"\x00" + one)
    write(t, "pipelined_odd_segments", b"\x05" + two)
    write(t, "partial_prefix", b"\x03" + one + b"\x00")
    write(t, "partial_message", b"\x07" + one + struct.pack("!H", 40) + b"\x12\x34")
    write(t, "zero_length", b"\x10" + one + b"\x00\x00" + one)
    write(t, "large_message", b"\xff" + framed(dns_query(b"a" * 63 + b"." + b"b" * 63) + b"\0" * 900))


def tar_bytes(members, fmt=tarfile.PAX_FORMAT):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, data in members:
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def entry(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644, pax=None):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, mode
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    if pax:
        info.pax_headers = pax
    return info, data if kind == tarfile.REGTYPE else None


def tar_entry():
    t = "tar_entry_fuzzer"
    gz = lambda b: gzip.compress(b, mtime=0)
    layer = tar_bytes([
        entry("etc/", tarfile.DIRTYPE, mode=0o755),
        entry("etc/hostname", data=b"vm\n"),
        entry("bin/", tarfile.DIRTYPE, mode=0o755),
        entry("bin/busybox", data=b"\x7fELF" + b"\0" * 60, mode=0o755),
        entry("bin/sh", tarfile.SYMTYPE, link="busybox"),
        entry("bin/ls", tarfile.LNKTYPE, link="bin/busybox"),
    ])
    write(t, "layer.tar", layer)
    write(t, "layer.tar.gz", gz(layer))
    write(t, "layer.tar.xz", lzma.compress(layer))
    write(t, "whiteouts.tar.gz", gz(tar_bytes([
        entry("etc/", tarfile.DIRTYPE, mode=0o755),
        entry("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"),
        entry("etc/.wh.passwd"),
        entry("var/", tarfile.DIRTYPE, mode=0o755),
        entry("var/.wh..wh..opq"),
        entry("var/log", data=b"x"),
        entry(".wh.etc"),
    ])))
    write(t, "hostile_paths.tar.gz", gz(tar_bytes([
        entry("../escape", data=b"x"),
        entry("/abs/file", data=b"x"),
        entry("a/./b/../../../c", data=b"x"),
        entry("link", tarfile.SYMTYPE, link="/etc/passwd"),
        entry("link/through", data=b"x"),
        entry("hard", tarfile.LNKTYPE, link="../../etc/shadow"),
        entry("hard2", tarfile.LNKTYPE, link="missing"),
    ])))
    write(t, "special_files.tar.gz", gz(tar_bytes([
        entry("dev/", tarfile.DIRTYPE, mode=0o755),
        entry("dev/null", tarfile.CHRTYPE, mode=0o666),
        entry("dev/loop0", tarfile.BLKTYPE, mode=0o660),
        entry("run/fifo", tarfile.FIFOTYPE),
        entry("usr/bin/su", data=b"x", mode=0o4755),
        entry("file", data=b"old"),
        entry("file", data=b"replaced"),
        entry("file", tarfile.DIRTYPE, mode=0o700),
    ])))
    long_name = "d" * 120 + "/" + "f" * 120
    write(t, "gnu_long_names.tar.gz", gz(tar_bytes([
        entry(long_name, data=b"long"),
        entry("l", tarfile.SYMTYPE, link=long_name),
    ], fmt=tarfile.GNU_FORMAT)))
    write(t, "pax_xattrs.tar.gz", gz(tar_bytes([
        entry("cap", data=b"x", pax={"SCHILY.xattr.security.capability": "\x01\x00\x00\x02",
                                     "SCHILY.xattr.user.note": "hi", "path": "renamed"}),
    ])))


# virtio 1.2 §2.7.5: a split-ring descriptor (addr, len, flags, next).
NEXT, WRITE, INDIRECT = 1, 2, 4


def descriptor(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def virtqueue_input(flags, published, table, avail_flags=0, used_event=0):
    # Layout of FakeVirtqueue(16) in the fuzzer: 16 descriptors, then the
    # avail ring (flags, idx, 16 heads, used_event). Heads come from the
    # input bytes 2.. (descriptor 0's address), so that address is chosen to
    # name the intended heads and still lie inside the 64 KiB guest.
    descs = b"".join(table.get(i, descriptor(0, 0)) for i in range(16))
    avail = struct.pack("<HH", avail_flags, 0) + b"\0" * 32 + struct.pack("<H", used_event)
    return bytes([flags, published]) + descs + avail


def virtqueue():
    t = "virtqueue_fuzzer"
    write(t, "read_then_write", virtqueue_input(0, 1, {
        0: descriptor(0x2000, 64, NEXT, 1), 1: descriptor(0x3000, 256, WRITE)}))
    # Descriptor 0 points at descriptors 8-9 as its indirect table.
    write(t, "indirect", virtqueue_input(2, 1, {
        0: descriptor(0x1080, 32, INDIRECT), 8: descriptor(0x2000, 64, NEXT, 1),
        9: descriptor(0x3000, 128, WRITE)}))
    # Heads 12, 8, 0 (address 0x200c), event index on.
    write(t, "three_chains_event_idx", virtqueue_input(1, 3, {
        0: descriptor(0x200C, 10), 8: descriptor(0x6000, 16, NEXT, 9),
        9: descriptor(0x6100, 200, WRITE), 12: descriptor(0x5000, 100)}, used_event=1))
    write(t, "loop", virtqueue_input(0, 1, {
        0: descriptor(0x2000, 8, NEXT, 1), 1: descriptor(0x2100, 8, NEXT, 0)}))
    write(t, "long_chain", virtqueue_input(0, 1, {
        i: descriptor(0x2000 + 0x100 * i, 16, NEXT | (WRITE if i > 7 else 0), i + 1)
        for i in range(15)} | {15: descriptor(0x3000, 16, WRITE)}))
    write(t, "outside_memory", virtqueue_input(0, 1, {
        0: descriptor(0xFFF0, 64, NEXT, 1), 1: descriptor(0x1_0000_0000, 8, WRITE)}))
    write(t, "write_before_read", virtqueue_input(3, 1, {
        0: descriptor(0x2000, 16, WRITE | NEXT, 1), 1: descriptor(0x3000, 16)}))


def vsock_packet(op, src_port=5000, dst_port=1024, payload=b"", flags=0, vtype=1,
                 buf_alloc=65536, fwd_cnt=0, src_cid=3, dst_cid=2):
    # virtio 1.2 §5.10.6. The fuzzer takes min(rest, last header byte % 64)
    # payload bytes, so fwd_cnt's top byte carries the payload length.
    assert len(payload) < 64
    fwd_cnt = (fwd_cnt & 0xFFFFFF) | len(payload) << 24
    return struct.pack("<QQIIIHHIII", src_cid, dst_cid, src_port, dst_port, len(payload), vtype,
                       op, flags, buf_alloc, fwd_cnt) + payload


def vsock():
    t = "vsock_packet_fuzzer"
    REQUEST, RESPONSE, RST, SHUTDOWN, RW, UPDATE, CREDIT = range(1, 8)
    write(t, "request", vsock_packet(REQUEST))
    write(t, "connection_lifetime", b"".join([
        vsock_packet(REQUEST), vsock_packet(RW, payload=b"hello host"),
        vsock_packet(CREDIT), vsock_packet(UPDATE, fwd_cnt=10),
        vsock_packet(SHUTDOWN, flags=3), vsock_packet(RST)]))
    write(t, "no_connection", b"".join([
        vsock_packet(RW, payload=b"data"), vsock_packet(RESPONSE, dst_port=4444),
        vsock_packet(SHUTDOWN, flags=1), vsock_packet(RST)]))
    write(t, "hostile_headers", b"".join([
        vsock_packet(RW, src_cid=98, payload=b"spoof"),  # even: kept as written
        vsock_packet(99, payload=b"?"), vsock_packet(REQUEST, vtype=2, src_cid=4),
        vsock_packet(RW, buf_alloc=0, payload=b"x" * 63)]))
    write(t, "many_ports", b"".join(vsock_packet(REQUEST, src_port=p, dst_port=p) for p in range(8)))


def assignment_frame(params, entropy, wall_clock_ns, mac=b"", tag=b"asgn", version=1):
    # proto/assignment.h: u32 LE length, then a StateWriter record (all LE).
    blob = lambda b: struct.pack("<I", len(b)) + b
    record = tag + struct.pack("<I", version) + blob(params) + blob(entropy) + \
        struct.pack("<Q", wall_clock_ns) + blob(mac)
    return struct.pack("<I", len(record)) + record


def assignment():
    t = "assignment_fuzzer"
    entropy = bytes(range(32, 96))
    write(t, "run_with_mac", assignment_frame(
        b"vk.root=/dev/vda vk.ro=1 vk.overlay=/dev/vdb vk.etc=1 vk.hostname=web vk.net=dhcp "
        b"vk.fs=work:/work vk.port=1024 vk.serve=4444", entropy, 1_700_000_000_000_000_000,
        bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])))
    write(t, "idle_no_mac", assignment_frame(b"vk.idle=1 vk.serve=4444", entropy[:32], 1))
    # Hostile: 31 bytes of entropy, a 7-byte MAC, a length past the record.
    write(t, "short_entropy", assignment_frame(b"vk.idle=1", entropy[:31], 0, b"\x02" * 7))
    write(t, "huge_length", struct.pack("<I", 0xFFFFFFF0) + b"asgn" + struct.pack("<II", 1, 0xFFFFFFFF))


if __name__ == "__main__":
    reject()
    dns_tcp_stream()
    tar_entry()
    virtqueue()
    vsock()
    assignment()
