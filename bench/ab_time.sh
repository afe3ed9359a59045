#!/usr/bin/env bash
# Wall time per call of two builds of dsl_repeat, run alternately so that the machine's drift
# hits both alike; prints the best and the median over the rounds. Each round also runs N = 0
# and subtracts it, so loading the graph cancels out.
#   bench/ab_time.sh <dsl_repeat A> <dsl_repeat B> [graph name = op_resnet50_inference]
#                    [bandwidth = 2^31] [oneshot|resolve] [N = 30000] [rounds = 15]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
a="$1" b="$2"
graph="$root/data/msr-fiddle/${3:-op_resnet50_inference}.json"
bandwidth="${4:-2147483648}" mode="${5:-oneshot}" n="${6:-30000}" rounds="${7:-15}"
elapsed() {  # nanoseconds of one run
  local s e
  s=$(date +%s%N)
  "$1" "$graph" "$2" "$bandwidth" "$mode" >/dev/null
  e=$(date +%s%N)
  echo $((e - s))
}
for _ in $(seq "$rounds"); do
  for exe in "$a" "$b"; do
    echo "$exe $(( ($(elapsed "$exe" "$n") - $(elapsed "$exe" 0)) / n ))"
  done
done | python3 -c '
import collections, sys
runs = collections.defaultdict(list)
for line in sys.stdin:
    exe, ns = line.rsplit(maxsplit=1)
    runs[exe].append(int(ns) / 1000)
for exe, us in runs.items():
    us.sort()
    print(f"{exe}: best {us[0]:.2f} us, median {us[len(us) // 2]:.2f} us per call over {len(us)} rounds")
'
