#!/usr/bin/env bash
# The dev container's postCreateCommand: installs the Debian packages that are missing (only those: a second run, or a
# machine that has them, installs nothing), then the Jupyter kernel « java » with ./jbang kernel.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(jupyter-notebook jupyter-client jupyter-nbconvert python3-nbclient python3-nbformat python3-confluent-kafka kcat socat)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Conteneur : installation de ${missing[*]}"
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

./jbang kernel
echo "Conteneur prêt : ./jbang tour, ou ./jbang broker --faults puis jupyter notebook notebooks/"
