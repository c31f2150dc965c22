#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# e2e-oldest.sh: the catalog's tekton.dev/pipelines.minVersion as a tested
# fact. A cluster of its own on the oldest Tekton Pipelines and Triggers the
# catalog claims (TEKTON_OLDEST, TRIGGERS_OLDEST in test/cluster/lib.sh)
# runs the seed's two PipelineRuns, the failing runs and one trigger test,
# then is taken down, so that the next make e2e brings up the newest.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
. ./test/cluster/lib.sh
export AUTOX_TEKTON_VERSION=$TEKTON_OLDEST AUTOX_TRIGGERS_VERSION=$TRIGGERS_OLDEST
export AUTOX_E2E_RUN=${AUTOX_E2E_RUN:-'^(TestPipelineRunSeedExperiments|TestPipelineRunFails|TestTriggerSeedHTTP|TestCatalogTests|TestWorkers)$'}
start=$SECONDS
echo "e2e-oldest: Tekton Pipelines $TEKTON_OLDEST, Triggers $TRIGGERS_OLDEST: $AUTOX_E2E_RUN"
./test/e2e.sh
rc=$?
./test/cluster/down.sh || rc=1
echo "e2e-oldest: status $rc in $((SECONDS - start))s"
exit "$rc"
