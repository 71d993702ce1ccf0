"""The paper's release: stage 1 of the pipeline. Reads the authors' public data (a directory, a .zip or a URL)
and hands the rest of the pipeline typed cases, responses and GPT-5.4's labels, stored in one transaction.

- `source`: where a release comes from, and its files. `release`: parsing into records, naming the bad file.
- `taxonomy`: families, subtypes and authority types, and the table that maps free-text subtypes to keys.
- `importer`: `import-paper`, idempotent and atomic. `sampler`: stratified samples of the cases.
- `control_twins`: the control cases of the same authority, and the paper's answers to one case."""
