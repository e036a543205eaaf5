"""Parity fixtures computed by the PatchCore reference code's own modules (patchcore_code.py imports
them from a snapshot outside this repository), on seeded random-init torchvision backbones:

  resnet18 (pipeline): `PatchCore._embed` of the train and test images (locally aware patch
    features: NetworkFeatureAggregator, PatchMaker.patchify, the upsampling of layer3, Preprocessing
    / MeanMapper, Aggregator); `PatchCore.fit` with its ApproximateGreedyCoresetSampler (the indices
    it selects); `NearestNeighbourScorer.predict` (nearest squared distances, patch scores, and
    again with 3 neighbours); `PatchCore._predict` (RescaleSegmentor maps, image scores).
  wide_resnet50_2 (features): `PatchCore._embed` at the authors' default dimensions (1024 > 1024).

The inputs come from make-patchcore-inputs.ts (regenerable from the settings the fixtures carry).
The only things this driver sets are inputs: the backbone's state dict, the images, and the
sampler's two random draws — its projection (the weight of the `torch.nn.Linear(D, 128)` that
`GreedyCoresetSampler._reduce_features` creates, set by wrapping Linear's constructor while the
sampler runs) and its starting points (`np.random.choice` inside the sampler, answered with ours)
— both generated on our side from the seed, so the coreset indices can be compared exactly.

    PATCHCORE_OFFICIAL_DIR=... /usr/bin/python3 patchcore_fixtures.py <inputs dir> <out dir>

Exits 3 when the greedy selection has a near-tie (two candidates within MIN_TIE_MARGIN relative):
float rounding could then pick either, and make-patchcore-fixtures.sh tries the next seed.
"""
import contextlib
import json
import os
import sys

import numpy as np
import torch
import torchvision

import st_io
from patchcore_code import load_patchcore

MIN_TIE_MARGIN = 1e-4
torch.set_num_threads(1)

UNUSED = ("layer4.", "fc.")  # after the taps: in the torchvision model, not in our weights


