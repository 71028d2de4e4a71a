#!/usr/bin/env python3
"""Builds (and optionally runs) services/*/Dockerfile WITHOUT a Docker engine.

Machines here have no Docker engine, so this interprets the subset of the Dockerfile language
our Dockerfiles use, on the host, to catch what a real `docker build` would:
  - the build context is filtered by .dockerignore (Docker's matching rules: last matching
    pattern wins, `!` re-includes, a pattern matching a parent folder matches what is inside);
  - each stage gets its own root folder; FROM <stage> copies it; COPY / COPY --from copy files
    with Docker's semantics (a folder's contents, symlinks kept); RUN runs with the stage's
    WORKDIR, ENV and ARGs (--mount flags dropped: the host's npm cache plays the cache mount);
    identical stages are built once and shared, as BuildKit does for the five Dockerfiles;
  - FROM node:<tag> is played by the host's Node.js, which must have the same major version.
  - RUN groupadd/useradd (creating the image's user) is skipped: --run uses the uid directly.
With --run, each runtime stage is started the way the image would be: its CMD, as USER (uid
10001), with the root filesystem read-only (files root-owned and not writable), HOME=/tmp, the
image's ENV plus --env-file; then the Dockerfile's HEALTHCHECK command is run until it passes,
and GET /health/ready is tried.

  deploy/tools/dockerfile-sim/simulate.py [--service NAME]... [--run --env-file FILE]

Needs Node.js 24 and npm on PATH (source scripts/bootstrap-node.sh) and registry access for
`npm ci`. Root is needed for --run (to switch to uid 10001).
"""
import argparse
import fnmatch
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SERVICES = ["referral-intake", "emr-gateway", "vault", "scheduler", "notifier"]


def log(msg):
    print(f"[dockerfile-sim] {msg}", flush=True)


# ---- .dockerignore ----------------------------------------------------------------------------
def load_ignore(path):
    pats = []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            neg = line.startswith("!")
            p = line[1:] if neg else line
            p = os.path.normpath(p.strip("/")) if p.strip("/") else "."
            pats.append((neg, pattern_re(p)))
    return pats


def pattern_re(p):
    out, i = "", 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if p.startswith("**", i):
            out += ".*"
            i += 2
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
        i += 1
    return re.compile("^" + out + "$")


def ignored(rel, pats):
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for neg, rx in pats:
        if any(rx.match(p) for p in prefixes):
            result = not neg
    return result


def build_context(dest, pats):
    count = 0
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel_dir = os.path.relpath(dirpath, ROOT)
        rel_dir = "" if rel_dir == "." else rel_dir
        keep, links = [], []
        for d in dirnames:
            rel = f"{rel_dir}/{d}" if rel_dir else d
            if os.path.islink(os.path.join(dirpath, d)):
                links.append(d)
            elif d == ".git":
                continue
            # Skip folders that are excluded and that no `!` pattern reaches into.
            elif ignored(rel, pats) and not any(neg and rx.pattern.startswith("^" + re.escape(rel + "/")) for neg, rx in pats):
                continue
            else:
                keep.append(d)
        dirnames[:] = keep
        for f in filenames + links:
            rel = f"{rel_dir}/{f}" if rel_dir else f
            if ignored(rel, pats):
                continue
            src = os.path.join(dirpath, f)
            dst = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)
            count += 1
    return count


# ---- Dockerfile parsing -------------------------------------------------------------------------
def parse_dockerfile(path):
    instrs, buf = [], ""
    for raw in open(path):
        line = raw.rstrip("\n")
        if not buf and (line.strip().startswith("#") or not line.strip()):
            continue
        if line.strip().startswith("#"):
            continue  # comment lines inside a continuation
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        instrs.append((word.upper(), rest.strip()))
        buf = ""
    return instrs


def expand(s, env):
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)",
                  lambda m: env.get(m.group(1) or m.group(2), ""), s)


def parse_kv(rest):
    out = {}
    for tok in shlex.split(rest):
        k, _, v = tok.partition("=")
        out[k] = v
    return out


