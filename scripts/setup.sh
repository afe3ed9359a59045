#!/usr/bin/env bash
# Installs what is missing for building and testing incision, and nothing else:
#   Debian packages (C++ dependencies) with apt-get, Python packages into ./.venv with pip.
# Idempotent: a second run only checks. Source it or run it; other scripts call it.
#   INCISION_SETUP_PROFILE=demo: only what the Python package and the demo need (compiler, CMake,
#     venv; Eigen from PyPI, numpy, matplotlib); default "test" adds Debian's Eigen, xtensor,
#     doctest, Google Benchmark (its suites run once in the tests), clang and its runtime, and the
#     documentation tools (doxygen; Sphinx and friends from requirements/docs.txt).
#   INCISION_SETUP_TORCH=0 leaves out PyTorch (requirements/torch.txt, several GB), which the
#     test profile installs for the incision.torch tests (they skip without it).
#   INCISION_SETUP_BENCH=1 also installs the benchmark peers (LEMON, Boost, MABWiser,
#     contextualbandits).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
profile="${INCISION_SETUP_PROFILE:-test}"

debs=(g++ cmake python3-venv)
if [[ "$profile" != demo ]]; then
  # The demo takes Eigen from PyPI (cmeel-eigen in requirements/demo.txt) when the system has none.
  debs+=(libeigen3-dev xtensor-dev doctest-dev libbenchmark-dev clang libasio-dev doxygen
         clang-format clang-tidy)  # the last two: scripts/lint.sh
fi
if [[ "${INCISION_SETUP_BENCH:-0}" == 1 ]]; then
  debs+=(libbenchmark-dev liblemon-dev libboost-graph-dev)
fi
missing=()
for p in "${debs[@]}"; do
  # cmake and python3-venv may come from elsewhere (pip, pyenv): accept a working command.
  case "$p" in
    cmake) command -v cmake >/dev/null && continue ;;
    g++) command -v g++ >/dev/null && continue ;;
    python3-venv) python3 -c "import venv, ensurepip" 2>/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# clang's runtime (libFuzzer, sanitizers) is versioned like clang itself: ask the installed one.
if [[ "$profile" != demo ]] && command -v clang >/dev/null; then
  clang_major="$(clang -dumpversion | cut -d. -f1)"
  rt="libclang-rt-${clang_major}-dev"
  if ! dpkg-query -W -f='${Status}' "$rt" 2>/dev/null | grep -q "install ok installed"; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      echo "setup: installing $rt"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$rt" >/dev/null
    else
      echo "setup: missing Debian package $rt; install it with: sudo apt-get install $rt" >&2
      exit 1
    fi
  fi
fi

# Python: a virtual environment in .venv with the build and test requirements.
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
py=.venv/bin/python
reqs=(requirements/dev.txt)
if [[ "$profile" == demo ]]; then reqs=(requirements/demo.txt); fi
if [[ "$profile" != demo && "${INCISION_SETUP_TORCH:-1}" == 1 ]]; then reqs+=(requirements/torch.txt); fi
if [[ "${INCISION_SETUP_BENCH:-0}" == 1 ]]; then reqs+=(requirements/bench.txt); fi
if [[ "$profile" != demo ]]; then reqs+=(requirements/docs.txt requirements/lint.txt); fi  # the site and the linters, run by the tests
stamp=.venv/.incision-requirements
want="$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp" ]] || ! grep -qx "$want" "$stamp"; then
  echo "setup: installing Python packages from ${reqs[*]}"
  "$py" -m pip install -q --disable-pip-version-check --upgrade pip
  for r in "${reqs[@]}"; do "$py" -m pip install -q --disable-pip-version-check -r "$r"; done
  echo "$want" >"$stamp"
fi

# The package itself, rebuilt incrementally in build/python when sources changed.
echo "setup: building and installing incision into .venv"
"$py" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps . 
