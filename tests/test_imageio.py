"""Tests for tfic_jax.imageio: loading, saving and checking images with clear errors."""

import numpy as np
from PIL import Image
import pytest

from tfic_jax import errors
from tfic_jax import imageio


def _gradient_rgb(height=6, width=10):
  rows = np.arange(height, dtype=np.uint8)[:, None, None] * 20
  cols = np.arange(width, dtype=np.uint8)[None, :, None] * 10
  return np.broadcast_to(rows + cols + np.array([0, 1, 2], np.uint8), (height, width, 3)).copy()


# ------------------------------------------------------------------------------ load_image.


def test_load_rgb_png_round_trips_exactly(tmp_path):
  image = _gradient_rgb()
  path = imageio.save_image(tmp_path / "a.png", image)
  loaded = imageio.load_image(path)
  assert loaded.dtype == np.uint8 and loaded.shape == (6, 10, 3)
  np.testing.assert_array_equal(loaded, image)


def test_load_mode_l_returns_one_channel(tmp_path):
  path = imageio.save_image(tmp_path / "a.png", _gradient_rgb())
  gray = imageio.load_image(path, mode="L")
  assert gray.shape == (6, 10, 1) and gray.dtype == np.uint8


def test_load_grayscale_file_as_rgb_repeats_the_channel(tmp_path):
  path = tmp_path / "g.png"
  Image.fromarray(np.full((4, 5), 77, np.uint8)).save(path)
  rgb = imageio.load_image(path, mode="RGB")
  assert rgb.shape == (4, 5, 3)
  np.testing.assert_array_equal(rgb, 77)


def test_load_16_bit_grayscale_rescales_full_range(tmp_path):
  path = tmp_path / "g16.png"
  Image.fromarray(np.array([[0, 257 * 100, 65535]], np.uint16)).save(path)
  gray = imageio.load_image(path, mode="L")
  np.testing.assert_array_equal(gray[..., 0], [[0, 100, 255]])


def test_load_palette_and_transparency_composited_on_white(tmp_path):
  rgba = np.zeros((2, 2, 4), np.uint8)
  rgba[0, 0] = (255, 0, 0, 255)  # Opaque red; the rest is fully transparent.
  path = tmp_path / "t.png"
  Image.fromarray(rgba).save(path)
  rgb = imageio.load_image(path)
  np.testing.assert_array_equal(rgb[0, 0], (255, 0, 0))
  np.testing.assert_array_equal(rgb[1, 1], (255, 255, 255))
  palette_path = tmp_path / "p.png"
  Image.fromarray(_gradient_rgb()).convert("P").save(palette_path)
  assert imageio.load_image(palette_path).shape == (6, 10, 3)


def test_load_missing_file_names_path(tmp_path):
  path = tmp_path / "missing.png"
  with pytest.raises(errors.ImageInputError, match="missing.png.*no such file"):
    imageio.load_image(path)


def test_load_directory_names_path(tmp_path):
  with pytest.raises(errors.ImageInputError, match=f"{tmp_path.name}.*directory"):
    imageio.load_image(tmp_path)


def test_load_text_file_renamed_png_names_path(tmp_path):
  path = tmp_path / "notes.png"
  path.write_text("not an image")
  with pytest.raises(errors.ImageInputError, match="notes.png"):
    imageio.load_image(path)


def test_load_truncated_file_names_path(tmp_path):
  path = tmp_path / "cut.png"
  imageio.save_image(path, np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8))
  path.write_bytes(path.read_bytes()[:200])
  with pytest.raises(errors.ImageInputError, match="cut.png"):
    imageio.load_image(path)


def test_load_unsupported_mode_argument(tmp_path):
  with pytest.raises(errors.ImageInputError, match="mode"):
    imageio.load_image(tmp_path / "x.png", mode="RGBA")


# ------------------------------------------------------------------------------ save_image.


def test_save_creates_parent_dirs_and_accepts_float_and_2d(tmp_path):
  path = imageio.save_image(tmp_path / "a" / "b" / "f.png", np.full((3, 4), 0.5, np.float32))
  np.testing.assert_array_equal(imageio.load_image(path, mode="L"), 128)


def test_save_rejects_out_of_range_float(tmp_path):
  with pytest.raises(errors.ImageInputError, match=r"\[0, 1\]"):
    imageio.save_image(tmp_path / "a.png", np.full((3, 4, 3), 2.0, np.float32))


def test_save_rejects_bad_channels_dtype_and_extension(tmp_path):
  with pytest.raises(errors.ImageInputError, match="channels"):
    imageio.save_image(tmp_path / "a.png", np.zeros((3, 4, 2), np.uint8))
  with pytest.raises(errors.ImageInputError, match="dtype"):
    imageio.save_image(tmp_path / "a.png", np.zeros((3, 4, 3), np.int32))
  with pytest.raises(errors.ImageInputError, match="extension|cannot write"):
    imageio.save_image(tmp_path / "a.nope", np.zeros((3, 4, 3), np.uint8))


# ------------------------------------------------------------------------------ check_image_array.


def test_check_adds_channel_axis_to_2d():
  assert imageio.check_image_array(np.zeros((4, 5), np.uint8)).shape == (4, 5, 1)


@pytest.mark.parametrize(
    "array, message",
    [
        (None, "None"),
        (np.zeros((0, 5, 3), np.uint8), "empty"),
        (np.zeros((5,), np.uint8), "shape"),
        (np.zeros((1, 4, 4, 3), np.uint8), "shape"),
        (np.zeros((4, 4, 3), np.int64), "dtype"),
        (np.zeros((4, 4, 3), bool), "dtype"),
        (np.array([["a"]]), "dtype"),
        (np.full((4, 4, 1), np.nan, np.float32), "NaN"),
    ],
)
def test_check_rejects_bad_arrays(array, message):
  with pytest.raises(errors.ImageInputError, match=message):
    imageio.check_image_array(array, name="my_image")


def test_check_names_the_array_in_errors():
  with pytest.raises(errors.ImageInputError, match="my_image"):
    imageio.check_image_array(np.zeros((0, 0), np.uint8), name="my_image")


def test_check_channels_min_size_and_multiple_of():
  image = np.zeros((16, 24, 3), np.uint8)
  assert imageio.check_image_array(image, channels=3, min_size=16, multiple_of=8) is image
  with pytest.raises(errors.ImageInputError, match="channels"):
    imageio.check_image_array(image, channels=1)
  with pytest.raises(errors.ImageInputError, match="minimum"):
    imageio.check_image_array(image, min_size=(32, 8))
  with pytest.raises(errors.ImageInputError, match="multiple of 16"):
    imageio.check_image_array(image, multiple_of=16)
