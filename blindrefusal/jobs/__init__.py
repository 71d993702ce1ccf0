"""Long jobs (spot-checks, generation runs, re-judging): started by a page, run in a web server's thread or on
a worker, shown from the store by any replica. `control` is the interface, `kinds` the table of what a job can
be, `threads` and `worker` the two executors."""
