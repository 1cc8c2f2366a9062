"""Training the project's own models (stance, check-worthiness, verdict head) from the public data
sets. Used by scripts only: no runtime module imports it. Extra dependencies: the `train` extra."""
