#!/usr/bin/env bash
# The README's two commands on a new Debian 12 system, as a new user runs them.
#
#   scripts/fresh-check.sh [--refresh]
#
# Builds a minimal Debian 12 root with mmdebstrap (variant apt: the essential
# packages and apt, nothing else), cached as a tarball so that a second run
# downloads nothing; copies the committed tree (git archive HEAD) into it;
# runs the README's Quick start commands there, exactly as written, as root
# in a chroot with /proc, /dev and /sys mounted and name resolution copied;
# ends with one line: which command failed, or that both passed, with times.
#
# Needs root and Debian's archive, nothing else (mmdebstrap is installed if
# missing). Everything happens inside private mount and PID namespaces on a
# tmpfs: the trap unmounts and removes it all on every exit path, and if the
# script is killed outright (SIGKILL), the kernel ends every process in the
# namespace and drops its mounts and the tmpfs with it, so nothing is left.
#
# Environment:
#   CNNK_FRESH_CACHE    where the base tarball is kept (default /var/cache/cnnk/fresh-check)
#   CNNK_FRESH_TMPFS    size of the tmpfs the root lives on (default 16g; only what is used is taken)
#   CNNK_FRESH_TIMEOUT  limit for each command, in seconds (default 2400)
set -euo pipefail

suite=bookworm
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${CNNK_FRESH_CACHE:-/var/cache/cnnk/fresh-check}
tmpfs_size=${CNNK_FRESH_TMPFS:-16g}
cmd_timeout=${CNNK_FRESH_TIMEOUT:-2400}
# The mount point of the tmpfs, which exists only inside our private mount
# namespace: outside, this stays an empty folder beside the cached base.
work=$cache/mnt

say() { printf 'fresh-check: %s\n' "$*" >&2; }
die() { say "error: $*"; printf 'fresh-check: FAILED before the commands ran: %s\n' "$*"; exit 1; }

refresh=0
for a in "$@"; do
  case $a in
    --refresh) refresh=1 ;;
    --inside) ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) say "unknown argument '$a' (see --help)"; exit 2 ;;
  esac
done

# ---- outside: enter private mount + PID namespaces, then run again -------
if [ "${1:-}" != "--inside" ]; then
  [ "$(id -u)" -eq 0 ] || die "needs root (chroot, mounts, mmdebstrap)"
  command -v git >/dev/null || die "needs git to copy the committed tree"
  git -C "$top" rev-parse --verify -q HEAD >/dev/null || die "$top is not a git work tree with a commit"
  if ! command -v mmdebstrap >/dev/null; then
    say "installing mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
  fi
  mkdir -p "$work"
  if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
    say "note: uncommitted changes are not part of the check (it copies HEAD, $(git -C "$top" rev-parse --short HEAD))"
  fi
  # unshare --fork ignores SIGINT and SIGTERM while it waits, so it runs in
  # the background and a signal to this script kills it outright instead:
  # --kill-child then hands the namespace's first process a SIGTERM, its trap
  # unmounts and removes everything, and when it ends the kernel kills every
  # other process of the namespace. If this script is killed outright,
  # setpriv's parent-death signal kills unshare, and the same path follows.
  setpriv --pdeathsig KILL unshare --mount --propagation private --pid --fork --kill-child=SIGTERM \
    bash "$0" --inside "$@" &
  upid=$!
  stop() {
    local inner
    inner=$(pgrep -P "$upid" 2>/dev/null || true)
    { kill -KILL "$upid"; wait "$upid"; } 2>/dev/null || true
    # Wait for the inner trap to finish, so that when this script returns
    # the check's processes are gone.
    for p in $inner; do while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; done
    exit "$1"
  }
  trap 'stop 130' INT
  trap 'stop 143' TERM HUP
  rc=0
  wait "$upid" || rc=$?
  exit $rc
fi

