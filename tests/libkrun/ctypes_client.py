#!/usr/bin/env python3
"""A libkrun client in Python with ctypes, as SmolVM's proposed libkrun
backend would be: loads libkrun.so.1 by its soname (the dynamic loader finds
it), configures a VM with a host directory as root and runs it in a child
process, because krun_start_enter() takes the process over. Checks that the
child ends with the workload's exit status.

    ctypes_client.py ROOT EXPECTED_STATUS -- PROGRAM [ARG...]
"""
import ctypes
import os
import sys


def c_strings(items):
    array = (ctypes.c_char_p * (len(items) + 1))()
    array[:-1] = [item.encode() for item in items]
    array[-1] = None
    return array


def run_vm(krun, root, argv):
    """In the child: configure and start; returns only on an error."""
    ctx = krun.krun_create_ctx()
    if ctx < 0:
        return -ctx
    steps = [
        ("krun_set_vm_config", krun.krun_set_vm_config(ctx, 1, 512)),
        ("krun_set_root", krun.krun_set_root(ctx, root.encode())),
        ("krun_set_exec", krun.krun_set_exec(ctx, argv[0].encode(), c_strings(argv[1:]),
                                             c_strings(["FROM_PYTHON=yes"]))),
    ]
    for name, result in steps:
        if result < 0:
            print(f"ctypes_client: {name}: {os.strerror(-result)}", file=sys.stderr)
            return 100
    result = krun.krun_start_enter(ctx)
    print(f"ctypes_client: krun_start_enter: {os.strerror(-result)}", file=sys.stderr)
    return 101


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    root, expected, argv = sys.argv[1], int(sys.argv[2]), sys.argv[4:]
    krun = ctypes.CDLL("libkrun.so.1")
    krun.krun_create_ctx.restype = ctypes.c_int32
    krun.krun_set_vm_config.argtypes = [ctypes.c_uint32, ctypes.c_uint8, ctypes.c_uint32]
    krun.krun_set_root.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
    krun.krun_set_exec.argtypes = [ctypes.c_uint32, ctypes.c_char_p,
                                   ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)]
    krun.krun_start_enter.argtypes = [ctypes.c_uint32]
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os._exit(run_vm(krun, root, argv))
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(f"ctypes_client: the VM's process ended with {code}")
    return 0 if code == expected else 1


if __name__ == "__main__":
    sys.exit(main())
