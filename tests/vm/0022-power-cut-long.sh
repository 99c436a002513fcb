#!/bin/bash
# The power cuts of 0021, 500 of them (on the debug kernel, which runs
# about four times slower, 500 / DYNSNAP_SLOWDOWN): the long mode of the
# crash test, in the full tier only.
# vm-tier: full
# vm-timeout: 14400
export DYNSNAP_CUTS=$((500 / ${DYNSNAP_SLOWDOWN:-1}))
exec bash "$(dirname "$0")/0021-power-cut.sh"
