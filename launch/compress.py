r"""Compresses images into .tfic files with a learned codec: a file, several, a folder or a glob.

  python -m launch.compress --input=a.png --output=a.tfic                  # shipped mse q1
  python -m launch.compress --model=tfic --quality=2 --input=a.png --output=a.tfic
  python -m launch.compress --workdir=workdirs/codec_mse_q3 --input=a.png --output=a.tfic
  python -m launch.compress scans/ 'lines/*.png' page.jpg --output_dir=out/coded

The model is loaded and compiled once for all inputs (and the compiled programs kept in JAX's
persistent cache for the next call: launch/common.py). Any image size: large images are coded
in tiles, with a progress bar. Prints one line per file (real bpp with the header, PSNR of the
reconstruction unless --nopsnr, time) and a total; a file that fails gets its own `error:`
line and the others still go through; the exit status is 1 if any failed.
"""

import sys

from absl import app
from absl import flags
from absl import logging

from launch import common
from tfic_jax import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "Image to compress (or give files, folders, globs as args).")
flags.DEFINE_string("output", None, "Where to write the .tfic file (one input).")
flags.DEFINE_string("output_dir", None, "Folder for the .tfic files of several inputs (a "
                    "folder's subfolders are kept).")
flags.DEFINE_string("workdir", None, "A codec's training workdir or model dir (else shipped).")
flags.DEFINE_enum("model", "mse", ["mse", "mse_low", "tfic", "doc"],
                  "Shipped model kind (without --workdir): mse (stage 1), mse_low (MSE at "
                  "TFIC's rates), tfic (stage 2), doc (stage 1 on document pages and lines: "
                  "for scans and typeset pages).")
flags.DEFINE_integer("quality", 1, "Shipped rate point, 1 = lowest rate (without --workdir).")
flags.DEFINE_bool("psnr", True, "Also decode and print the PSNR against the input.")
flags.DEFINE_string("compilation_cache", None, "JAX compilation cache directory ('' = off; "
                    "default: $TFIC_JAX_CACHE_DIR or ~/.cache/tfic-jax/xla).")


def main(argv):
  logging.set_verbosity(logging.WARNING)
  common.enable_compilation_cache(FLAGS.compilation_cache)
  # pylint: disable=g-import-not-at-top
  import tqdm

  from tfic_jax import imageio
  from tfic_jax import metrics
  from tfic_jax.codec import api
  from tfic_jax.codec import bitstream
  from tfic_jax.codec import files
  try:
    name = api.resolve(FLAGS.workdir, FLAGS.model, FLAGS.quality)
    specs = ([FLAGS.input] if FLAGS.input else []) + list(argv[1:])
    jobs = files.plan_outputs(files.expand_inputs(specs, files.IMAGE_EXTENSIONS), FLAGS.output,
                              FLAGS.output_dir, files.BITSTREAM_EXTENSION)
    codec = api.load(name)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  failed, total_bytes, total_pixels, total_seconds = 0, 0, 0, 0.0
  bar = tqdm.tqdm(jobs, unit="file", disable=len(jobs) < 2, file=sys.stderr)
  for job in bar:
    tiles = None

    def progress(done, total, _job=job):
      nonlocal tiles
      if total > 1 and tiles is None:
        tiles = tqdm.tqdm(total=total, unit="tile", desc=_job.input.name, leave=False,
                          file=sys.stderr)
      if tiles is not None:
        tiles.update(done - tiles.n)

    try:
      report = files.compress_file(codec, job.input, job.output, progress)
      if FLAGS.psnr:
        decoded = bitstream.decompress(codec, files.read_bitstream(job.output))
        report["psnr"] = metrics.psnr(imageio.load_image(job.input, "RGB"), decoded)
    except errors.TficError as e:
      failed += 1
      bar.write(f"error: {job.input}: {e}", file=sys.stderr)
      continue
    finally:
      if tiles is not None:
        tiles.close()
    total_bytes += report["bytes"]
    total_pixels += report["height"] * report["width"]
    total_seconds += report["seconds"]
    bar.write(f"{job.output}: {files.format_report(report)}")
  done = len(jobs) - failed
  if len(jobs) > 1:
    mean_bpp = 8.0 * total_bytes / total_pixels if total_pixels else float("nan")
    print(f"total: {done} of {len(jobs)} files compressed ({failed} failed), {total_bytes} "
          f"bytes, {mean_bpp:.4f} bpp over all pixels, {total_seconds:.2f} s coding")
  sys.exit(1 if failed else 0)


if __name__ == "__main__":
  app.run(main)
