#!/bin/bash
# Installs a build into a temporary DESTDIR and checks the exact list of files
# against where they belong for the prefix the build was configured with
# (cmake/Install.cmake): no file missing, none extra, none outside DESTDIR.
# Usage: tests/install_test.sh BUILD_DIR SOURCE_DIR PREFIX
set -euo pipefail
build=$1 source=$2 prefix=$3
destdir=$(mktemp -d)
trap 'rm -rf "$destdir"' EXIT

DESTDIR=$destdir cmake --install "$build" >/dev/null

if [[ $prefix == /usr ]]; then
  etc=/etc
  units=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)
  units=${units:-/usr/lib/systemd/system}
  completions=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null || true)
  completions=${completions:-/usr/share/bash-completion/completions}
else
  etc=$prefix/etc
  units=$prefix/lib/systemd/system
  completions=$prefix/share/bash-completion/completions
fi
doc=$prefix/share/doc/foster/examples

expected=("$prefix/bin/foster" "$prefix/bin/fosterctl" "$etc/foster/foster.toml"
          "$doc/config/example.toml" "$doc/config/reference.toml" "$doc/config/socket-activation.toml"
          "$doc/config/example/db.py" "$doc/config/example/migrate.sh"
          "$doc/config/example/worker.sh")
[[ -x $build/foster-static ]] && expected+=("$prefix/bin/foster-static")
[[ -x $build/libexec/foster ]] && expected+=("$prefix/libexec/foster/foster")  # the full build
if [[ -d $build/man ]]; then
  expected+=("$prefix/share/man/man1/foster.1" "$prefix/share/man/man1/fosterctl.1"
             "$prefix/share/man/man5/foster.toml.5")
  [[ -x $build/foster-static ]] && expected+=("$prefix/share/man/man1/foster-static.1")
fi
for unit in "$source"/systemd/*.service "$source"/systemd/*.socket; do
  [[ -e $unit ]] && expected+=("$units/$(basename "$unit")")
done
for translated in "$source"/config/examples/*; do
  [[ -e $translated ]] && expected+=("$doc/config/examples/$(basename "$translated")")
done
for completion in "$source"/packaging/completions/*; do
  [[ -e $completion ]] && expected+=("$completions/$(basename "$completion")")
done

got=$(cd "$destdir" && find . \( -type f -o -type l \) | sed 's/^\.//' | sort)
want=$(printf '%s\n' "${expected[@]}" | sort)
if [[ $got != "$want" ]]; then
  echo "installed files differ from the expected list (< expected, > installed):"
  diff <(echo "$want") <(echo "$got") || true
  exit 1
fi
for program in foster fosterctl; do
  [[ -x $destdir$prefix/bin/$program ]] || { echo "$prefix/bin/$program is not executable"; exit 1; }
done
"$destdir$prefix/bin/foster" --check -c "$destdir$etc/foster/foster.toml"
echo "install_test: ${#expected[@]} files where they belong under DESTDIR (prefix $prefix)"
