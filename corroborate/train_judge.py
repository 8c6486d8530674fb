"""``python -m corroborate.train_judge`` keeps working: the trainer lives in :mod:`corroborate.training.train_judge`."""

from corroborate.training.train_judge import main

if __name__ == "__main__":
    raise SystemExit(main())
