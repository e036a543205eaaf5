"""What the CFA reference code's preprocessing computes on a few small images, for packages/data:
Pillow's Lanczos resize (`T.Resize(n, Image.ANTIALIAS)`) of RGB images, its bilinear one
(`T.Resize(n)`'s default, what the PatchCore and CRAD reference codes read), and its nearest resize of
masks (`T.Resize(n, Image.NEAREST)`), via torchvision's Resize with an int size (the short side;
the long side int(n · long / short)) and CenterCrop.

    /usr/bin/python3 pil_fixtures.py <out.json>
"""
import json
import sys

import numpy as np
import torchvision.transforms as T
from PIL import Image

rng = np.random.default_rng(3)
cases = []
for (h, w, short, crop) in [(29, 37, 16, None), (64, 64, 24, 20), (40, 60, 32, 28), (90, 30, 45, 30), (12, 12, 30, None)]:
    # smooth content plus noise, so both over- and undershoot of the Lanczos lobes get clipped
    yy, xx = np.mgrid[0:h, 0:w]
    base = 127 + 120 * np.sin(xx / 3.0)[..., None] * np.cos(yy / 4.0)[..., None] * np.array([1, -0.5, 0.8])
    rgb = np.clip(base + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)
    mask = ((xx - w / 2) ** 2 + (yy - h / 3) ** 2 < (min(h, w) / 4) ** 2).astype(np.uint8) * 255
    image_t = [T.Resize(short, Image.ANTIALIAS)] + ([T.CenterCrop(crop)] if crop else [])
    mask_t = [T.Resize(short, Image.NEAREST)] + ([T.CenterCrop(crop)] if crop else [])
    bilinear_t = [T.Resize(short, Image.BILINEAR)] + ([T.CenterCrop(crop)] if crop else [])
    out = np.asarray(T.Compose(image_t)(Image.fromarray(rgb)))
    out_bilinear = np.asarray(T.Compose(bilinear_t)(Image.fromarray(rgb)))
    out_mask = np.asarray(T.Compose(mask_t)(Image.fromarray(mask)))
    cases.append({
        "height": h, "width": w, "short": short, "crop": crop,
        "image": rgb.flatten().tolist(), "mask": mask.flatten().tolist(),
        "outHeight": out.shape[0], "outWidth": out.shape[1],
        "out": out.flatten().tolist(), "outBilinear": out_bilinear.flatten().tolist(), "outMask": out_mask.flatten().tolist(),
    })
json.dump({"generator": "tools/torch-reference/pil_fixtures.py", "cases": cases}, open(sys.argv[1], "w"))
print(f"wrote {sys.argv[1]}: " + ", ".join(f"{c['height']}x{c['width']} -> {c['outHeight']}x{c['outWidth']}" for c in cases))
