#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# ko.sh: install ko into the cluster's cache if it is not there (build.sh
# ko), then print its path. `make unit` runs the image test with it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
"$here/build.sh" ko >&2
echo "$KO"
