#!/usr/bin/env python3
"""Writes the OCI runtime config (config.json) that runs an image as a kubelet would with the
chart's security context: deploy/images/test.sh runs it with runc.

    oci-spec.py IMAGE_CONFIG_JSON ROOTFS ENV_FILE > config.json

From the image's own config: user (must be numeric), Env, WorkingDir, Entrypoint + Cmd. Added:
the variables of ENV_FILE (KEY=VALUE lines), a read-only root filesystem, a tmpfs at /tmp (the
only writable path, like the chart's emptyDir), no capabilities, no new privileges, the
runtime's default masked and read-only /proc paths, and the host's network namespace (the
services reach the local stack on 127.0.0.1). No cgroup mount: the services do not read it.
"""
import json
import resource
import sys

image_config_path, rootfs, env_file = sys.argv[1:4]
with open(image_config_path) as f:
    image = json.load(f)
user = image.get("User") or ""
uid, _, gid = user.partition(":")
if not uid.isdigit() or (gid and not gid.isdigit()):
    sys.exit(f"image user {user!r} is not numeric uid[:gid] (runAsNonRoot needs a numeric user)")
if int(uid) == 0:
    sys.exit("image runs as root")
env = list(image.get("Env") or [])
with open(env_file) as f:
    for line in f:
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            key = line.split("=", 1)[0]
            env = [e for e in env if e.split("=", 1)[0] != key] + [line]
args = (image.get("Entrypoint") or []) + (image.get("Cmd") or [])
if not args:
    sys.exit("image has no command")
nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
if nofile == resource.RLIM_INFINITY or nofile > 65536:
    nofile = 65536

spec = {
    "ociVersion": "1.0.2",
    "process": {
        "terminal": False,
        "user": {"uid": int(uid), "gid": int(gid or uid)},
        "args": args,
        "env": env,
        "cwd": image.get("WorkingDir") or "/",
        "capabilities": {"bounding": [], "effective": [], "inheritable": [], "permitted": [], "ambient": []},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
        "noNewPrivileges": True,
    },
    "root": {"path": rootfs, "readonly": True},
    "hostname": "cloud-connect",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", "size=65536k"]},
    ],
    "linux": {
        "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
}
json.dump(spec, sys.stdout, indent=1)
sys.stdout.write("\n")
