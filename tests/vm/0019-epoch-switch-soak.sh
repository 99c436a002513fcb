#!/bin/bash
# The epoch switch race of 0015 for longer: thousands of snapshots taken
# back to back under the writers (up to 3000 per level, as many as 15
# minutes a level allow). A soak test: the full tier only.
# vm-tier: full
# vm-timeout: 2400
export DSN_RACE_BATCHES=20 DSN_RACE_BUDGET=900
exec bash "$(dirname "$0")/0015-epoch-switch-race.sh"
