"""One check for the three reference snapshots (official_code.py, patchcore_code.py, padim_code.py):
a checkout outside this repository is used only if every file we import has the sha256 it has at
the pinned commit."""
import hashlib
import os


def check_snapshot(root, files, commit, label):
    """Raises SystemExit naming every file of `files` (relative path → sha256) missing under `root`
    or differing from `commit`; `label` names the variable and the code (e.g. 'CFA_OFFICIAL_DIR=… is
    not the reference code')."""
    bad = []
    for rel, digest in files.items():
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            bad.append(f"{rel} is missing")
            continue
        with open(path, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != digest:
                bad.append(f"{rel} differs from commit {commit[:12]}")
    if bad:
        raise SystemExit(f"{label} at {commit[:12]}: " + "; ".join(bad))
