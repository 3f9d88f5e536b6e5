r"""Decompresses .tfic files: the header names the model that made each, so no flags are needed.

  python -m launch.decompress --input=a.tfic --output=b.png [--original=a.png]
  python -m launch.decompress --workdir=workdirs/codec_mse_q3 --input=a.tfic --output=b.png
  python -m launch.decompress out/coded/ --output_dir=out/decoded     # every .tfic, as PNG

Each model is loaded and compiled once for all inputs (JAX's persistent cache keeps the
compiled programs: launch/common.py). Prints one line per file and a total; a file that fails
gets its own `error:` line and the others still go through; the exit status is 1 if any failed.
"""

import sys

from absl import app
from absl import flags
from absl import logging

from launch import common
from tfic_jax import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "The .tfic file (or give files, folders, globs as args).")
flags.DEFINE_string("output", None, "Where to write the decoded image (one input; PNG).")
flags.DEFINE_string("output_dir", None, "Folder for the decoded PNGs of several inputs.")
flags.DEFINE_string("workdir", None, "Decode with this workdir's codec instead of the shipped "
                    "model the header names (must be the model that made the file).")
flags.DEFINE_string("original", None, "Original image, to print the PSNR (one input).")
flags.DEFINE_string("compilation_cache", None, "JAX compilation cache directory ('' = off; "
                    "default: $TFIC_JAX_CACHE_DIR or ~/.cache/tfic-jax/xla).")


def main(argv):
  logging.set_verbosity(logging.WARNING)
  common.enable_compilation_cache(FLAGS.compilation_cache)
  # pylint: disable=g-import-not-at-top
  import tqdm

  from tfic_jax.codec import files
  try:
    specs = ([FLAGS.input] if FLAGS.input else []) + list(argv[1:])
    jobs = files.plan_outputs(files.expand_inputs(specs, (files.BITSTREAM_EXTENSION,)),
                              FLAGS.output, FLAGS.output_dir, ".png")
    if FLAGS.original and len(jobs) > 1:
      raise errors.TficError("--original is for one input")
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  failed, total_seconds, codecs = 0, 0.0, {}
  bar = tqdm.tqdm(jobs, unit="file", disable=len(jobs) < 2, file=sys.stderr)
  for job in bar:
    try:
      report = files.decompress_file(job.input, job.output, FLAGS.workdir, FLAGS.original,
                                     codecs=codecs)
    except errors.TficError as e:
      failed += 1
      bar.write(f"error: {job.input}: {e}", file=sys.stderr)
      continue
    total_seconds += report["seconds"]
    bar.write(f"{job.output}: {files.format_report(report)}")
  if len(jobs) > 1:
    print(f"total: {len(jobs) - failed} of {len(jobs)} files decompressed ({failed} failed), "
          f"{total_seconds:.2f} s decoding")
  sys.exit(1 if failed else 0)


if __name__ == "__main__":
  app.run(main)
