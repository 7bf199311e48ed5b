"""How long processing one uploaded photo takes, and how much memory, with and without draft.

    .venv/bin/python bench/photos.py [--repeat N]

Makes a 12 MP and a 24 MP phone-like JPEG (EXIF orientation 6, GPS) on the fly, then
measures each case in a fresh subprocess, so the peak resident memory (Linux VmHWM,
reset after start-up; resource ru_maxrss elsewhere) grows from that case alone.
tracemalloc cannot do this: Pillow allocates pixel memory outside Python's allocator.
Times are the best of --repeat runs, wall clock and this process's CPU time (the CPU
time is the steadier figure on a busy machine).

Two pipelines, both as in cases/imaging.py:
- "whole upload": process_photo() — verify, full-size upright clean JPEG, screen copy
  (1600 px) and thumbnail (320 px). The stored photo keeps full resolution, so one full
  decode is always needed; draft only changes how the screen copy and thumbnail are made.
- "derivatives only": just the screen copy and thumbnail, as when they are remade for an
  existing photo: here draft decoding skips the full-size decode entirely.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"12 MP": (4000, 3000), "24 MP": (6000, 4000)}


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smpclinic.settings_test")
    import django

    django.setup()


def make_jpeg(size: tuple[int, int], path: Path) -> None:
    """A phone-like photo: smooth gradients with sensor-like noise, orientation 6, GPS."""
    from PIL import Image

    width, height = size
    red = Image.linear_gradient("L").resize(size)
    green = Image.effect_noise((width // 3, height // 3), 48).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    image = Image.merge("RGB", (red, green, blue))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.0)})
    exif.get_ifd(0x8769)[36867] = "2026:03:04 10:11:12"
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())


def _derivatives(data: bytes, draft: bool) -> None:
    """Screen copy and thumbnail only (the helpers process_photo uses)."""
    from cases import imaging

    if draft:
        screen = imaging._decode(data, "bench", "JPEG", imaging.SCREEN_BOX, 6, None)
    else:
        screen = imaging._shrunk(imaging._decode(data, "bench", "JPEG", None, 6, None), imaging.SCREEN_BOX)
    thumbnail = imaging._shrunk(screen, imaging.THUMBNAIL_BOX)
    imaging._encode(screen, imaging.QUALITY["screen"])
    imaging._encode(thumbnail, imaging.QUALITY["thumbnail"])


def _peak_rss_kib() -> int:
    """Peak resident memory of this process so far (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> None:
    """Start the high-water mark from the current size (Linux: clear_refs 5), if possible."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def measure(path: str, pipeline: str, draft: bool, repeat: int) -> dict:
    """Run in the subprocess: best wall and CPU time of `repeat` runs, peak memory growth."""
    _django()
    from cases.imaging import process_photo

    data = Path(path).read_bytes()
    _reset_peak()
    baseline_kib = _peak_rss_kib()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        if pipeline == "whole upload":
            result = process_photo(io.BytesIO(data), name="bench.jpg", draft=draft)
            del result
        else:
            _derivatives(data, draft)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "wall_ms": min(walls) * 1000,
        "cpu_ms": min(cpus) * 1000,
        "peak_mib": (_peak_rss_kib() - baseline_kib) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", nargs=3, metavar=("PATH", "PIPELINE", "DRAFT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        path, pipeline, draft = args.measure
        print(json.dumps(measure(path, pipeline, draft == "draft", args.repeat)))
        return

    _django()
    import PIL

    print(f"Pillow {PIL.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; best of {args.repeat}")
    print(f"{'photo':<7} {'pipeline':<17} {'decoding':<10} {'wall ms':>8} {'CPU ms':>7} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for label, size in SIZES.items():
            path = Path(folder) / f"{label.replace(' ', '')}.jpg"
            make_jpeg(size, path)
            print(f"{label:<7} {size[0]}×{size[1]} JPEG, {path.stat().st_size / 2**20:.1f} MiB")
            for pipeline in ("whole upload", "derivatives only"):
                for draft in (True, False):
                    command = [
                        sys.executable,
                        __file__,
                        "--repeat",
                        str(args.repeat),
                        "--measure",
                        str(path),
                        pipeline,
                        "draft" if draft else "full",
                    ]
                    result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
                    decoding = "draft" if draft else "full size"
                    print(
                        f"{'':<7} {pipeline:<17} {decoding:<10} {result['wall_ms']:>8.0f} "
                        f"{result['cpu_ms']:>7.0f} {result['peak_mib']:>9.0f}"
                    )


if __name__ == "__main__":
    main()
