"""PyTorch's F.grid_sample (bilinear) and F.affine_grid on seeded inputs, with their gradients by
autograd: the fixture that @cfa/tensor-runtime's grid-sample.spec.ts and affine-grid.spec.ts check
the typed-array, TensorFlow.js and ONNX Runtime versions against (tiny shapes, JSON).

Usage: python3 grid_sample_reference.py OUT.json
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F


def grid_case(seed, n, c, h, w, ho, wo, padding, align_corners):
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((n, c, h, w)).astype(np.float32), requires_grad=True)
    # a little past [-1, 1] so that taps fall outside (zeros) and get clamped (border)
    grid = torch.tensor(rng.uniform(-1.2, 1.2, (n, ho, wo, 2)).astype(np.float32), requires_grad=True)
    g_out = torch.tensor(rng.standard_normal((n, c, ho, wo)).astype(np.float32))
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=align_corners)
    (y * g_out).sum().backward()
    nhwc = lambda t: t.detach().permute(0, 2, 3, 1).contiguous().numpy().ravel().tolist()
    return {
        "name": f"grid_sample n={n} c={c} {h}x{w}->{ho}x{wo} padding={padding} align_corners={align_corners}",
        "inputShape": [n, h, w, c],
        "gridShape": [n, ho, wo],
        "padding": padding,
        "alignCorners": align_corners,
        "input": nhwc(x),
        "grid": grid.detach().numpy().ravel().tolist(),
        "gradOutput": nhwc(g_out),
        "output": nhwc(y),
        "gradInput": nhwc(x.grad),
        "gradGrid": grid.grad.numpy().ravel().tolist(),
    }


def affine_case(seed, n, h, w, align_corners):
    rng = np.random.default_rng(seed)
    theta = torch.tensor(rng.standard_normal((n, 2, 3)).astype(np.float32), requires_grad=True)
    g_out = torch.tensor(rng.standard_normal((n, h, w, 2)).astype(np.float32))
    grid = F.affine_grid(theta, [n, 1, h, w], align_corners=align_corners)
    (grid * g_out).sum().backward()
    return {
        "name": f"affine_grid n={n} {h}x{w} align_corners={align_corners}",
        "count": n,
        "height": h,
        "width": w,
        "alignCorners": align_corners,
        "theta": theta.detach().numpy().ravel().tolist(),
        "gradGrid": g_out.numpy().ravel().tolist(),
        "grid": grid.detach().numpy().ravel().tolist(),
        "gradTheta": theta.grad.numpy().ravel().tolist(),
    }


def main(out):
    torch.set_grad_enabled(True)
    cases = {
        "torch": torch.__version__,
        "gridSample": [
            grid_case(1, 2, 3, 5, 6, 4, 7, "zeros", False),
            grid_case(2, 2, 3, 5, 6, 4, 7, "zeros", True),
            grid_case(3, 2, 3, 5, 6, 4, 7, "border", False),
            grid_case(4, 1, 4, 7, 4, 3, 3, "border", True),
        ],
        "affineGrid": [affine_case(5, 2, 4, 5, False), affine_case(6, 2, 3, 3, True)],
    }
    with open(out, "w") as f:
        json.dump(cases, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
