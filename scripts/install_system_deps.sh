#!/usr/bin/env bash
# Installs the system packages tfic-jax uses at run time: Tesseract (independent OCR for evaluation)
# and DjVuLibre (c44 / cjb2 / ddjvu: the DjVu baselines of the page-level evaluation).
# Best effort: without root/sudo or apt it says what to install and exits 0 (tests then skip
# the Tesseract checks, naming why).
set -u
pkgs="tesseract-ocr tesseract-ocr-eng djvulibre-bin"
if command -v tesseract >/dev/null 2>&1 && command -v c44 >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: apt-get not found; install Tesseract 5 yourself ($pkgs) for the independent-OCR figures." >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "note: not root and no passwordless sudo; run: sudo apt-get install -y $pkgs" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q $pkgs >/dev/null 2>&1 || {
  $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q $pkgs >/dev/null 2>&1
} || echo "note: could not install $pkgs; Tesseract figures and tests will be skipped." >&2
exit 0
