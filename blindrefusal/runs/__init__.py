"""Runs: stage 4 of the pipeline. A scenario (`scenario`) sent to several models at once, each answer judged as it
lands and stored as one run (`live`); the defeated scenario beside its control twin (`contrast`); stored
answers judged again (`rejudge`); what a run records (`records`), shared with the spot-checks; background
jobs for the pages (`jobs`) and the History page's actions (`history`)."""