def torchvision_backbone(name, inputs):
    model = {"resnet18": torchvision.models.resnet18, "wide_resnet50_2": torchvision.models.wide_resnet50_2}[name](weights=None)
    state = {k[len("backbone."):]: torch.from_numpy(v) for k, v in inputs.items() if k.startswith("backbone.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, f"keys torchvision's {name} does not have: {unexpected[:5]}"
    stray = [k for k in missing if not k.startswith(UNUSED)]
    assert not stray, f"torchvision parameters our weights lack: {stray[:5]}"
    return model.eval()


def nchw(images):
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


@contextlib.contextmanager
def injected_draws(ref, projection, start_points):
    """While active, the sampler's projection Linear gets `projection` as its weight and its
    `np.random.choice` of starting points returns `start_points`; both are checked to be what the
    sampler asks for (shape, count, no replacement)."""
    original_init = torch.nn.Linear.__init__
    original_choice = ref.sampler.np.random.choice

    def init(linear, in_features, out_features, bias=True, *args, **kwargs):
        original_init(linear, in_features, out_features, bias, *args, **kwargs)
        assert (out_features, in_features) == projection.shape and not bias, ((out_features, in_features), projection.shape, bias)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(projection))

    def choice(n, size, replace=True):
        assert not replace and size == len(start_points) and max(start_points) < n, (n, size, replace)
        return np.array(start_points)

    torch.nn.Linear.__init__ = init
    ref.sampler.np.random.choice = choice
    try:
        yield
    finally:
        torch.nn.Linear.__init__ = original_init
        ref.sampler.np.random.choice = original_choice


@contextlib.contextmanager
def recorded_indices(sampler):
    """The indices the sampler's greedy search returns (observed, not changed)."""
    seen = []
    original = sampler._compute_greedy_coreset_indices

    def record(features):
        out = original(features)
        seen.append(np.asarray(out))
        return out

    sampler._compute_greedy_coreset_indices = record
    try:
        yield seen
    finally:
        sampler._compute_greedy_coreset_indices = original


def greedy_tie_margin(projected, start_points, size):
    """The smallest relative gap between the chosen and the runner-up candidate over the greedy
    selection, recomputed in float64 from the projected features (our check, not the reference's code)."""
    x = projected.astype(np.float64)
    dist = lambda j: np.sqrt(((x - x[j]) ** 2).sum(1))  # noqa: E731
    value = np.mean([dist(j) for j in start_points], axis=0)
    margin = np.inf
    for _ in range(size):
        order = np.argsort(-value, kind="stable")
        top, second = value[order[0]], value[order[1]]
        margin = min(margin, (top - second) / max(abs(top), 1e-12))
        value = np.minimum(value, dist(order[0]))
    return margin


def patchcore_instance(ref, model, s, sampler=None):
    device = torch.device("cpu")
    instance = ref.patchcore.PatchCore(device)
    instance.load(
        backbone=model,
        layers_to_extract_from=s["layers"],
        device=device,
        input_shape=(3, s["inputSize"], s["inputSize"]),
        pretrain_embed_dimension=s["embedding"]["preDim"],
        target_embed_dimension=s["embedding"]["targetDim"],
        patchsize=s["embedding"]["patchSize"],
        featuresampler=sampler or ref.sampler.IdentitySampler(),
        anomaly_scorer_num_nn=s.get("neighbours", 1),
        nn_method=ref.common.FaissNN(False, 1),
    )
    return instance


def embed(instance, images):
    with torch.no_grad():
        return np.asarray(instance._embed(nchw(images)), dtype=np.float32)


def write(path, out, s, meta, ref):
    st_io.write(path, out, {"settings": json.dumps(s), "inputsSha256": meta["inputsSha256"], "commit": ref.commit, "patches": json.dumps(ref.patches), "torch": torch.__version__, "generator": "tools/torch-reference/patchcore_fixtures.py"})
    print(f"wrote {path}: " + ", ".join(f"{k} {list(np.asarray(v).shape)}" for k, v in sorted(out.items())))


def pipeline_fixture(ref, inputs, meta, s, out_dir):
    model = torchvision_backbone(s["backbone"], inputs)
    device = torch.device("cpu")
    sampler = ref.sampler.ApproximateGreedyCoresetSampler(s["fraction"], device)
    instance = patchcore_instance(ref, model, s, sampler)
    assert instance.anomaly_segmentor.smoothing == s["sigma"], instance.anomaly_segmentor.smoothing
    train, test = inputs["images.train"], inputs["images.test"]
    out = {"features.train": embed(instance, train), "features.test": embed(instance, test)}
    projection = inputs["coreset.projection"]
    start_points = inputs["coreset.startPoints"].astype(np.int64).tolist()
    with injected_draws(ref, projection, start_points), recorded_indices(sampler) as seen:
        instance.fit([nchw(train)])  # one batch, as a DataLoader yields it
    (indices,) = seen
    out["coreset.indices"] = indices.astype(np.int64)
    margin = greedy_tie_margin(out["features.train"] @ projection.T, start_points, len(indices))
    with torch.no_grad():
        scores, distances, nearest = instance.anomaly_scorer.predict([out["features.test"]])
        out["nearest.distances"] = distances.astype(np.float32)
        out["patch_scores"] = scores.astype(np.float32)
        image_scores, maps = instance._predict(nchw(test))
    out["image_scores"] = np.asarray(image_scores, dtype=np.float32)
    out["maps"] = np.stack(maps).astype(np.float32)
    # the same bank scored with 3 neighbours (the mean of the 3 nearest squared distances)
    k3 = ref.common.NearestNeighbourScorer(n_nearest_neighbours=3, nn_method=ref.common.FaissNN(False, 1))
    k3.fit(detection_features=[out["features.train"][indices]])
    out["patch_scores.k3"] = k3.predict([out["features.test"]])[0].astype(np.float32)
    out["tie_margin"] = np.array([margin], dtype=np.float32)
    if margin < MIN_TIE_MARGIN:
        print(f"near-tie in the greedy selection (relative gap {margin:.2e} < {MIN_TIE_MARGIN}): try another seed", file=sys.stderr)
        sys.exit(3)
    write(os.path.join(out_dir, f"{s['backbone']}.pipeline.safetensors"), out, s, meta, ref)


def features_fixture(ref, inputs, meta, s, out_dir):
    instance = patchcore_instance(ref, torchvision_backbone(s["backbone"], inputs), s)
    write(os.path.join(out_dir, f"{s['backbone']}.features.safetensors"), {"features.train": embed(instance, inputs["images.train"])}, s, meta, ref)


def main(inputs_dir, out_dir):
    ref = load_patchcore()
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(os.listdir(inputs_dir)):
        if not name.endswith(".inputs.safetensors"):
            continue
        inputs, meta = st_io.read(os.path.join(inputs_dir, name))
        s = json.loads(meta["settings"])
        (pipeline_fixture if s.get("fraction") is not None else features_fixture)(ref, inputs, meta, s, out_dir)


if __name__ == "__main__":
    main(*sys.argv[1:3])
