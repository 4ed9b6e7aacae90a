#!/usr/bin/env bash
# Gradescope (« Programming Assignment », autograder zip : setup.sh + run_autograder) : installe un JDK 17,
# bubblewrap et le kit dans l'image. KIT_REPO : le dépôt du kit.
set -e
KIT_REPO="${KIT_REPO:-https://github.com/example/kafka-semantiques.git}"
apt-get update -qq
apt-get install -y -qq openjdk-17-jdk-headless git curl bubblewrap
git clone --depth 1 "$KIT_REPO" /autograder/kit
# JBang, les //DEPS et le correcteur une fois à la construction de l'image, pas à chaque rendu
/autograder/kit/jbang grade --help > /dev/null
