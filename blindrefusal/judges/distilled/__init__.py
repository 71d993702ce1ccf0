"""The distilled judge: an offline classifier trained on the paper's GPT-5.4 labels, free and fast.

- `features`: text preparation and TF-IDF blocks, shared by training and inference (numpy only).
- `model`: the shipped weights (data/distilled_judge.npz) and the `DistilledJudge` that uses them.
- `data`: the release's answers with GPT-5.4's labels, and the case-hash train/test split.
- `train` (needs scikit-learn), `evaluate` (held-out agreement, injection flips), `lomo` (leave one model out).
- `measured`: reads what those wrote into data/, for the pages and the spot-check."""