# ---- building -----------------------------------------------------------------------------------
class Builder:
    def __init__(self, work, ctx, node_major, build_args=None):
        self.work, self.ctx, self.node_major = work, ctx, node_major
        self.build_args = build_args or {}
        self.cache = {}  # stage key -> root

    def build(self, dockerfile):
        instrs = parse_dockerfile(dockerfile)
        global_args, stages, cur = {}, {}, None
        for word, rest in instrs:
            if word == "ARG" and cur is None:
                k, _, v = rest.partition("=")
                global_args[k] = self.build_args.get(k, v)
                continue
            if word == "FROM":
                m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
                image, name = expand(m.group(1), global_args), m.group(2)
                if image in stages:
                    parent = stages[image]
                    cur = dict(name=name, key=parent["key"], env=dict(parent["env"]), workdir=parent["workdir"],
                               args=dict(global_args), meta=dict(parent["meta"]), root=parent["root"])
                else:
                    m2 = re.match(r"node:(\d+)\.", image)
                    if not m2 or int(m2.group(1)) != self.node_major:
                        raise SystemExit(f"{dockerfile}: base image {image} is not played by the host's Node.js {self.node_major}")
                    key = hashlib.sha256(image.encode()).hexdigest()
                    root = os.path.join(self.work, "stages", key[:16])
                    os.makedirs(root, exist_ok=True)
                    cur = dict(name=name, key=key, env={}, workdir="/", args=dict(global_args), meta={}, root=root)
                stages[name] = cur
                continue
            self.step(cur, stages, word, rest, dockerfile)
        return cur

    def ctx_hash(self, srcs):
        """Content hash of the context files a COPY reads (so --keep never reuses a stale stage)."""
        h = hashlib.sha256()
        for s in sorted(srcs):
            base = os.path.join(self.ctx, s.lstrip("/"))
            paths = [base] if not os.path.isdir(base) else sorted(
                os.path.join(d, f) for d, _, fs in os.walk(base) for f in fs)
            for p in paths:
                h.update(os.path.relpath(p, self.ctx).encode())
                if os.path.islink(p):
                    h.update(os.readlink(p).encode())
                elif os.path.isfile(p):
                    h.update(open(p, "rb").read())
        return "context:" + h.hexdigest()

    def fork(self, st, text):
        """Copy-on-write: a new key, and a root copied from the parent unless cached."""
        key = hashlib.sha256((st["key"] + "\n" + text).encode()).hexdigest()
        root = os.path.join(self.work, "stages", key[:16])
        cached = os.path.isdir(root)
        if not cached:
            # Hard links, not copies: a stage's files are replaced (npm and tsc write new files
            # or rename over old ones), never edited in place, so parents stay intact.
            subprocess.run(["cp", "-al", st["root"], root], check=True)
        st["key"], st["root"] = key, root
        return cached

    def path(self, st, p):
        p = p if p.startswith("/") else os.path.join(st["workdir"], p)
        return os.path.join(st["root"], p.lstrip("/"))

    def step(self, st, stages, word, rest, dockerfile):
        env = {**st["args"], **st["env"]}
        if word == "ARG":
            k, eq, v = rest.partition("=")
            if k in self.build_args:
                st["args"][k] = self.build_args[k]
            elif eq:
                st["args"][k] = expand(v, env)
            # `ARG NAME` without a value re-imports the global ARG (already in st["args"]).
        elif word == "ENV":
            for k, v in parse_kv(rest).items():
                st["env"][k] = expand(v, {**st["args"], **st["env"]})
        elif word == "WORKDIR":
            st["workdir"] = os.path.join(st["workdir"], expand(rest, env))
            os.makedirs(self.path(st, st["workdir"]), exist_ok=True)
        elif word == "COPY":
            toks = shlex.split(rest)
            frm = None
            while toks[0].startswith("--"):
                t = toks.pop(0)
                if t.startswith("--from="):
                    frm = t.split("=", 1)[1]
            *srcs, dest = [expand(t, env) for t in toks]
            src_root = stages[frm]["root"] if frm else self.ctx
            src_key = stages[frm]["key"] if frm else self.ctx_hash(srcs)
            if self.fork(st, f"COPY {src_key} {rest} {st['workdir']}"):
                return
            dest_path = self.path(st, dest)
            for s in srcs:
                sp = os.path.join(src_root, s.lstrip("/"))
                if not os.path.lexists(sp):
                    raise SystemExit(f"{dockerfile}: COPY {s}: not found in {'stage ' + frm if frm else 'the build context'}")
                if os.path.isdir(sp) and not os.path.islink(sp):
                    shutil.copytree(sp, dest_path, symlinks=True, dirs_exist_ok=True)
                else:
                    target = os.path.join(dest_path, os.path.basename(s)) if (dest.endswith("/") or len(srcs) > 1) else dest_path
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copy2(sp, target, follow_symlinks=False)
        elif word == "RUN":
            cmd = re.sub(r"--mount=\S+\s*", "", rest).strip()
            if re.match(r"(groupadd|useradd)\b", cmd):
                st["meta"]["skipped"] = st["meta"].get("skipped", []) + [cmd.split()[0]]
                return
            if self.fork(st, f"RUN {cmd} {json.dumps(env, sort_keys=True)} {st['workdir']}"):
                log(f"  RUN {cmd[:70]}  (cached)")
                return
            log(f"  RUN {cmd[:90]}")
            t0 = time.time()
            r = subprocess.run(["bash", "-ec", cmd], cwd=self.path(st, st["workdir"]),
                               env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                print(r.stdout[-6000:])
                shutil.rmtree(st["root"], ignore_errors=True)
                raise SystemExit(f"{dockerfile}: RUN {cmd!r} failed with exit {r.returncode}")
            log(f"    done in {time.time() - t0:.0f}s")
        elif word in ("USER", "EXPOSE", "CMD", "HEALTHCHECK", "STOPSIGNAL", "ENTRYPOINT", "LABEL"):
            st["meta"][word] = expand(rest, env) if word in ("USER", "EXPOSE") else rest
        else:
            raise SystemExit(f"{dockerfile}: instruction {word} is not supported by this simulator")


# ---- running ------------------------------------------------------------------------------------
def exec_form(text):
    """CMD/HEALTHCHECK CMD in exec (JSON) form -> argv."""
    text = re.sub(r"^(--\S+\s+)*", "", text)
    if text.startswith("CMD "):
        text = text[4:]
    return json.loads(text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_image(name, st, work, env_file, node_bin):
    meta = st["meta"]
    user = meta.get("USER", "0").split(":")
    uid, gid = int(user[0]), int(user[1] if len(user) > 1 else user[0])
    runtime = os.path.join(work, "run", name)
    shutil.rmtree(runtime, ignore_errors=True)
    shutil.copytree(st["root"], runtime, symlinks=True)
    # The image's node: the host's binary, where uid 10001 can execute it.
    os.makedirs(os.path.join(runtime, "usr/local/bin"), exist_ok=True)
    shutil.copy2(node_bin, os.path.join(runtime, "usr/local/bin/node"))
    # Read-only root filesystem: root-owned, nobody may write.
    subprocess.run(["chown", "-R", "-h", "0:0", runtime], check=True)
    subprocess.run(["chmod", "-R", "a-w,a+rX", runtime], check=True)
    tmp = tempfile.mkdtemp(prefix=f"sim-tmp-{name}-")
    os.chown(tmp, uid, gid)
    env = {"PATH": os.path.join(runtime, "usr/local/bin") + ":/usr/bin:/bin"}
    if env_file:
        for line in open(env_file):
            m = re.match(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line.strip())
            if m:
                env[m.group(1)] = m.group(2).strip("'\"")
    env.update(st["env"])
    port = free_port()
    env.update(PORT=str(port), TMPDIR=tmp, HOME=tmp)
    env.setdefault("DATABASE_SCHEMA", name.replace("referral-intake", "intake").replace("-", "_"))
    env.setdefault("KAFKA_CLIENT_ID", f"{name}-dockerfile-sim")
    env.setdefault("SERVICE_AUTH_SECRET", "dockerfile-sim-" + "x" * 32)
    argv = exec_form(meta["CMD"])
    argv[0] = os.path.join(runtime, "usr/local/bin", argv[0]) if argv[0] == "node" else argv[0]
    cwd = os.path.join(runtime, st["workdir"].lstrip("/"))
    logf = open(os.path.join(work, f"{name}.log"), "w")
    proc = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"] + argv,
                            cwd=cwd, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    hc = exec_form(meta["HEALTHCHECK"])
    hc[0] = os.path.join(runtime, "usr/local/bin/node") if hc[0] == "node" else hc[0]
    ok_live = ok_ready = False
    deadline = time.time() + 60
    try:
        while time.time() < deadline and proc.poll() is None:
            if subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"] + hc,
                              env=env, cwd=cwd, capture_output=True).returncode == 0:
                ok_live = True
                break
            time.sleep(1)
        if ok_live:
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=3) as r:
                        ok_ready = r.status == 200
                except Exception:
                    ok_ready = False
                if ok_ready:
                    break
                time.sleep(1)
    finally:
        exited = proc.poll()
        if exited is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        logf.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return ok_live, ok_ready, exited, os.path.join(work, f"{name}.log")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--service", action="append", choices=SERVICES, help="default: all five")
    ap.add_argument("--run", action="store_true", help="start each image and run its HEALTHCHECK")
    ap.add_argument("--env-file", help="KEY=value lines (e.g. the local stack's stack.env) for --run")
    ap.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE",
                    help="as docker build --build-arg, e.g. NPM_INSTALL=install")
    ap.add_argument("--keep", help="work folder to keep (default: a temporary one, removed)")
    a = ap.parse_args()
    services = a.service or SERVICES
    node_bin = shutil.which("node")
    ver = subprocess.run([node_bin, "--version"], capture_output=True, text=True).stdout.strip()
    major = int(ver.lstrip("v").split(".")[0])
    work = a.keep or tempfile.mkdtemp(prefix="dockerfile-sim-")
    os.makedirs(work, exist_ok=True)
    try:
        ctx = os.path.join(work, "context")
        shutil.rmtree(ctx, ignore_errors=True)
        n = build_context(ctx, load_ignore(os.path.join(ROOT, ".dockerignore")))
        log(f"build context: {n} files after .dockerignore (host node {ver} plays the base image)")
        build_args = dict(kv.split("=", 1) for kv in a.build_arg)
        b = Builder(work, ctx, major, build_args)
        failures = inconclusive = 0
        for name in services:
            log(f"build services/{name}/Dockerfile")
            st = b.build(os.path.join(ROOT, "services", name, "Dockerfile"))
            app = os.path.join(st["root"], st["workdir"].lstrip("/"))
            entry = exec_form(st["meta"]["CMD"])[-1]
            if not os.path.isfile(os.path.join(app, entry)):
                log(f"FAIL {name}: CMD entry {entry} is not in the image")
                failures += 1
                continue
            size = int(subprocess.run(["du", "-sm", st["root"]], capture_output=True, text=True).stdout.split()[0])
            log(f"ok   {name}: image filesystem {size} MB (without the base image), USER {st['meta'].get('USER')}, EXPOSE {st['meta'].get('EXPOSE')}")
            if a.run:
                live, ready, exited, logpath = run_image(name, st, work, a.env_file, node_bin)
                text = open(logpath).read()
                image_fault = re.search(r"Cannot find module|ERR_MODULE_NOT_FOUND|EROFS|EACCES|permission denied", text, re.I)
                no_stack = re.search(r"ECONNREFUSED|unavailable after|ENOTFOUND", text)
                if live and ready:
                    log(f"ok   {name}: started read-only as uid {st['meta'].get('USER')}, HEALTHCHECK passed, /health/ready 200")
                elif no_stack and not image_fault:
                    inconclusive += 1
                    log(f"??   {name}: the image loaded all its code as uid {st['meta'].get('USER')} on a read-only tree, "
                        f"but could not reach Postgres/Kafka/Vault ({no_stack.group(0)}): start the local stack and re-run")
                else:
                    failures += 1
                    log(f"FAIL {name}: live={live} ready={ready} exit={exited}; last log lines:")
                    print("".join(open(logpath).readlines()[-25:]))
        log(f"{len(services) - failures - inconclusive} passed, {failures} failed"
            + (f", {inconclusive} inconclusive (no stack)" if inconclusive else ""))
        return 1 if failures else (3 if inconclusive else 0)
    finally:
        if not a.keep:
            subprocess.run(["chmod", "-R", "u+w", work])
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
