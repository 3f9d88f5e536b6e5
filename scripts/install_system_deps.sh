#!/usr/bin/env bash
# Installs the system packages tfic-jax uses at run time. Best effort: without root/sudo or apt it
# says what to install and exits 0 (tests then skip the Tesseract checks, naming why; the
# document tests make their own PDFs). Exits at once when everything is already there.
#
#   Tesseract (independent OCR for evaluation): tesseract-ocr tesseract-ocr-eng
#   DjVuLibre (c44 / cjb2 / ddjvu: the DjVu baselines of the page-level evaluation): djvulibre-bin
#   libGL / GLib: augraphy (requirements.txt) pulls PyPI's GUI opencv-python, whose cv2 needs
#     libGL.so.1 and libgthread-2.0.so.0 even though nothing here opens a window.
#   Real typeset PDFs for the document corpus (tfic_jax/data/documents.py, docs/data.md);
#     download / installed size (Debian 12), 237 documents, 14 980 pages in all:
#       r-doc-pdf                        9.8 / 16 MB   the R manuals (R-intro ... refman, 5 500 p.)
#       octave-doc                       8.3 / 20 MB   the Octave manual, liboctave, refcards
#       gnuplot-doc                      3.4 / 11 MB   the gnuplot manual
#       asymptote-doc                    3.3 /  6 MB   the Asymptote manual, reference card
#       texlive-fonts-recommended-doc    2.9 /  3 MB   font package manuals (txfonts, pxfonts ...)
#       texlive-latex-recommended-doc     50 / 57 MB   ~190 LaTeX package manuals (many designs)
#   Fonts for retraining the OCR judge (serif, sans, mono, condensed, italic and bold faces),
#     about 40 MB to download, 120 MB installed:
#       fonts-liberation2 fonts-dejavu-extra fonts-freefont-ttf fonts-urw-base35
#       fonts-crosextra-carlito fonts-crosextra-caladea fonts-noto-core fonts-roboto-unhinted
#       fonts-open-sans fonts-lato fonts-texgyre fonts-linuxlibertine fonts-ebgaramond fonts-go
#       fonts-inconsolata fonts-hack fonts-stix
set -u
tools="tesseract-ocr tesseract-ocr-eng djvulibre-bin libgl1 libglib2.0-0"
pdfs="r-doc-pdf octave-doc gnuplot-doc asymptote-doc texlive-fonts-recommended-doc texlive-latex-recommended-doc"
fonts="fonts-liberation2 fonts-dejavu-extra fonts-freefont-ttf fonts-urw-base35 fonts-crosextra-carlito
fonts-crosextra-caladea fonts-noto-core fonts-roboto-unhinted fonts-open-sans fonts-lato fonts-texgyre
fonts-linuxlibertine fonts-ebgaramond fonts-go fonts-inconsolata fonts-hack fonts-stix"
pkgs="$(echo $tools $pdfs $fonts)"

# Fast path: one dpkg-query for every package (well under a second).
if command -v dpkg-query >/dev/null 2>&1; then
  installed="$(dpkg-query -W -f='${Status} ${Package}\n' $pkgs 2>/dev/null | sed -n 's/^install ok installed //p')"
  missing=""
  for p in $pkgs; do
    case " $(echo $installed) " in *" $p "*) ;; *) missing="$missing $p" ;; esac
  done
  [ -z "$missing" ] && exit 0
  pkgs="$(echo $missing)"
elif command -v tesseract >/dev/null 2>&1 && command -v c44 >/dev/null 2>&1; then
  exit 0  # Not Debian: the tools are there; PDFs and fonts are Debian packages.
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: apt-get not found; install Tesseract 5 and DjVuLibre yourself for the evaluation figures; the document corpus wants Debian's PDF manuals ($pdfs)." >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "note: not root and no passwordless sudo; run: sudo apt-get install -y --no-install-recommends $pkgs" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
install() { $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; }
# One package at a time on failure, so that one missing package does not block the others.
install $pkgs || { $sudo apt-get update -q >/dev/null 2>&1; install $pkgs; } || {
  failed=""
  for p in $pkgs; do install "$p" || failed="$failed $p"; done
  [ -n "$failed" ] && echo "note: could not install:$failed (figures and tests that need them are skipped)." >&2
}
exit 0