# ---- inside: PID 1 of a fresh PID namespace, in a private mount namespace ---
root=$work/root
building=0   # 1 while this run writes the base tarball (and holds the lock)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  # PID 1 of the namespace: -1 is every other process in it, nothing outside.
  { kill -KILL -1; wait; } 2>/dev/null || true
  for m in "$root/sys" "$root/dev" "$root/proc"; do
    mountpoint -q "$m" 2>/dev/null && { umount -R "$m" 2>/dev/null || umount -R -l "$m" || true; }
  done
  if mountpoint -q "$work"; then umount -R "$work" 2>/dev/null || umount -R -l "$work" || true; fi
  [ $building -eq 0 ] || rm -f "$cache/.part.tar"
  exit $rc
}
trap cleanup EXIT
stage="preparing the root"
interrupted() { echo "fresh-check: FAILED: interrupted ($1) while $stage"; exit "$2"; }
trap 'interrupted SIGINT 130' INT
trap 'interrupted SIGTERM 143' TERM
trap 'interrupted SIGHUP 129' HUP

mount -t tmpfs -o "size=$tmpfs_size,mode=0755" cnnk-fresh "$work"
mkdir -p "$work/tmp" "$root"

# The apt sources and the archive options of this machine (a snapshot mirror
# needs Check-Valid-Until "false", a proxy needs its Acquire::http setting):
# a new Debian 12 machine here gets the same, and without them apt in the
# root could not reach the archive at all. Nothing else of the host goes in.
sources=()
[ -s /etc/apt/sources.list ] && grep -q '^[[:space:]]*deb' /etc/apt/sources.list && sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$f" ] && sources+=("$f")
done
aptopts=()
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
  [ -f "$f" ] && grep -q '^[[:space:]]*Acquire' "$f" && aptopts+=("--aptopt=$f")
done
arch=$(dpkg --print-architecture)
key=$( { echo "$suite apt $arch $(mmdebstrap --version)"; cat "${sources[@]}" /dev/null;
         for o in "${aptopts[@]}"; do cat "${o#--aptopt=}"; done; } | sha256sum | cut -c1-12)
base="$cache/debian12-apt-$arch-$key.tar"

exec 9>"$cache/lock"
flock 9   # one base build at a time; a leftover .part.tar is from a killed run
rm -f "$cache/.part.tar"
if [ $refresh -eq 1 ] || [ ! -s "$base" ]; then
  say "building the base system ($suite, variant apt, $arch) into $base"
  t0=$(date +%s)
  building=1
  TMPDIR=$work/tmp mmdebstrap --quiet --variant=apt --arch="$arch" "${aptopts[@]}" \
    "$suite" "$cache/.part.tar" "${sources[@]}" \
    || die "mmdebstrap could not build the base system"
  mv -f "$cache/.part.tar" "$base"
  building=0
  find "$cache" -maxdepth 1 -name 'debian12-apt-*.tar' ! -name "${base##*/}" -delete
  say "base built in $(( $(date +%s) - t0 )) s"
else
  say "reusing the base system $base"
fi
flock -u 9

tar -C "$root" --numeric-owner -xpf "$base"
mkdir -p "$root/root/cnnk"
git -C "$top" archive --format=tar HEAD | tar -C "$root/root/cnnk" -xf -
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"

# The README's Quick start commands, read from the README itself so that the
# check runs what a user reads: the indented lines of the block that follows
# "## Quick start" up to the next heading, each "scripts/..." word up to its
# comment.
mapfile -t cmds < <(awk '/^#+ /{q=($0=="## Quick start")} q && /^    scripts\//{print $1}' "$top/README.md")
[ ${#cmds[@]} -eq 2 ] || die "expected the README's two Quick start commands, found ${#cmds[@]}: ${cmds[*]:-none}"

results=()
failed=()
for c in "${cmds[@]}"; do
  say "running '$c' in the fresh root"
  stage="running $c"
  t0=$(date +%s)
  # A login's environment, not ours: nothing of this machine leaks in.
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    timeout "$cmd_timeout" bash -c "cd /root/cnnk && $c" </dev/null &
  rc=0
  wait $! || rc=$?
  dt=$(( $(date +%s) - t0 ))
  if [ $rc -eq 0 ]; then
    results+=("$c passed in $dt s")
  else
    [ $rc -eq 124 ] && why="timed out after $dt s" || why="exit $rc after $dt s"
    results+=("$c FAILED ($why)")
    failed+=("$c")
  fi
done

summary=$(IFS=';'; echo "${results[*]}" | sed 's/;/; /g')
if [ ${#failed[@]} -eq 0 ]; then
  echo "fresh-check: both passed on a fresh Debian 12 ($suite, $arch): $summary"
else
  echo "fresh-check: FAILED: ${failed[*]} on a fresh Debian 12 ($suite, $arch): $summary"
  exit 1
fi
