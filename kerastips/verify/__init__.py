"""`kerastips verify`: train a script as written and with kerastips' fixes, each variant in its own
process on a small seeded budget through a real distribution engine, and report whether each fix
helped.

    runner      (parent process) the variants, one subprocess per (variant, seed), timeouts
    shim        (child process) `python -m kerastips.verify.shim JOB.json OUT.json`
    strategies  tf.distribute / keras.distribution engines
    diagnostics training symptoms (SymptomMonitor, symptoms_from_history)
    report      summary, verdicts, table, JSON, plot, progress

Importing this package (or `runner`, `strategies`) imports no framework: TensorFlow, Keras, JAX
and torch are only imported inside the shim's process.
"""

# The keys of the record the shim writes for one (variant, seed) run; the runner adds "log".
RECORD_KEYS = (
    "variant", "seed", "status", "error", "backend", "strategy", "history", "epochs",
    "wall_time_s", "fit_time_s", "samples_per_s", "diagnostics", "validation", "evaluation",
)
STATUSES = ("ok", "error", "timeout", "no-fit")
ORIGINAL = "original"  # the variant that runs the script as written
